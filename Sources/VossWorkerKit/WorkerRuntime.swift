import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VossBase
import VossIPC
import VossPosix
import VossWire

/// What a worker process does; `WorkerRuntime` does the rest (IPC, health, signals, lifecycle).
public protocol WorkerApp: Sendable {
    /// Starts serving on the inherited listening sockets; returns the addresses it serves (for `ready`).
    func start(_ context: WorkerContext) async throws -> [String]
    /// Applies a new configuration slice without restarting, or throws if it cannot.
    func reload(_ config: ConfigSlice) async throws
    /// Stops accepting new work and lets work in flight finish within `grace`.
    func drain(grace: Duration) async
    /// Counters for the keeper's `pong` (requests, connections, errors, …).
    func counters() -> [String: Int64]
}

public struct WorkerContext: Sendable {
    public var name: String
    public var config: ConfigSlice
    /// Listening sockets by name (`http`, `https`, `unix`), already bound by the keeper.
    public var listeners: [String: Int32]
    public var group: any EventLoopGroup
    public var logger: Logger
    /// Sends a `status` line for `ose service show`.
    public var reportStatus: @Sendable (String) -> Void
}

/// Runs a worker process under the keeper (DESIGN.md §1–2), or standalone for development.
///
/// Under the keeper the environment carries `VOSS_IPC_FD`, `VOSS_LISTEN_FDS` (`name=fd,…`),
/// `VOSS_KEEPER_PID` and `VOSS_LOG_DIR`. Standalone (no `VOSS_IPC_FD`):
/// `--listen NAME=HOST:PORT`, `--listen NAME=unix:PATH`, `--set KEY=VALUE` (repeatable).
public enum WorkerRuntime {
    public static func main(name: String, app: any WorkerApp) async -> Never {
        let env = ProcessInfo.processInfo.environment
        guard let ipcText = env["VOSS_IPC_FD"], let ipcFD = Int32(ipcText) else {
            await standalone(name: name, app: app, arguments: Array(CommandLine.arguments.dropFirst()))
        }
        // Die with the keeper, and do not start at all if it is already gone.
        if !Processes.dieWithParent(expectedParent: env["VOSS_KEEPER_PID"].flatMap { Int32($0) }) {
            exit(70)
        }
        VossLogging.bootstrap(name: name, logDirectory: env["VOSS_LOG_DIR"])
        var logger = Logger(label: "voss.\(name)")
        logger[metadataKey: "pid"] = "\(getpid())"
        let listeners = parseListenFDs(env["VOSS_LISTEN_FDS"] ?? "")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: workerThreads(env))
        do {
            let ipc = try await IPCConnection.adopt(fd: ipcFD, group: group)
            let runtime = Runtime(name: name, app: app, ipc: ipc, group: group, logger: logger, listeners: listeners)
            await runtime.run()
        } catch {
            logger.critical("cannot open the IPC socket: \(error)")
            exit(71)
        }
    }

    /// Event loops: one per CPU this process may use — NIO's count (cgroup quota and cpuset) capped
    /// by the affinity mask (taskset, systemd's `CPUAffinity=`), which NIO does not read. Two loops
    /// time-sharing one CPU only add context switches. `VOSS_THREADS` overrides.
    static func workerThreads(_ env: [String: String]) -> Int {
        if let t = env["VOSS_THREADS"].flatMap(Int.init), t > 0 { return min(t, 64) }
        return max(1, min(System.coreCount, affinityCPUCount() ?? System.coreCount))
    }

    static func parseListenFDs(_ s: String) -> [String: Int32] {
        var out: [String: Int32] = [:]
        for part in s.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let fd = Int32(kv[1]) { out[String(kv[0])] = fd }
        }
        return out
    }

    /// Development mode: bind the listeners named on the command line and run without a keeper.
    static func standalone(name: String, app: any WorkerApp, arguments: [String]) async -> Never {
        VossLogging.bootstrap(name: name, logDirectory: nil)
        let logger = Logger(label: "voss.\(name)")
        var listeners: [String: Int32] = [:]
        var values: [String: String] = [:]
        var i = 0
        func fail(_ text: String) -> Never {
            FileHandle.standardError.write(Data("\(name): \(text)\n".utf8))
            exit(2)
        }
        while i < arguments.count {
            let arg = arguments[i]
            guard i + 1 < arguments.count else {
                if arg == "-h" || arg == "--help" {
                    print(
                        "usage: \(name) --listen NAME=HOST:PORT | NAME=unix:PATH ... [--set KEY=VALUE ...]\n"
                            + "Runs without the keeper, for development. Under the keeper, workers take their sockets "
                            + "and configuration from it.")
                    exit(0)
                }
                fail("\(arg) needs a value")
            }
            let value = arguments[i + 1]
            let kv = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { fail("expected NAME=VALUE after \(arg)") }
            switch arg {
            case "--listen":
                do {
                    if kv[1].hasPrefix("unix:") {
                        listeners[kv[0]] = try Sockets.listenUnix(path: String(kv[1].dropFirst(5)))
                    } else {
                        guard let colon = kv[1].lastIndex(of: ":"), let port = Int(kv[1][kv[1].index(after: colon)...])
                        else { fail("expected HOST:PORT in \(value)") }
                        listeners[kv[0]] = try Sockets.listenTCP(address: String(kv[1][..<colon]), port: port)
                    }
                } catch {
                    fail("\(error)")
                }
            case "--set":
                values[kv[0]] = kv[1]
            default:
                fail("unknown option \(arg)")
            }
            i += 2
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: workerThreads(ProcessInfo.processInfo.environment))
        let context = WorkerContext(
            name: name, config: ConfigSlice(version: "standalone", values: values), listeners: listeners,
            group: group, logger: logger, reportStatus: { logger.info("status: \($0)") })
        do {
            let addresses = try await app.start(context)
            logger.info("serving on \(addresses.joined(separator: ", ")) (standalone)")
        } catch {
            fail("cannot start: \(error)")
        }
        let done = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let signals = SignalWatcher([SIGTERM, SIGINT]) { _ in
            done.withLock { $0?.resume(); $0 = nil }
        }
        await withCheckedContinuation { c in done.withLock { $0 = c } }
        signals.cancel()
        await app.drain(grace: .seconds(5))
        exit(0)
    }
}

