import VossBase

/// The life of one supervised worker as a pure state machine (the shape of s6-supervise's
/// state × event table, with OTP's restart vocabulary).
///
/// Inputs are operator intents (`start`, `stop`, `restart`), what the shell observed (`spawned`,
/// `exited`, IPC `hello`/`ready`/`pong`, IPC EOF) and clock ticks; every input returns the `Action`s the
/// shell must carry out. The machine never reads a clock, sleeps or touches a process: `nextDeadline`
/// tells the shell when to call `tick(at:)` next.
///
/// ```
///            start                spawned(pid)              ready
///   idle ───────────▶ spawning ───────────────▶ starting ─────────▶ running
///    ▲                  ▲  ▲                       │ timeout / ipc EOF  │ 3 pings unanswered / ipc EOF
///    │ stop             │  │ backoff over          ▼                    ▼
///    │             waiting ◀──── crash ──── stopping(SIGTERM) ──▶ killing(SIGKILL)
///    │                  │                        │ exited                │ exited
///    └─ failed ◀── intensity exceeded ◀──────────┴───────────────────────┘
/// ```
public struct WorkerLifecycle: Sendable {
    public enum Phase: Equatable, Sendable {
        /// Not running and not scheduled to run.
        case idle
        /// The shell was told to spawn; waiting for `spawned` or `spawnFailed`.
        case spawning
        /// Running, waiting for `ready` until `deadline`.
        case starting(pid: Int32, deadline: Instant)
        /// Ready and pinged.
        case running(pid: Int32)
        /// Asked to stop (IPC `stop` and/or SIGTERM); SIGKILL at `killAt`.
        case stopping(pid: Int32, killAt: Instant)
        /// SIGKILL sent; waiting for the exit.
        case killing(pid: Int32)
        /// Backoff before the next start.
        case waiting(until: Instant)
        /// Restart intensity exceeded: not restarted until `retryAt` or an operator `start`/`restart`.
        case failed(retryAt: Instant?)

        public var pid: Int32? {
            switch self {
            case .starting(let pid, _), .running(let pid), .stopping(let pid, _), .killing(let pid): pid
            default: nil
            }
        }

        /// The word `ose service show` prints.
        public var name: String {
            switch self {
            case .idle: "stopped"
            case .spawning, .starting: "starting"
            case .running: "running"
            case .stopping, .killing: "stopping"
            case .waiting: "backoff"
            case .failed: "FAILED"
            }
        }
    }

    public enum Signal: Sendable, Equatable { case term, kill, cont }

    public enum Action: Equatable, Sendable {
        /// Spawn the worker process, then call `spawned(pid:at:)` or `spawnFailed(_:at:)`.
        case spawn
        case sendPing(seq: UInt64)
        /// Send the IPC `stop` message with this grace.
        case sendStop(grace: Duration)
        case signal(pid: Int32, Signal)
        /// The worker said `ready` (for the first time since it was spawned).
        case becameReady
        /// The worker went away (informational: log it).
        case exited(ExitRecord)
        /// Restart intensity exceeded: the worker is FAILED (log it, report degraded).
        case gaveUp(ExitRecord)
    }

    public enum Health: Equatable, Sendable {
        case notRunning
        case healthy
        /// Pings are going unanswered but not yet enough to call it hung.
        case late(unanswered: Int)
        case unresponsive

        public var message: Message {
            switch self {
            case .notRunning: Message("health.none")
            case .healthy: Message("health.healthy")
            case .late(let n): Message("health.late", String(n))
            case .unresponsive: Message("health.unresponsive")
            }
        }
    }

    public private(set) var spec: ChildSpec
    public private(set) var phase: Phase = .idle
    /// What the operator wants: up (started) or down.
    public private(set) var wantUp = false
    /// Starts after the first one.
    public private(set) var restarts = 0
    public private(set) var lastStartAt: Instant?
    public private(set) var readyAt: Instant?
    public private(set) var lastExit: ExitRecord?
    public private(set) var consecutiveFailures = 0
    public private(set) var unansweredPings = 0
    public private(set) var lastPongAt: Instant?
    public private(set) var helloSeen = false

    private var starts = 0
    private var lastPingSeq: UInt64 = 0
    private var nextPingAt: Instant?
    private var ipcClosedAt: Instant?
    private var pendingStop: (cause: StopCause, detail: String, restart: Bool)?
    private var intensity: RestartIntensity
    private var rng: SplitMix64

