import VossBase

/// OTP's restart intensity (`intensity`/`period`, `supervisor.erl` `add_restart/3`): more than
/// `maxRestarts` failure restarts within `period` and the supervisor gives the worker up (FAILED)
/// instead of hammering it. Operator-requested restarts are not recorded here.
public struct RestartIntensity: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable { case restart, giveUp }

    public var maxRestarts: Int
    public var period: Duration
    public private(set) var recent: [Instant] = []

    public init(maxRestarts: Int = 5, period: Duration = .seconds(60)) {
        self.maxRestarts = maxRestarts
        self.period = period
    }

    public mutating func record(_ now: Instant) -> Verdict {
        let period = self.period
        recent.removeAll { now - $0 > period }
        recent.append(now)
        return recent.count > maxRestarts ? .giveUp : .restart
    }

    public mutating func reset() { recent.removeAll() }
}