/// The worker's side of the IPC protocol.
actor Runtime {
    let name: String
    let app: any WorkerApp
    let ipc: IPCConnection
    let group: any EventLoopGroup
    let logger: Logger
    let listeners: [String: Int32]
    var stopping = false
    var signals: SignalWatcher?

    init(
        name: String, app: any WorkerApp, ipc: IPCConnection, group: any EventLoopGroup, logger: Logger,
        listeners: [String: Int32]
    ) {
        self.name = name
        self.app = app
        self.ipc = ipc
        self.group = group
        self.logger = logger
        self.listeners = listeners
    }

    func run() async -> Never {
        signals = SignalWatcher([SIGTERM, SIGINT]) { [weak self] sig in
            guard let self else { return }
            Task { await self.stop(grace: .seconds(10), why: "SIGTERM") }
        }
        ipc.post(
            .hello(
                Hello(
                    name: name, pid: getpid(), version: VossVersion.current,
                    protocolVersion: VossVersion.ipcProtocol)))
        var iterator = ipc.messages.makeAsyncIterator()
        // The first message from the keeper is the configuration.
        guard let first = await iterator.next() else { exitNow(0, "keeper closed the IPC socket before configuring") }
        guard case .config(let config) = first.message else {
            exitNow(72, "expected config from the keeper, got \(first.message.type)")
        }
        if let level = config.values["log.level"].flatMap(VossLogging.parseLevel) { VossLogging.setLevel(level) }
        let ipc = self.ipc
        let context = WorkerContext(
            name: name, config: config, listeners: listeners, group: group, logger: logger,
            reportStatus: { ipc.post(.status($0)) })
        do {
            let addresses = try await app.start(context)
            ipc.post(.ready(Ready(addresses: addresses)))
            logger.info("ready", metadata: ["addresses": "\(addresses.joined(separator: ","))"])
        } catch {
            exitNow(73, "cannot start: \(error)")
        }
        while let envelope = await iterator.next() {
            await handle(envelope.message)
        }
        // EOF: the keeper is gone (PDEATHSIG will follow if it died); leave without draining long.
        if !stopping { exitNow(0, "keeper closed the IPC socket; exiting") }
        // A stop is in progress; it will exit.
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    func handle(_ message: WorkerMessage) async {
        switch message {
        case .ping(let seq):
            // Answer only after every event loop ran a task: a wedged loop means no pong.
            let group = self.group
            let app = self.app
            let ipc = self.ipc
            Task {
                for loop in group.makeIterator() {
                    try? await loop.submit {}.get()
                }
                ipc.post(.pong(Pong(seq: seq, counters: app.counters())))
            }
        case .reload(let config):
            if let level = config.values["log.level"].flatMap(VossLogging.parseLevel) { VossLogging.setLevel(level) }
            do {
                try await app.reload(config)
                ipc.post(.reloaded(version: config.version, error: nil))
            } catch {
                ipc.post(.reloaded(version: config.version, error: "\(error)"))
            }
        case .logLevel(let l):
            if let level = VossLogging.parseLevel(l) {
                VossLogging.setLevel(level)
                logger.notice("log level is now \(level)")
            }
        case .drain(let ms):
            await app.drain(grace: .milliseconds(ms))
        case .stop(let ms):
            await stop(grace: .milliseconds(ms), why: "stop requested by the keeper")
        case .config, .hello, .ready, .pong, .status, .reloaded:
            break
        }
    }

    func stop(grace: Duration, why: String) async {
        guard !stopping else { return }
        stopping = true
        logger.info("stopping: \(why); draining for up to \(grace)")
        await app.drain(grace: grace)
        exitNow(0, "stopped")
    }

    nonisolated func exitNow(_ code: Int32, _ why: String) -> Never {
        logger.log(level: code == 0 ? .info : .error, "\(why)")
        exit(code)
    }
}

/// Why a worker could not start (it exits; the keeper records the reason and restarts it).
public struct WorkerStartError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
