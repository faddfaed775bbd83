import VossBase

/// OTP's `restart` type for a child.
public enum RestartPolicy: String, Sendable, Codable, CaseIterable {
    /// Always restarted.
    case permanent
    /// Restarted only after an abnormal exit (not after `exit 0`).
    case transient
    /// Never restarted.
    case temporary
}

/// How one worker is supervised. Defaults follow DESIGN.md §2: ping every second, three unanswered
/// pings mean hung, SIGTERM, a grace period, SIGKILL, restart with backoff, give up after more than
/// five failure restarts in a minute.
public struct ChildSpec: Sendable, Equatable {
    public var name: String
    public var restart: RestartPolicy
    /// Grace between the polite stop (IPC `stop` + SIGTERM) and SIGKILL, for requested stops.
    public var stopTimeout: Duration
    /// Grace between SIGTERM and SIGKILL for a worker that is hung or not ready (it will not drain).
    public var hungGrace: Duration
    public var pingInterval: Duration
    /// This many unanswered pings, each given a full interval, mean the worker is hung.
    public var missedPongLimit: Int
    /// A worker that has not said `ready` this long after spawning is killed and restarted.
    public var readyTimeout: Duration
    /// A worker that closed its IPC socket but has not exited after this long is killed.
    public var ipcLossGrace: Duration
    /// A worker that was ready this long before failing starts its backoff from scratch: backoff is
    /// for crash loops (dying on start), not for a worker that served and was then killed.
    public var stableAfter: Duration
    public var backoff: Backoff
    public var maxRestarts: Int
    public var restartPeriod: Duration
    /// A FAILED worker is tried again after this long (`nil`: only when the operator asks).
    public var failedRetryAfter: Duration?

    public init(
        name: String, restart: RestartPolicy = .permanent, stopTimeout: Duration = .seconds(10),
        hungGrace: Duration = .milliseconds(500), pingInterval: Duration = .seconds(1), missedPongLimit: Int = 3,
        readyTimeout: Duration = .seconds(30), ipcLossGrace: Duration = .seconds(1),
        stableAfter: Duration = .seconds(1), backoff: Backoff = Backoff(), maxRestarts: Int = 5,
        restartPeriod: Duration = .seconds(60), failedRetryAfter: Duration? = .seconds(300)
    ) {
        self.name = name
        self.restart = restart
        self.stopTimeout = stopTimeout
        self.hungGrace = hungGrace
        self.pingInterval = pingInterval
        self.missedPongLimit = missedPongLimit
        self.readyTimeout = readyTimeout
        self.ipcLossGrace = ipcLossGrace
        self.stableAfter = stableAfter
        self.backoff = backoff
        self.maxRestarts = maxRestarts
        self.restartPeriod = restartPeriod
        self.failedRetryAfter = failedRetryAfter
    }
}

/// How a process ended, as `waitpid` reports it.
public enum ExitReason: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var isCleanExit: Bool { self == .exited(0) }

    public var message: Message {
        switch self {
        case .exited(let code): Message("why.exited", String(code))
        case .signaled(let sig): Message("why.signaled", signalName(sig))
        }
    }

    public var description: String { message.english }
}

/// Signal names for the signals a worker realistically dies of; others print as `signal N`.
public func signalName(_ sig: Int32) -> String {
    let names: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
        8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM",
        15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
    ]
    return names[sig] ?? "signal \(sig)"
}

/// Why the supervisor saw a worker go.
public enum StopCause: String, Equatable, Sendable, Codable {
    /// It died on its own (or someone else killed it).
    case crashed
    /// It stopped answering pings and was killed.
    case hung
    /// It did not say `ready` in time and was killed.
    case notReady = "not-ready"
    /// It closed its IPC socket without exiting and was killed.
    case ipcLost = "ipc-lost"
    /// It could not be started at all.
    case spawnFailed = "spawn-failed"
    /// The operator (or keeper shutdown) asked it to stop.
    case requested
}

/// The last time a worker went away: what the supervisor decided and what `waitpid` said.
public struct ExitRecord: Equatable, Sendable, CustomStringConvertible {
    public var cause: StopCause
    public var reason: ExitReason?
    public var detail: String
    public var at: Instant

    public init(cause: StopCause, reason: ExitReason?, detail: String = "", at: Instant) {
        self.cause = cause
        self.reason = reason
        self.detail = detail
        self.at = at
    }

    /// What `ose service show` prints as the last exit (translatable). `detail` holds the argument of
    /// the cause: the number of unanswered pings, the readiness timeout, or the spawn error.
    public var message: Message {
        let prefix: String
        var args: [String] = []
        switch cause {
        case .crashed:
            return reason?.message ?? Message("why.unknown")
        case .spawnFailed:
            return Message("why.spawn_failed", detail)
        case .requested:
            prefix = "why.requested"
        case .hung:
            prefix = "why.hung"
            args = [detail]
        case .notReady:
            prefix = "why.not_ready"
            args = [detail]
        case .ipcLost:
            prefix = "why.ipc_lost"
        }
        switch reason {
        case .exited(let code)?: return Message(key: prefix + "_exited", args: args + [String(code)])
        case .signaled(let sig)?: return Message(key: prefix + "_signaled", args: args + [signalName(sig)])
        case nil: return Message(key: prefix, args: args)
        }
    }

    public var description: String { message.english }
}