    public init(spec: ChildSpec, seed: UInt64 = 0x5EED) {
        self.spec = spec
        self.intensity = RestartIntensity(maxRestarts: spec.maxRestarts, period: spec.restartPeriod)
        self.rng = SplitMix64(seed: seed)
    }

    public var health: Health {
        guard case .running = phase else { return .notRunning }
        if unansweredPings >= spec.missedPongLimit { return .unresponsive }
        // One ping in flight is normal; two or more unanswered is worth showing.
        return unansweredPings >= 2 ? .late(unanswered: unansweredPings) : .healthy
    }

    /// When the shell must call `tick(at:)` next (`nil`: only on other events).
    public var nextDeadline: Instant? {
        let ipcDeadline = ipcClosedAt.map { $0 + spec.ipcLossGrace }
        switch phase {
        case .waiting(let until): return until
        case .failed(let retryAt): return retryAt
        case .starting(_, let deadline): return [deadline, ipcDeadline].compactMap { $0 }.min()
        case .running: return ipcDeadline ?? nextPingAt
        case .stopping(_, let killAt): return killAt
        case .idle, .spawning, .killing: return nil
        }
    }

    /// Adopts new tunables (intervals, limits); the current phase and history are kept.
    public mutating func reconfigure(_ spec: ChildSpec) {
        self.spec = spec
        intensity.maxRestarts = spec.maxRestarts
        intensity.period = spec.restartPeriod
    }

    // MARK: operator intents

    public mutating func start(at now: Instant) -> [Action] {
        wantUp = true
        switch phase {
        case .idle, .failed, .waiting:
            clearFailureHistory()
            return spawn()
        case .stopping:
            if pendingStop?.cause == .requested { pendingStop?.restart = true }
            return []
        case .spawning, .starting, .running, .killing:
            return []
        }
    }

    public mutating func stop(at now: Instant) -> [Action] {
        wantUp = false
        switch phase {
        case .waiting, .failed:
            phase = .idle
            return []
        case .starting(let pid, _), .running(let pid):
            return beginStop(pid: pid, cause: .requested, detail: "", restart: false, now: now)
        case .stopping:
            pendingStop?.restart = false
            return []
        case .idle, .spawning, .killing:
            return []
        }
    }

    public mutating func restart(at now: Instant) -> [Action] {
        wantUp = true
        switch phase {
        case .starting(let pid, _), .running(let pid):
            return beginStop(pid: pid, cause: .requested, detail: "", restart: true, now: now)
        case .idle, .failed, .waiting:
            clearFailureHistory()
            return spawn()
        case .stopping:
            pendingStop?.restart = true
            return []
        case .spawning, .killing:
            return []
        }
    }

    // MARK: observations

    public mutating func spawned(pid: Int32, at now: Instant) -> [Action] {
        guard case .spawning = phase else { return [] }
        starts += 1
        if starts > 1 { restarts += 1 }
        lastStartAt = now
        readyAt = nil
        helloSeen = false
        unansweredPings = 0
        lastPongAt = nil
        nextPingAt = nil
        ipcClosedAt = nil
        pendingStop = nil
        phase = .starting(pid: pid, deadline: now + spec.readyTimeout)
        if !wantUp {
            return beginStop(pid: pid, cause: .requested, detail: "", restart: false, now: now)
        }
        return []
    }

    public mutating func spawnFailed(_ message: String, at now: Instant) -> [Action] {
        guard case .spawning = phase else { return [] }
        let record = ExitRecord(cause: .spawnFailed, reason: nil, detail: message, at: now)
        lastExit = record
        return [.exited(record)] + failureRestart(record, now: now)
    }

    public mutating func hello(at now: Instant) -> [Action] {
        if phase.pid != nil { helloSeen = true }
        return []
    }

    public mutating func ready(at now: Instant) -> [Action] {
        guard case .starting(let pid, _) = phase else { return [] }
        phase = .running(pid: pid)
        readyAt = now
        lastPongAt = now
        unansweredPings = 0
        nextPingAt = now + spec.pingInterval
        return [.becameReady]
    }

    public mutating func pong(seq: UInt64, at now: Instant) -> [Action] {
        guard case .running = phase, seq <= lastPingSeq else { return [] }
        unansweredPings = min(unansweredPings, Int(lastPingSeq - seq))
        lastPongAt = now
        return []
    }

    /// EOF on the worker's IPC socket. Usually the exit follows at once and is reported as the reason;
    /// a worker that stays alive without its IPC is killed after `ipcLossGrace`.
    public mutating func ipcClosed(at now: Instant) -> [Action] {
        switch phase {
        case .starting, .running: if ipcClosedAt == nil { ipcClosedAt = now }
        default: break
        }
        return []
    }

