import Synchronization

/// Slows down password guessing (issue 16): failed logins are counted per user and per client
/// address; after `free` failures within `window`, every further attempt from that user or address
/// must wait `2^(failures − free)` seconds (capped at `maxDelay`) after the last failure, and is
/// refused unchecked until then (429 with `Retry-After`). A successful login clears the user's and
/// the address's count. Pure apart from its lock: the clock is passed in.
final class LoginThrottle: Sendable {
    struct Entry {
        var failures: Int
        var last: Double
    }

    let free: Int
    let window: Double
    let maxDelay: Double
    /// Entries kept at most (oldest dropped first): a flood of invented user names cannot grow it.
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(free: Int = 5, window: Double = 900, maxDelay: Double = 900, capacity: Int = 10_000) {
        self.free = free
        self.window = window
        self.maxDelay = maxDelay
        self.capacity = capacity
    }

    static func userKey(tenant: String, user: String) -> String { "u\u{0}" + tenant + "\u{0}" + user }
    static func addressKey(_ address: String) -> String { "a\u{0}" + address }

    /// Seconds the caller must still wait (0: it may try now).
    func wait(keys: [String], now: Double) -> Double {
        entries.withLock { e in keys.map { k in e[k].map { delay($0, now: now) } ?? 0 }.max() ?? 0 }
    }

    func delay(_ entry: Entry, now: Double) -> Double {
        if now - entry.last >= window { return 0 }
        guard entry.failures >= free else { return 0 }
        let exponent = min(entry.failures - free, 20)
        let d = min(Double(1 << exponent), maxDelay)
        return max(0, entry.last + d - now)
    }

    func failed(keys: [String], now: Double) {
        entries.withLock { e in
            for k in keys {
                var entry = e[k] ?? Entry(failures: 0, last: now)
                if now - entry.last >= window { entry.failures = 0 }
                entry.failures += 1
                entry.last = now
                e[k] = entry
            }
            if e.count > capacity {
                // Forget the stalest first (a scan only when full).
                let drop = e.sorted { $0.value.last < $1.value.last }.prefix(e.count - capacity * 9 / 10)
                for (k, _) in drop { e[k] = nil }
            }
        }
    }

    /// Entries held (for tests).
    var count: Int { entries.withLock { $0.count } }

    func succeeded(keys: [String]) {
        entries.withLock { e in for k in keys { e[k] = nil } }
    }
}
