import VossBase

/// Restart delay after consecutive failures, capped exponential with jitter.
///
/// `delay(failures:)` for the defaults (initial 500 ms, ×2, cap 30 s, ±10 % jitter):
///
/// | consecutive failures | 1 | 2 | 3      | 4   | 5   | 6   | 7   | 8    | 9+   |
/// |----------------------|---|---|--------|-----|-----|-----|-----|------|------|
/// | delay                | 0 | 0 | 0.5 s  | 1 s | 2 s | 4 s | 8 s | 16 s | 30 s |
///
/// The first two failures restart at once (a kill followed by a hang of the replacement must not wait).
/// On top of the table, starts are kept at least `minStartInterval` apart (runit's one-second floor,
/// `runsv.c`), so a worker that dies on start cannot spin.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var multiplier: Double
    public var cap: Duration
    /// Fraction of the delay added or removed at random (0.1 = ±10 %).
    public var jitter: Double
    public var minStartInterval: Duration

    public init(
        initial: Duration = .milliseconds(500), multiplier: Double = 2, cap: Duration = .seconds(30),
        jitter: Double = 0.1, minStartInterval: Duration = .seconds(1)
    ) {
        self.initial = initial
        self.multiplier = multiplier
        self.cap = cap
        self.jitter = jitter
        self.minStartInterval = minStartInterval
    }

    /// The delay before the next start after `failures` consecutive failures; `unit` is a random
    /// number in `0..<1` (0.5 means no jitter).
    public func delay(failures: Int, unit: Double) -> Duration {
        guard failures > 2 else { return .zero }
        let capNs = Double(cap.nanosecondsClamped)
        var ns = Double(initial.nanosecondsClamped)
        var n = 3
        while n < failures && ns < capNs {
            ns *= multiplier
            n += 1
        }
        ns = min(ns, capNs)
        ns *= 1 + jitter * (2 * unit - 1)
        return .nanoseconds(Int64(max(0, ns)))
    }

    /// When the next start may happen: the jittered delay from `now`, but never sooner than
    /// `minStartInterval` after the previous start.
    public func nextStart(failures: Int, lastStart: Instant?, now: Instant, unit: Double) -> Instant {
        var at = now + delay(failures: failures, unit: unit)
        if let lastStart { at = max(at, lastStart + minStartInterval) }
        return at
    }
}
