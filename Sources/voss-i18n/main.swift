import VossI18nServer
import VossWorkerKit

await WorkerRuntime.main(name: "i18n", app: I18nWorker())
