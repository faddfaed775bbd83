/// One configuration value with its version stamp. A `nil` value is a tombstone: the entry was
/// deleted, and the deletion wins over older writes when documents merge.
public struct ConfigEntry: Codable, Equatable, Sendable {
    public var value: String?
    public var stamp: HLC
    /// Secrets are encrypted at rest and hidden unless `--with-secret`.
    public var secret: Bool

    public init(value: String?, stamp: HLC, secret: Bool) {
        self.value = value
        self.stamp = stamp
        self.secret = secret
    }
}

/// The cluster-wide configuration: flat keys (`db.url`, `args.foo`, `cert.chain`) with per-entry
/// last-writer-wins merge. The typed views (`VossSettings`) are read from it; the schema
/// (`ConfigSchema`) says which keys exist, which are secret and how each is validated.
public struct ConfigDocument: Codable, Equatable, Sendable {
    public private(set) var entries: [String: ConfigEntry]

    public init(entries: [String: ConfigEntry] = [:]) { self.entries = entries }

    public subscript(key: String) -> String? { entries[key]?.value }

    /// Live (non-deleted) entries with a key prefix, e.g. all `args.` entries.
    public func values(withPrefix prefix: String) -> [(key: String, value: String)] {
        entries.compactMap { k, e in
            guard k.hasPrefix(prefix), let v = e.value else { return nil }
            return (k, v)
        }.sorted { $0.key < $1.key }
    }

    /// Writes a value (or a tombstone, for `nil`) stamped `stamp`. Returns `false` when an entry with a
    /// newer stamp is already present (the write lost).
    @discardableResult
    public mutating func set(_ key: String, _ value: String?, stamp: HLC, secret: Bool) -> Bool {
        if let existing = entries[key], existing.stamp >= stamp { return false }
        entries[key] = ConfigEntry(value: value, stamp: stamp, secret: secret)
        return true
    }

    /// Merges remote entries, last writer wins per entry. Returns the keys whose value changed.
    /// Commutative, associative and idempotent, so every node converges to the same document.
    public mutating func merge(_ remote: [String: ConfigEntry]) -> [String] {
        var changed: [String] = []
        for (key, entry) in remote {
            if let mine = entries[key], mine.stamp >= entry.stamp { continue }
            let old = entries[key]?.value
            entries[key] = entry
            if old != entry.value { changed.append(key) }
        }
        return changed.sorted()
    }

    /// The newest stamp in the document (`HLC.zero` for an empty one).
    public var newestStamp: HLC { entries.values.map(\.stamp).max() ?? .zero }

    /// A digest of every (key, stamp): equal digests mean equal documents (with overwhelming
    /// probability). Gossip compares digests before shipping whole documents.
    public var digest: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) {
            for b in s.utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            h ^= 0xFF
            h = h &* 0x100_0000_01b3
        }
        for key in entries.keys.sorted() {
            mix(key)
            mix(entries[key]!.stamp.description)
        }
        return h
    }

    /// The version `ose` shows: entry count and newest stamp, e.g. `17@1732266000123.0@node-a`.
    public var version: String {
        let live = entries.values.filter { $0.value != nil }.count
        return "\(live)@\(newestStamp)"
    }
}
