// A worker for the supervisor's integration tests and `make bench`: it serves HTTP on the listener
// the keeper passes as `http` and can be told to crash or hang.
//
//   GET /health          200 "ok <pid>"
//   GET /crash?code=N    exits with status N at once
//   GET /abort           dies of SIGABRT
//   GET /hang            wedges every event loop (pings go unanswered)
//   GET /slow?ms=N       answers after N ms (for drain tests)
//
// Flags (from the node file's worker `arguments`): `--fail-start` exits 1 before ready;
// `--never-ready` never says ready.
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VossHTTP
import VossWorkerKit
import VossWire

final class TestWorker: WorkerApp {
    let failStart = CommandLine.arguments.contains("--fail-start")
    let neverReady = CommandLine.arguments.contains("--never-ready")
    let server = Mutex<HTTPServer?>(nil)

    func start(_ context: WorkerContext) async throws -> [String] {
        if failStart {
            context.logger.error("--fail-start: exiting before ready")
            exit(1)
        }
        if neverReady {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        let group = context.group
        let http = HTTPServer(group: group) { request in
            switch request.path {
            case "/health":
                return .text("ok \(getpid())\n")
            case "/crash":
                exit(Int32(request.query["code"] ?? "3") ?? 3)
            case "/abort":
                abort()
            case "/hang":
                for loop in group.makeIterator() {
                    loop.execute { while true { sleep(3600) } }
                }
                return .text("hanging\n")
            case "/slow":
                let ms = Int64(request.query["ms"] ?? "1000") ?? 1000
                try? await Task.sleep(for: .milliseconds(ms))
                return .text("slow done\n")
            default:
                return .text("not found\n", status: .notFound)
            }
        }
        server.withLock { $0 = http }
        var addresses: [String] = []
        if let fd = context.listeners["http"] { addresses.append(try await http.serve(boundSocket: fd)) }
        context.reportStatus("serving test endpoints")
        return addresses
    }

    func reload(_ config: ConfigSlice) async throws {}

    func drain(grace: Duration) async {
        if let s = server.withLock({ $0 }) { await s.drain(grace: grace) }
    }

    func counters() -> [String: Int64] { server.withLock { $0?.counters.snapshot } ?? [:] }
}

await WorkerRuntime.main(name: "test", app: TestWorker())
