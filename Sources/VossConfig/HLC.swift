/// A hybrid logical clock timestamp (Kulkarni et al.): wall-clock milliseconds, a logical counter for
/// events within the same millisecond or behind a remote clock, and the node id as the final tie-break.
/// Totally ordered, so every node resolves concurrent writes to the same entry the same way.
public struct HLC: Comparable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var wallMillis: Int64
    public var counter: UInt32
    public var node: String

    public init(wallMillis: Int64, counter: UInt32, node: String) {
        self.wallMillis = wallMillis
        self.counter = counter
        self.node = node
    }

    public static let zero = HLC(wallMillis: 0, counter: 0, node: "")

    public static func < (a: HLC, b: HLC) -> Bool {
        if a.wallMillis != b.wallMillis { return a.wallMillis < b.wallMillis }
        if a.counter != b.counter { return a.counter < b.counter }
        return a.node < b.node
    }

    /// `1732266000123.4@node-a`
    public var description: String { "\(wallMillis).\(counter)@\(node)" }
}

/// The clock that issues `HLC` stamps on one node. The wall time is passed in (pure).
public struct HybridClock: Sendable {
    public let node: String
    public private(set) var last: HLC

    public init(node: String, last: HLC? = nil) {
        self.node = node
        self.last = last ?? HLC(wallMillis: 0, counter: 0, node: node)
    }

    /// A stamp for a local event (a write made on this node).
    public mutating func tick(wallMillis: Int64) -> HLC {
        if wallMillis > last.wallMillis {
            last = HLC(wallMillis: wallMillis, counter: 0, node: node)
        } else {
            last = HLC(wallMillis: last.wallMillis, counter: last.counter &+ 1, node: node)
        }
        return last
    }

    /// Moves the clock past a stamp seen from another node, so later local writes order after it.
    public mutating func observe(_ remote: HLC, wallMillis: Int64) {
        let wall = max(wallMillis, last.wallMillis, remote.wallMillis)
        var counter: UInt32 = 0
        if wall == last.wallMillis && wall == remote.wallMillis {
            counter = max(last.counter, remote.counter) &+ 1
        } else if wall == last.wallMillis {
            counter = last.counter &+ 1
        } else if wall == remote.wallMillis {
            counter = remote.counter &+ 1
        }
        last = HLC(wallMillis: wall, counter: counter, node: node)
    }
}
