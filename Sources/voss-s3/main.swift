import VossS3Gateway
import VossWorkerKit

await WorkerRuntime.main(name: "s3", app: S3Worker())
