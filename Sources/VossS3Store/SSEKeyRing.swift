import Crypto
import Synchronization
import VossSigV4

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// SSE-S3's key-encryption keys (docs/decisions.md 42). Each is 256 random bits, kept in the
/// metadata store sealed by the master key — derived from the cluster key, so every node of a
/// cluster has it and a copy of the database alone opens nothing. The newest key wraps new data keys;
/// `rotate` adds a key when the newest is older than the rotation period, rewraps every data key
/// of the older keys with it and then deletes them, so a key that leaked stops opening anything.
public final class SSEKeyRing: Sendable {
    let store: any MetadataStore
    let master: SymmetricKey
    /// Keys by id, and the current key with when it was read (another node may rotate).
    let cache = Mutex<(keys: [String: SymmetricKey], current: (id: String, created: Date, read: ContinuousClock.Instant)?)>(([:], nil))

    /// `secretKey`: the gateway's secrets key (derived from the cluster key by the keeper).
    public init(store: any MetadataStore, secretKey: SymmetricKey) {
        self.store = store
        self.master = HKDF<SHA256>.deriveKey(inputKeyMaterial: secretKey, info: Array("voss sse-s3 master".utf8), outputByteCount: 32)
    }

    /// The key that wraps new data keys: the newest (made when there is none).
    public func current(now: Date) async throws -> (id: String, key: SymmetricKey) {
        if let c = cache.withLock({ $0.current }), ContinuousClock.now - c.read < .seconds(30), let k = cache.withLock({ $0.keys[c.id] }) {
            return (c.id, k)
        }
        var records = try await store.sseKeys()
        if records.isEmpty {
            _ = try await addKey(now: now)
            records = try await store.sseKeys()
        }
        guard let newest = records.last else { throw StoreError.internalError("no SSE-S3 key could be made") }
        let key = try open(newest)
        cache.withLock { $0.current = (newest.id, newest.created, ContinuousClock.now) }
        return (newest.id, key)
    }

    /// Key `id` (a data key's wrapping key).
    public func key(id: String) async throws -> SymmetricKey {
        if let k = cache.withLock({ $0.keys[id] }) { return k }
        guard let r = try await store.sseKeys().first(where: { $0.id == id }) else {
            throw StoreError.internalError("SSE-S3 key \(id) is not in the database")
        }
        return try open(r)
    }

    func open(_ r: SSEKeyRecord) throws -> SymmetricKey {
        guard let k = SSE.unwrap(r.wrapped, with: master, context: SSE.masterContext + " " + r.id) else {
            throw StoreError.internalError("SSE-S3 key \(r.id) cannot be opened with this node's cluster key")
        }
        cache.withLock { $0.keys[r.id] = k }
        return k
    }

    func addKey(now: Date) async throws -> String {
        // Strictly newer than the newest (the newest is the current key; ids are random).
        let created = try await store.sseKeys().last.map { max(now, $0.created.addingTimeInterval(0.001)) } ?? now
        var rng = SystemRandomNumberGenerator()
        let id = SigV4.hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let key = SymmetricKey(size: .bits256)
        try await store.addSSEKey(SSEKeyRecord(id: id, wrapped: SSE.wrap(key, with: master, context: SSE.masterContext + " " + id), created: created))
        cache.withLock {
            $0.keys[id] = key
            $0.current = nil
        }
        return id
    }

    /// A new data key wrapped by the current key.
    public func newDataKey(now: Date) async throws -> (SymmetricKey, ObjectEncryption) {
        let (id, kek) = try await current(now: now)
        let dataKey = SSE.newDataKey()
        return (dataKey, ObjectEncryption(mode: .s3, keyID: id, wrappedKey: SSE.wrap(dataKey, with: kek, context: SSE.s3Context(keyID: id)), customerKeyMD5: nil))
    }

    /// The data key of an SSE-S3 object or upload.
    public func dataKey(_ e: ObjectEncryption) async throws -> SymmetricKey {
        guard e.mode == .s3, let id = e.keyID else { throw StoreError.internalError("not an SSE-S3 data key") }
        guard let k = SSE.unwrap(e.wrappedKey, with: try await key(id: id), context: SSE.s3Context(keyID: id)) else {
            throw StoreError.internalError("a data key does not open with SSE-S3 key \(id)")
        }
        return k
    }

    /// The keys, oldest first, with the current one (the newest) and how many data keys each wraps.
    public func keys() async throws -> [(record: SSEKeyRecord, current: Bool, dataKeys: Int)] {
        let records = try await store.sseKeys()
        var out: [(SSEKeyRecord, Bool, Int)] = []
        for (i, r) in records.enumerated() { out.append((r, i == records.count - 1, try await store.sseKeyUsage(id: r.id))) }
        return out
    }

    public struct Rotation: Sendable, Equatable {
        /// The key made by this run, if the newest was due.
        public var added: String?
        public var rewrapped = 0
        public var retired: [String] = []

        public init() {}
    }

    /// Makes a new key when the newest is older than `period` (or `force`), then rewraps the data
    /// keys of every older key (`batch` rows per transaction) and deletes the keys nothing refers to
    /// once the newest is `grace` old (a PUT that took its data key from an older key before the
    /// rotation may still be streaming; it commits well within that, and the next run rewraps it).
    /// Safe to stop anywhere: every step is its own transaction and the next run carries on.
    public func rotate(now: Date, period: TimeInterval, force: Bool = false, grace: TimeInterval = 86_400, batch: Int = 500) async throws
        -> Rotation
    {
        var result = Rotation()
        var records = try await store.sseKeys()
        guard !records.isEmpty else { return result }  // nothing encrypted yet: the first key is made on first use
        if force || now.timeIntervalSince(records[records.count - 1].created) >= period {
            result.added = try await addKey(now: now)
            records = try await store.sseKeys()
        }
        guard let newest = records.last else { return result }
        let newKey = try open(newest)
        for old in records.dropLast() {
            let oldKey = try open(old)
            while true {
                let n = try await store.rewrapSSE(from: old.id, limit: batch) { e in
                    guard let dk = SSE.unwrap(e.wrappedKey, with: oldKey, context: SSE.s3Context(keyID: old.id)) else { return nil }
                    var out = e
                    out.keyID = newest.id
                    out.wrappedKey = SSE.wrap(dk, with: newKey, context: SSE.s3Context(keyID: newest.id))
                    return out
                }
                result.rewrapped += n
                if n < batch { break }
            }
            if now.timeIntervalSince(newest.created) >= grace, try await store.retireSSEKey(id: old.id) {
                result.retired.append(old.id)
                cache.withLock { _ = $0.keys.removeValue(forKey: old.id) }
            }
        }
        return result
    }
}
