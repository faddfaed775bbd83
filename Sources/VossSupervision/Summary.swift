import VossBase

/// The keeper's overall state, derived from its workers: what systemd's `STATUS=` line and
/// `ose service show` say, and whether `READY=1` may be sent.
public struct SupervisorSummary: Equatable, Sendable {
    public enum State: String, Sendable, Equatable {
        /// Some wanted workers are not ready yet and none has failed.
        case starting
        /// Every wanted worker is running.
        case ready
        /// At least one wanted worker is FAILED or in backoff after a failure.
        case degraded
        /// The operator stopped the service (no worker wanted).
        case stopped
        case stopping
    }

    public var state: State
    /// One line a person can read, e.g. `ready: 2/2 workers running (i18n, s3)`.
    public var message: Message
    public var text: String { message.english }

    public init(state: State, message: Message) {
        self.state = state
        self.message = message
    }

    public struct Input: Sendable {
        public var name: String
        public var wanted: Bool
        public var phase: WorkerLifecycle.Phase
        public var lastExit: ExitRecord?

        public init(name: String, wanted: Bool, phase: WorkerLifecycle.Phase, lastExit: ExitRecord?) {
            self.name = name
            self.wanted = wanted
            self.phase = phase
            self.lastExit = lastExit
        }
    }

    public static func of(_ workers: [Input], shuttingDown: Bool = false) -> SupervisorSummary {
        if shuttingDown { return .init(state: .stopping, message: Message("summary.stopping")) }
        let wanted = workers.filter(\.wanted)
        if wanted.isEmpty { return .init(state: .stopped, message: Message("summary.stopped")) }
        let running = wanted.filter { if case .running = $0.phase { true } else { false } }
        let failed = wanted.filter { if case .failed = $0.phase { true } else { false } }
        let waiting = wanted.filter { if case .waiting = $0.phase { true } else { false } }
        let names = running.map(\.name).joined(separator: ", ")
        let counts = [String(running.count), String(wanted.count)]
        if !failed.isEmpty || !waiting.isEmpty {
            let parts = failed.map { "\($0.name) FAILED (\($0.lastExit?.description ?? "?"))" }
                + waiting.map { "\($0.name) restarting after \($0.lastExit?.description ?? "a failure")" }
            return .init(
                state: .degraded,
                message: Message(key: "summary.degraded", args: counts + [parts.joined(separator: "; ")]))
        }
        if running.count == wanted.count {
            return .init(state: .ready, message: Message(key: "summary.ready", args: counts + [names]))
        }
        let pending = wanted.filter { w in !running.contains { $0.name == w.name } }.map(\.name)
        return .init(
            state: .starting, message: Message(key: "summary.starting", args: counts + [pending.joined(separator: ", ")]))
    }
}