    public mutating func exited(pid: Int32, reason: ExitReason, at now: Instant) -> [Action] {
        guard phase.pid == pid else { return [] }
        let cause: StopCause
        let detail: String
        switch phase {
        case .stopping, .killing:
            cause = pendingStop?.cause ?? .requested
            detail = pendingStop?.detail ?? ""
        default:
            cause = .crashed
            detail = ""
        }
        let record = ExitRecord(cause: cause, reason: reason, detail: detail, at: now)
        lastExit = record
        let restartAfterRequest = pendingStop?.restart ?? false
        pendingStop = nil
        nextPingAt = nil
        ipcClosedAt = nil
        var actions: [Action] = [.exited(record)]

        if cause == .requested {
            if wantUp && restartAfterRequest {
                actions += spawn()
            } else {
                phase = .idle
            }
            return actions
        }
        if cause == .crashed {
            switch spec.restart {
            case .temporary:
                phase = .idle
                wantUp = false
                return actions
            case .transient where reason.isCleanExit:
                phase = .idle
                wantUp = false
                return actions
            default:
                break
            }
        }
        return actions + failureRestart(record, now: now)
    }

    // MARK: time

    public mutating func tick(at now: Instant) -> [Action] {
        switch phase {
        case .waiting(let until) where now >= until:
            return spawn()
        case .failed(let retryAt?) where now >= retryAt:
            clearFailureHistory()
            return spawn()
        case .starting(let pid, let deadline):
            if let closed = ipcClosedAt, now >= closed + spec.ipcLossGrace {
                return beginStop(
                    pid: pid, cause: .ipcLost, detail: "", restart: true,
                    now: now)
            }
            if now >= deadline {
                return beginStop(
                    pid: pid, cause: .notReady,
                    detail: formatSeconds(spec.readyTimeout), restart: true, now: now)
            }
            return []
        case .running(let pid):
            if let closed = ipcClosedAt, now >= closed + spec.ipcLossGrace {
                return beginStop(
                    pid: pid, cause: .ipcLost, detail: "", restart: true,
                    now: now)
            }
            guard ipcClosedAt == nil, let due = nextPingAt, now >= due else { return [] }
            if unansweredPings >= spec.missedPongLimit {
                return beginStop(
                    pid: pid, cause: .hung, detail: String(unansweredPings), restart: true,
                    now: now)
            }
            lastPingSeq += 1
            unansweredPings += 1
            // Keep the cadence, but never schedule into the past after a long stall of the shell.
            nextPingAt = max(due + spec.pingInterval, now + spec.pingInterval / 2)
            return [.sendPing(seq: lastPingSeq)]
        case .stopping(let pid, let killAt) where now >= killAt:
            phase = .killing(pid: pid)
            return [.signal(pid: pid, .kill)]
        default:
            return []
        }
    }

    // MARK: internals

    private mutating func spawn() -> [Action] {
        phase = .spawning
        return [.spawn]
    }

    private mutating func clearFailureHistory() {
        intensity.reset()
        consecutiveFailures = 0
    }

    private mutating func beginStop(
        pid: Int32, cause: StopCause, detail: String, restart: Bool, now: Instant
    ) -> [Action] {
        pendingStop = (cause, detail, restart)
        nextPingAt = nil
        if cause == .requested {
            phase = .stopping(pid: pid, killAt: now + spec.stopTimeout)
            return [.sendStop(grace: spec.stopTimeout), .signal(pid: pid, .term)]
        }
        // A hung worker will not drain; SIGCONT lets a stopped (SIGSTOP) one act on the SIGTERM.
        phase = .stopping(pid: pid, killAt: now + spec.hungGrace)
        return [.signal(pid: pid, .term), .signal(pid: pid, .cont)]
    }

    private mutating func failureRestart(_ record: ExitRecord, now: Instant) -> [Action] {
        guard wantUp else {
            phase = .idle
            return []
        }
        if let readyAt, now - readyAt >= spec.stableAfter { consecutiveFailures = 0 }
        consecutiveFailures += 1
        if intensity.record(now) == .giveUp {
            phase = .failed(retryAt: spec.failedRetryAfter.map { now + $0 })
            return [.gaveUp(record)]
        }
        let at = spec.backoff.nextStart(
            failures: consecutiveFailures, lastStart: lastStartAt, now: now, unit: rng.unit())
        if at <= now { return spawn() }
        phase = .waiting(until: at)
        return []
    }
}

func formatSeconds(_ d: Duration) -> String {
    let s = d.secondsDouble
    return s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
}
