import VossBase

/// One S3 gateway the translator can send a connection to.
public struct Backend: Codable, Equatable, Hashable, Sendable {
    /// The member (node) name.
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }
}

/// The translator's backend choice: the live gateways pushed by the keeper, their open connections,
/// and passive health (a failed connect takes a backend out for a while).
///
/// Choice: power of two choices on open connections (Mitzenmacher) — two random healthy candidates,
/// the one with fewer connections wins — which spreads load nearly as well as least-connections
/// without every proxy piling onto the same idle backend. Pure; callers hold it under a lock.
public struct BackendTable: Sendable {
    public struct Entry: Equatable, Sendable {
        public var backend: Backend
        public var active: Int
        public var total: Int
        public var failedConnects: Int
        /// Consecutive failures; resets on a good connect.
        public var streak: Int
        public var downUntil: Instant?
    }

    public private(set) var entries: [String: Entry] = [:]
    private var rng: SplitMix64
    /// How long a backend that refused a connection is skipped: doubles per consecutive failure.
    public var cooldown: Duration = .seconds(1)
    public var maxCooldown: Duration = .seconds(10)

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// The keeper's new list: counters of backends still listed (at the same address) are kept.
    public mutating func update(_ backends: [Backend]) {
        var next: [String: Entry] = [:]
        for b in backends {
            if var e = entries[b.name], e.backend == b {
                e.backend = b
                next[b.name] = e
            } else {
                next[b.name] = Entry(backend: b, active: entries[b.name]?.active ?? 0, total: 0, failedConnects: 0, streak: 0, downUntil: nil)
            }
        }
        entries = next
    }

    public var backends: [Backend] { entries.values.map(\.backend).sorted { $0.name < $1.name } }

    func healthy(_ e: Entry, now: Instant) -> Bool { e.downUntil.map { now >= $0 } ?? true }

    /// A backend for a new connection, not one of `excluding` (already tried for it). Healthy ones
    /// first; when every untried one is cooling down, the one whose cooldown ends first (better a
    /// second chance than refusing the client).
    public mutating func pick(excluding: Set<String> = [], now: Instant) -> Backend? {
        let untried = entries.values.filter { !excluding.contains($0.backend.name) }.sorted { $0.backend.name < $1.backend.name }
        guard !untried.isEmpty else { return nil }
        let ok = untried.filter { healthy($0, now: now) }
        if ok.isEmpty {
            return untried.min { ($0.downUntil ?? now) < ($1.downUntil ?? now) }?.backend
        }
        if ok.count == 1 { return ok[0].backend }
        let i = Int.random(in: 0..<ok.count, using: &rng)
        var j = Int.random(in: 0..<(ok.count - 1), using: &rng)
        if j >= i { j += 1 }
        let (a, b) = (ok[i], ok[j])
        return (a.active < b.active || (a.active == b.active && a.total <= b.total)) ? a.backend : b.backend
    }

    public mutating func connected(_ name: String) {
        guard var e = entries[name] else { return }
        e.active += 1
        e.total += 1
        e.streak = 0
        e.downUntil = nil
        entries[name] = e
    }

    public mutating func closed(_ name: String) {
        guard var e = entries[name] else { return }
        e.active = max(0, e.active - 1)
        entries[name] = e
    }

    public mutating func connectFailed(_ name: String, now: Instant) {
        guard var e = entries[name] else { return }
        e.failedConnects += 1
        e.streak += 1
        var d = cooldown
        for _ in 1..<min(e.streak, 8) { d = d * 2 }
        e.downUntil = now + min(d, maxCooldown)
        entries[name] = e
    }

    public var activeConnections: Int { entries.values.reduce(0) { $0 + $1.active } }
}

/// Which live member holds the virtual address when ownership is on: rendezvous (highest random
/// weight) hashing of member name and address. Every node computes the same owner from the same
/// membership, and the owner changes only when it leaves the set (a new member takes over only the
/// addresses it hashes highest for).
public enum VIPOwnership {
    public static func owner(of address: String, among candidates: [String]) -> String? {
        candidates.max { a, b in
            let (wa, wb) = (weight(a, address), weight(b, address))
            return wa != wb ? wa < wb : a < b
        }
    }

    static func weight(_ member: String, _ address: String) -> UInt64 {
        // FNV-1a 64, then a SplitMix64 finaliser so similar names spread.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in member.utf8 + [0] + address.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        var r = SplitMix64(seed: h)
        return r.next()
    }
}
