import Foundation
import Logging
import NIOCore
import VossBase
import VossConfig
import VossIPC
import VossPosix
import VossSupervision
import VossSystemd
import VossWire

/// The keeper's supervision shell: it owns the workers' processes, listening sockets and IPC
/// connections and carries out what each `WorkerLifecycle` decides. It makes no decisions itself.
public actor Supervisor {
    struct Managed {
        var definition: NodeConfig.Worker
        var lifecycle: WorkerLifecycle
        var listenerFDs: [Int32] = []
        /// The TCP listeners were paused (refusing connections) while the worker is FAILED.
        var listenersPaused = false
        var ipc: IPCConnection?
        var status: String?
        var counters: [String: Int64] = [:]
        var startedWall: Date?
        var lastExitWall: Date?
        var addresses: [String] = []
        var sentSliceVersion: String?
    }

    private var workers: [String: Managed] = [:]
    private let order: [String]
    private let node: NodeConfig
    private var document: ConfigDocument
    private var state: NodeState
    private let spawner = Spawner()
    private let group: any EventLoopGroup
    private let notifier: SystemdNotifier
    private let watchdog: WatchdogPolicy?
    private let logger = Logger(label: "voss.supervisor")
    private let origin = ContinuousClock.now
    /// Per-worker values the keeper adds to the configuration slice (derived keys).
    private var extraSlices: [String: [String: String]]
    private var readySent = false
    private var lastStatusText = ""
    private var nextPetAt: Instant = .zero
    /// `shutdown` waiting for a worker to be down (woken by `apply`).
    private var downWaiters: [String: [CheckedContinuation<Bool, Never>]] = [:]
    /// When the supervision loop last completed an iteration (the watchdog's measure of health).
    private var lastIterationAt: Instant = .zero
    private var shuttingDown = false
    private var loopRunning = false

    public init(
        node: NodeConfig, document: ConfigDocument, state: NodeState, group: any EventLoopGroup,
        notifier: SystemdNotifier, watchdog: WatchdogPolicy?, extraSlices: [String: [String: String]] = [:]
    ) {
        self.extraSlices = extraSlices
        self.node = node
        self.document = document
        self.state = state
        self.group = group
        self.notifier = notifier
        self.watchdog = watchdog
        let enabled = node.workers.filter(\.enabled)
        order = enabled.map(\.name)
        let settings = VossSettings(document)
        for def in enabled {
            workers[def.name] = Managed(
                definition: def, lifecycle: WorkerLifecycle(spec: Self.spec(for: def, settings.supervision),
                                                            seed: UInt64.random(in: 0...UInt64.max)))
        }
    }

    static func spec(for def: NodeConfig.Worker, _ s: VossSettings.Supervision) -> ChildSpec {
        ChildSpec(
            name: def.name, restart: RestartPolicy(rawValue: def.restart ?? "permanent") ?? .permanent,
            stopTimeout: s.stopTimeout, pingInterval: s.pingInterval, missedPongLimit: s.missedPongs,
            readyTimeout: s.readyTimeout, maxRestarts: s.maxRestarts, restartPeriod: s.restartPeriod,
            failedRetryAfter: s.failedRetryAfter == .zero ? nil : s.failedRetryAfter)
    }

    func now() -> Instant { Instant(nanoseconds: (ContinuousClock.now - origin).nanosecondsClamped) }

    // MARK: start and stop

    /// Binds every enabled worker's listening sockets. The keeper holds them for its whole life, so a
    /// worker restart never closes a port: connections wait in the accept queue.
    public func bindListeners() throws {
        try Files.makeDirectory(node.paths.run, mode: 0o755)
        for name in order {
            var fds: [Int32] = []
            var bound: [NodeConfig.Listener] = []
            for l in workers[name]!.definition.listeners {
                do {
                    if let tcp = l.tcp {
                        fds.append(try Sockets.listenTCP(address: tcp.address, port: tcp.port))
                    } else if let path = l.unix {
                        fds.append(try Sockets.listenUnix(path: path, mode: 0o660))
                    }
                    bound.append(l)
                } catch {
                    if l.optional == true {
                        logger.error(
                            "optional listener not bound; the worker runs without it",
                            metadata: ["worker": "\(name)", "listener": "\(l.name)", "address": "\(l.display)", "error": "\(error.reason)"])
                        continue
                    }
                    fds.forEach(Sockets.close)
                    throw KeeperError(Message("keeper.bind_failed", name, l.display, error.reason))
                }
            }
            workers[name]!.listenerFDs = fds
            workers[name]!.definition.listeners = bound
        }
    }

    /// Starts the supervision loop and, unless the operator stopped the service, every worker.
    public func start() {
        if !loopRunning {
            loopRunning = true
            Task { await self.runLoop() }
        }
        if state.serviceStarted {
            for name in order { apply(name, workers[name]!.lifecycle.start(at: now())) }
        }
        updateSummary()
    }

    /// Stops the workers in reverse start order, each drained before the next, then closes the
    /// listening sockets. Returns when every worker process is gone.
    public func shutdown() async {
        shuttingDown = true
        notifier.send(.stopping(status: "stopping: draining workers"))
        for name in order.reversed() {
            apply(name, workers[name]!.lifecycle.stop(at: now()))
            await waitUntilDown(name, timeout: workers[name]!.lifecycle.spec.stopTimeout + .seconds(2))
        }
        for name in order {
            workers[name]!.listenerFDs.forEach(Sockets.close)
            workers[name]!.listenerFDs = []
            for l in workers[name]!.definition.listeners { if let p = l.unix { unlink(p) } }
        }
        loopRunning = false
    }

    /// Waits (no polling: `apply` wakes it) until `name` is down, at most `timeout`.
    private func waitUntilDown(_ name: String, timeout: Duration) async {
        guard !isDown(name) else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.wakeDownWaiters(name, timedOut: true)
        }
        let inTime = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in downWaiters[name, default: []].append(c) }
        timer.cancel()
        if !inTime { logger.warning("worker did not stop in time", metadata: ["worker": "\(name)"]) }
    }

    private func isDown(_ name: String) -> Bool {
        switch workers[name]?.lifecycle.phase {
        case .idle?, .failed?, .waiting?, nil: true
        default: false
        }
    }

    private func wakeDownWaiters(_ name: String, timedOut: Bool = false) {
        guard timedOut || isDown(name), let waiters = downWaiters.removeValue(forKey: name) else { return }
        for w in waiters { w.resume(returning: !timedOut) }
    }

    // MARK: operator requests

    public enum Request: Sendable { case start, stop, restart }

    /// Applies `request` to one worker or all of them; `persist` records it as the node's wanted state.
    public func request(_ request: Request, worker: String?, logLevel: String?) throws {
        let names: [String]
        if let worker {
            guard workers[worker] != nil else { throw KeeperError(Message("service.no_such_worker", worker, order.joined(separator: ", "))) }
            names = [worker]
        } else {
            names = order
            state.serviceStarted = request != .stop
        }
        if request != .stop {
            state.logLevel = logLevel
            pushConfig(force: false)
        }
        for name in names {
            let t = now()
            drive(name) { lc in
                switch request {
                case .start: lc.start(at: t)
                case .stop: lc.stop(at: t)
                case .restart: lc.restart(at: t)
                }
            }
        }
    }

    /// Restarts a worker that is up (drained, then started again with the current configuration),
    /// e.g. so the gateway reopens its metadata store after `ose db set`. A stopped worker stays stopped.
    public func restartIfRunning(_ name: String) {
        switch workers[name]?.lifecycle.phase {
        case nil, .idle?, .failed?: return
        default: break
        }
        let t = now()
        drive(name) { $0.restart(at: t) }
    }

    public var nodeState: NodeState { state }

    /// Keeper-supplied values that the worker takes by reload (the virtual-IP translator's backends).
    public func updateExtraSlice(_ worker: String, _ values: [String: String]) {
        guard extraSlices[worker] != values else { return }
        extraSlices[worker] = values
        pushConfig(force: false)
    }

    /// New keeper-supplied values for one worker (a new cluster key after `ose cluster join`): the
    /// worker is restarted so it starts over with them.
    public func setExtraSlice(_ worker: String, _ values: [String: String]) {
        extraSlices[worker] = values
        restartIfRunning(worker)
    }

    // MARK: configuration

    /// A new cluster document: adopt tunables, push changed slices to running workers.
    public func configChanged(_ doc: ConfigDocument) {
        document = doc
        let settings = VossSettings(doc)
        for name in order {
            workers[name]!.lifecycle.reconfigure(Self.spec(for: workers[name]!.definition, settings.supervision))
        }
        pushConfig(force: false)
    }

    private func slice(_ name: String) -> ConfigSlice {
        var values = WorkerSlices.slice(worker: name, document: document, node: node, state: state)
        for (k, v) in extraSlices[name] ?? [:] { values[k] = v }
        return ConfigSlice(version: WorkerSlices.version(of: values), values: values)
    }

    private func pushConfig(force: Bool) {
        for name in order {
            guard let ipc = workers[name]!.ipc, workers[name]!.lifecycle.helloSeen else { continue }
            let s = slice(name)
            if force || s.version != workers[name]!.sentSliceVersion {
                workers[name]!.sentSliceVersion = s.version
                ipc.post(.reload(s))
                logger.info("pushed configuration", metadata: ["worker": "\(name)", "version": "\(s.version)"])
            }
        }
    }

    /// SIGHUP: reopen what can be reopened and push the configuration again to every worker.
    public func reload(_ doc: ConfigDocument) {
        notifier.send(.reloading(monotonicMicroseconds: Processes.monotonicMicroseconds))
        configChanged(doc)
        pushConfig(force: true)
        notifier.send(.ready(status: lastStatusText))
    }

    // MARK: the loop

    private func runLoop() async {
        lastIterationAt = now()
        while loopRunning {
            let now = self.now()
            var wake = now + .milliseconds(250)
            for name in order {
                if let d = workers[name]!.lifecycle.nextDeadline { wake = min(wake, d) }
            }
            if watchdog != nil { wake = min(wake, nextPetAt) }
            wake = max(wake, now + .milliseconds(1))
            try? await Task.sleep(for: wake - now)
            tick()
        }
    }

    private func tick() {
        let now = self.now()
        reap()
        for name in order {
            drive(name, applyingNothing: false) { $0.tick(at: now) }
        }
        // The time since the previous iteration completed: a loop that was wedged (a blocked actor, a
        // stuck apply) shows a long gap here even if this one iteration woke on time.
        let sinceLastIteration = now - lastIterationAt
        if let watchdog, now >= nextPetAt {
            // Pet only from the loop itself, and only when it is running on time.
            if watchdog.loopIsHealthy(lastIterationAgo: sinceLastIteration) {
                notifier.send(.watchdog)
            } else {
                logger.error("supervision loop went \(sinceLastIteration) without an iteration; not petting the watchdog")
            }
            nextPetAt = now + watchdog.petInterval
        }
        lastIterationAt = self.now()
    }

    /// Reaps every exited child (called on SIGCHLD and from every tick as a safety net).
    public func reap() {
        for exit in Processes.reapAll() {
            guard let name = order.first(where: { workers[$0]!.lifecycle.phase.pid == exit.pid }) else {
                logger.debug("reaped an unknown child", metadata: ["pid": "\(exit.pid)"])
                continue
            }
            let reason: ExitReason = exit.exited ? .exited(exit.code) : .signaled(exit.code)
            let t = now()
            drive(name) { $0.exited(pid: exit.pid, reason: reason, at: t) }
        }
    }

    // MARK: carrying out actions

    /// Feeds one event to `name`'s lifecycle and carries out what it decides.
    private func drive(
        _ name: String, applyingNothing: Bool = true, _ event: (inout WorkerLifecycle) -> [WorkerLifecycle.Action]
    ) {
        guard var lc = workers[name]?.lifecycle else { return }
        let actions = event(&lc)
        workers[name]!.lifecycle = lc
        if applyingNothing || !actions.isEmpty { apply(name, actions) } else if downWaiters[name] != nil { wakeDownWaiters(name) }
    }

    private func apply(_ name: String, _ actions: [WorkerLifecycle.Action]) {
        for action in actions {
            switch action {
            case .spawn:
                resumeListeners(name)
                spawn(name)
            case .sendPing(let seq):
                workers[name]!.ipc?.post(.ping(seq: seq))
            case .sendStop(let grace):
                workers[name]!.ipc?.post(.stop(graceMilliseconds: grace.millisecondsClamped))
            case .signal(let pid, let sig):
                let signo: Int32 = switch sig {
                case .term: SIGTERM
                case .kill: SIGKILL
                case .cont: SIGCONT
                }
                if sig != .cont {
                    logger.notice("signalling worker", metadata: ["worker": "\(name)", "pid": "\(pid)", "signal": "\(signalName(signo))"])
                }
                Processes.kill(pid, signo)
            case .becameReady:
                let w = workers[name]!
                logger.info(
                    "worker ready",
                    metadata: [
                        "worker": "\(name)", "pid": "\(w.lifecycle.phase.pid ?? 0)", "restarts": "\(w.lifecycle.restarts)",
                        "addresses": "\(w.addresses.joined(separator: ","))",
                    ])
            case .exited(let record):
                workers[name]!.ipc?.close()
                workers[name]!.ipc = nil
                workers[name]!.sentSliceVersion = nil
                workers[name]!.lastExitWall = Date()
                let level: Logger.Level = record.cause == .requested ? .info : .warning
                logger.log(level: level, "worker exited", metadata: ["worker": "\(name)", "reason": "\(record)"])
            case .gaveUp(let record):
                let retry = workers[name]!.lifecycle.spec.failedRetryAfter.map { " (will try again in \($0))" } ?? ""
                logger.error(
                    "worker FAILED: restarted too often; giving up\(retry)",
                    metadata: ["worker": "\(name)", "reason": "\(record)"])
                pauseListeners(name)
            }
        }
        updateSummary()
        if downWaiters[name] != nil { wakeDownWaiters(name) }
    }

    /// While a worker is FAILED its clients are refused at once (and a translator or load balancer
    /// in front moves them to another node) rather than left waiting in the listen backlog.
    private func pauseListeners(_ name: String) {
        guard let w = workers[name], !w.listenersPaused else { return }
        var paused: [String] = []
        for (l, fd) in zip(w.definition.listeners, w.listenerFDs) {
            guard let tcp = l.tcp, tcp.port != 0 else { continue }  // an ephemeral port would be lost
            if Sockets.pauseListening(fd) { paused.append(l.display) }
        }
        guard !paused.isEmpty else { return }
        workers[name]!.listenersPaused = true
        logger.error(
            "not accepting connections while the worker is FAILED; clients are refused until it runs again",
            metadata: ["worker": "\(name)", "listeners": "\(paused.joined(separator: ","))"])
    }

    private func resumeListeners(_ name: String) {
        guard let w = workers[name], w.listenersPaused else { return }
        for (l, fd) in zip(w.definition.listeners, w.listenerFDs) where l.tcp.map({ $0.port != 0 }) ?? false {
            if !Sockets.resumeListening(fd) {
                logger.error("could not listen again", metadata: ["worker": "\(name)", "listener": "\(l.display)"])
            }
        }
        workers[name]!.listenersPaused = false
        logger.notice("accepting connections again", metadata: ["worker": "\(name)"])
    }

    private func spawn(_ name: String) {
        let def = workers[name]!.definition
        let path = def.executable.hasPrefix("/") ? def.executable : node.paths.libexec + "/" + def.executable
        let keeperEnd: Int32
        let workerEnd: Int32
        do {
            (keeperEnd, workerEnd) = try Sockets.pair()
        } catch {
            let t = now()
            drive(name) { $0.spawnFailed(error.reason, at: t) }
            return
        }
        var env = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] {
            env[k] = nil
        }
        env["VOSS_IPC_FD"] = "3"
        env["VOSS_LISTEN_FDS"] = def.listeners.enumerated().map { "\($1.name)=\(4 + $0)" }.joined(separator: ",")
        env["VOSS_KEEPER_PID"] = "\(getpid())"
        env["VOSS_WORKER_NAME"] = name
        env["VOSS_LOG_DIR"] = node.paths.log
        let request = SpawnRequest(
            path: path, arguments: def.arguments, environment: env,
            inheritedFDs: [workerEnd] + workers[name]!.listenerFDs)
        let spawner = self.spawner
        Task {
            let result = await spawner.spawn(request)
            Sockets.close(workerEnd)
            await self.spawnCompleted(name, result: result, keeperEnd: keeperEnd)
        }
    }

    private func spawnCompleted(_ name: String, result: Result<Int32, PosixError>, keeperEnd: Int32) async {
        switch result {
        case .failure(let error):
            Sockets.close(keeperEnd)
            logger.error("cannot start worker", metadata: ["worker": "\(name)", "error": "\(error)"])
            let t = now()
            drive(name) { $0.spawnFailed(error.reason, at: t) }
        case .success(let pid):
            workers[name]!.startedWall = Date()
            workers[name]!.status = nil
            workers[name]!.counters = [:]
            workers[name]!.addresses = []
            var lc = workers[name]!.lifecycle
            let actions = lc.spawned(pid: pid, at: now())
            workers[name]!.lifecycle = lc
            logger.info("worker started", metadata: ["worker": "\(name)", "pid": "\(pid)"])
            do {
                let ipc = try await IPCConnection.adopt(fd: keeperEnd, group: group)
                // The worker may have died while we awaited; only attach to the pid we spawned.
                if workers[name]!.lifecycle.phase.pid == pid {
                    workers[name]!.ipc = ipc
                    Task {
                        for await envelope in ipc.messages { self.received(name, pid: pid, envelope.message) }
                        self.ipcEnded(name, pid: pid)
                    }
                } else {
                    ipc.close()
                }
            } catch {
                Sockets.close(keeperEnd)
                logger.error("cannot attach to worker IPC", metadata: ["worker": "\(name)", "error": "\(error)"])
                let t = now()
                drive(name) { $0.ipcClosed(at: t) }
            }
            apply(name, actions)
        }
    }

    private func received(_ name: String, pid: Int32, _ message: WorkerMessage) {
        guard workers[name]!.lifecycle.phase.pid == pid else { return }
        var lc = workers[name]!.lifecycle
        var actions: [WorkerLifecycle.Action] = []
        switch message {
        case .hello(let hello):
            if hello.protocolVersion != VossVersion.ipcProtocol {
                logger.error(
                    "worker speaks another IPC protocol",
                    metadata: ["worker": "\(name)", "theirs": "\(hello.protocolVersion)", "ours": "\(VossVersion.ipcProtocol)"])
            }
            actions = lc.hello(at: now())
            let s = slice(name)
            workers[name]!.sentSliceVersion = s.version
            workers[name]!.ipc?.post(.config(s))
        case .ready(let ready):
            workers[name]!.addresses = ready.addresses
            actions = lc.ready(at: now())
        case .pong(let pong):
            workers[name]!.counters = pong.counters
            actions = lc.pong(seq: pong.seq, at: now())
        case .status(let text):
            workers[name]!.status = text
        case .reloaded(let version, let error):
            if let error {
                logger.error("worker could not apply configuration", metadata: ["worker": "\(name)", "version": "\(version)", "error": "\(error)"])
                workers[name]!.status = "configuration \(version) not applied: \(error)"
            }
        case .config, .ping, .reload, .logLevel, .drain, .stop:
            logger.warning("unexpected IPC message from worker", metadata: ["worker": "\(name)", "type": "\(message.type)"])
        }
        workers[name]!.lifecycle = lc
        if !actions.isEmpty { apply(name, actions) }
    }

    private func ipcEnded(_ name: String, pid: Int32) {
        guard workers[name]!.lifecycle.phase.pid == pid else { return }
        let t = now()
        drive(name) { $0.ipcClosed(at: t) }
        // The exit usually follows at once; reap now rather than at the next tick.
        reap()
    }

    // MARK: reporting

    private func summary() -> SupervisorSummary {
        SupervisorSummary.of(
            order.map { n in
                let w = workers[n]!
                return .init(name: n, wanted: w.lifecycle.wantUp, phase: w.lifecycle.phase, lastExit: w.lifecycle.lastExit)
            }, shuttingDown: shuttingDown)
    }

    private func updateSummary() {
        let s = summary()
        if s.state == .ready && !readySent && !shuttingDown {
            readySent = true
            notifier.send(.ready(status: s.text))
            logger.notice("\(s.text)")
            lastStatusText = s.text
            return
        }
        if s.text != lastStatusText {
            lastStatusText = s.text
            notifier.send(.status(s.text))
            logger.notice("\(s.text)")
        }
    }

    public func show() -> ServiceShow {
        let s = summary()
        let nowI = now()
        let workers = order.map { name -> WorkerInfo in
            let w = self.workers[name]!
            let lc = w.lifecycle
            var uptime: Double?
            if case .running = lc.phase, let r = lc.lastStartAt { uptime = (nowI - r).secondsDouble }
            return WorkerInfo(
                name: name, enabled: w.definition.enabled, state: lc.phase.name, pid: lc.phase.pid,
                uptimeSeconds: uptime, restarts: lc.restarts, lastExitMessage: lc.lastExit?.message,
                lastExitAt: lc.lastExit == nil ? nil : w.lastExitWall, healthMessage: lc.health.message, status: w.status,
                listeners: w.definition.listeners.map(\.display), counters: w.counters)
        }
        return ServiceShow(
            state: s.state.rawValue, summary: s.message,
            logLevel: state.logLevel ?? document["args.log.level"] ?? "info", workers: workers)
    }
}

extension Error {
    /// The plain reason of a POSIX error, or the description of any other error.
    var reason: String { (self as? PosixError)?.reason ?? "\(self)" }
}

