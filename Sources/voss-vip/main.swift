import VossVIPServer
import VossWorkerKit

await WorkerRuntime.main(name: "vip", app: VIPWorker())
