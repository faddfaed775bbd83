/// A point on a monotonic clock, in nanoseconds since an arbitrary origin.
///
/// Pure code never reads a clock: shells pass `Instant`s in (from `CLOCK_MONOTONIC`), tests pass fixed
/// ones. Arithmetic saturates instead of trapping, so a far-future deadline cannot crash a process.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)

    public static func seconds(_ s: Double) -> Instant { Instant(nanoseconds: Int64(s * 1e9)) }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanosecondsClamped)
        return Instant(nanoseconds: overflow ? (rhs < .zero ? Int64.min : Int64.max) : sum)
    }

    public static func - (lhs: Instant, rhs: Duration) -> Instant { lhs + (Duration.zero - rhs) }

    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        let (diff, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
        return .nanoseconds(overflow ? (lhs > rhs ? Int64.max : Int64.min) : diff)
    }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to the `Int64` range.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        let (sum, o2) = ns.addingReportingOverflow(attoseconds / 1_000_000_000)
        return o2 ? (seconds < 0 ? Int64.min : Int64.max) : sum
    }

    /// The duration in (fractional) seconds, for display and for JSON.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    public var millisecondsClamped: Int64 { nanosecondsClamped / 1_000_000 }

    /// Parses `500ms`, `2s`, `1.5s`, `3m`, `1h`, or a bare number of seconds.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace()
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < 1e9 else { return nil }
        self = .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }
}

extension String {
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
