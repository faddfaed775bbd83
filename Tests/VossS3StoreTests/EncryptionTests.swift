import Crypto
import Foundation
import Testing
import VossBase
import VossS3Core
import VossS3Store

/// AES-256-CTR from any position, data-key wrapping, and SSE-S3 key rotation on a real SQLite store
/// with an injected clock.
@Suite struct EncryptionTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = Array(hex.utf8)[...]
        while let h = it.popFirst(), let l = it.popFirst() { out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!) }
        return out
    }

    /// NIST SP 800-38A, F.5.5 (CTR-AES256.Encrypt), all four blocks.
    @Test func nistVector() throws {
        let key = SymmetricKey(data: Self.bytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"))
        let iv = Self.bytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        let plain = Self.bytes(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
        let cipher = Self.bytes(
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6")
        var s = try #require(CTRStream(key: key, iv: iv))
        #expect(s.apply(plain) == cipher)
        // Decrypting from the middle of a block, as a ranged GET does.
        for start in [0, 1, 15, 16, 17, 31, 47, 63] {
            var d = try #require(CTRStream(key: key, iv: iv, position: Int64(start)))
            #expect(d.apply(Array(cipher[start...])) == Array(plain[start...]), "from \(start)")
        }
    }

    /// Any split of the stream into writes gives the same bytes as one write.
    @Test func splitsAgree() throws {
        let key = SSE.newDataKey()
        let iv = try #require(SSE.iv(SSE.newIV()))
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var whole = try #require(CTRStream(key: key, iv: iv))
        let expected = whole.apply(data)
        var rng = SplitMix64(seed: 42)
        for _ in 0..<50 {
            var s = try #require(CTRStream(key: key, iv: iv))
            var out: [UInt8] = []
            var i = 0
            while i < data.count {
                let n = min(data.count - i, Int(rng.next() % 40) + 1)
                out += s.apply(Array(data[i..<(i + n)]))
                i += n
            }
            #expect(out == expected)
        }
    }

    /// The 128-bit counter wraps instead of trapping (an IV near the top of the range).
    @Test func counterWraps() throws {
        let top = [UInt8](repeating: 0xFF, count: 16)
        #expect(CTRStream.counterBlock(top, block: 1) == [UInt8](repeating: 0, count: 16))
        #expect(CTRStream.counterBlock([0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], block: 2)
            == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
        var s = try #require(CTRStream(key: SSE.newDataKey(), iv: top, position: Int64.max - 3))
        #expect(s.apply([1, 2, 3]).count == 3)
        #expect(CTRStream(key: SSE.newDataKey(), iv: [1, 2, 3]) == nil)
        #expect(CTRStream(key: SSE.newDataKey(), iv: top, position: -1) == nil)
    }

    @Test func wrapping() {
        let kek = SymmetricKey(size: .bits256)
        let dk = SSE.newDataKey()
        let w = SSE.wrap(dk, with: kek, context: "a")
        #expect(SSE.unwrap(w, with: kek, context: "a").map { $0 == dk } == true)
        #expect(SSE.unwrap(w, with: kek, context: "b") == nil)
        #expect(SSE.unwrap(w, with: SymmetricKey(size: .bits256), context: "a") == nil)
        #expect(SSE.unwrap("not base64!", with: kek, context: "a") == nil)
        #expect(SSE.unwrap(String(w.dropLast(4)) + "AAAA", with: kek, context: "a") == nil)
    }

    func store() throws -> SQLMetadataStore { try temporaryStore("sse") }

    func object(_ b: BucketRecord, _ key: String, _ e: ObjectEncryption) -> ObjectRecord {
        ObjectRecord(
            bucketID: b.id, key: key, size: 1, etag: "e", lastModified: Date(), headers: ObjectHeaders(), checksum: nil, policy: .private,
            tags: [:], storage: ObjectStorage(pieces: [.init(blob: key, size: 1, iv: SSE.newIV())], encryption: e), ownerID: "U")
    }

    /// Rotation adds a key when the newest is due, rewraps every data key (current objects, older
    /// versions, uploads) to it, and deletes the old key once nothing refers to it; the data keys
    /// themselves — and so the object bytes — never change.
    @Test func rotation() async throws {
        let store = try store()
        let secret = SymmetricKey(size: .bits256)
        let ring = SSEKeyRing(store: store, secretKey: secret)
        let t0 = Date(timeIntervalSince1970: 1_780_000_000)
        let day: TimeInterval = 86_400
        // Nothing encrypted yet: no key is made by a rotation run.
        #expect(try await ring.rotate(now: t0, period: 90 * day) == SSEKeyRing.Rotation())
        #expect(try await store.sseKeys().isEmpty)

        var b = try await store.createBucket(name: "b1", tenantID: "T", ownerID: "U", region: "r", policy: .private)
        b.settings.versioning = .enabled
        try await store.updateBucket(b)
        var keys: [String: SymmetricKey] = [:]
        for i in 0..<7 {
            let (dk, e) = try await ring.newDataKey(now: t0)
            var o = object(b, "k\(i % 3)", e)
            o.versionID = "v\(i)"
            keys["k\(i % 3)/v\(i)"] = dk
            _ = try await store.putObject(o, versioned: true, condition: nil)
        }
        let (uploadKey, ue) = try await ring.newDataKey(now: t0)
        try await store.createUpload(
            UploadRecord(
                uploadID: "u1", bucketID: b.id, key: "up", initiated: t0, headers: ObjectHeaders(), policy: .private, tags: [:],
                checksumAlgorithm: nil, checksumType: nil, ownerID: "U", encryption: ue))
        let first = try #require(try await store.sseKeys().first)
        #expect(try await store.sseKeys().count == 1)

        // Not due: nothing happens.
        #expect(try await ring.rotate(now: t0 + 89 * day, period: 90 * day) == SSEKeyRing.Rotation())
        // Due: a new key, 8 data keys rewrapped; the old key stays for the grace period.
        let r = try await ring.rotate(now: t0 + 90 * day, period: 90 * day, batch: 3)
        #expect(r.added != nil && r.rewrapped == 8 && r.retired.isEmpty)
        #expect(try await store.sseKeys().count == 2)
        // A day later the old key goes: nothing refers to it any more.
        let later = try await ring.rotate(now: t0 + 91 * day, period: 90 * day)
        #expect(later.added == nil && later.rewrapped == 0 && later.retired == [first.id])
        let left = try await store.sseKeys()
        #expect(left.count == 1 && left[0].id == r.added)

        // Every data key opens with a new key ring (no cache), and is the one it was.
        let fresh = SSEKeyRing(store: store, secretKey: secret)
        for (name, dk) in keys {
            let parts = name.split(separator: "/")
            let o = try #require(try await store.objectVersion(bucketID: b.id, key: String(parts[0]), versionID: String(parts[1])))
            #expect(o.storage.encryption?.keyID == r.added)
            #expect(try await fresh.dataKey(#require(o.storage.encryption)) == dk)
        }
        let u = try #require(try await store.upload(id: "u1"))
        #expect(try await fresh.dataKey(#require(u.encryption)) == uploadKey)
        // Another cluster key opens nothing.
        await #expect(throws: (any Error).self) { try await SSEKeyRing(store: store, secretKey: SymmetricKey(size: .bits256)).dataKey(u.encryption!) }
    }

    /// A write that took its data key from the old key before a rotation and commits after the
    /// rewrap pass: the old key is kept through the grace period, and the next run rewraps it.
    @Test func keyInUseIsKept() async throws {
        let store = try store()
        let ring = SSEKeyRing(store: store, secretKey: SymmetricKey(size: .bits256))
        let t0 = Date(timeIntervalSince1970: 1_780_000_000)
        let b = try await store.createBucket(name: "b2", tenantID: "T", ownerID: "U", region: "r", policy: .private)
        let (_, e) = try await ring.newDataKey(now: t0)
        let first = try await ring.rotate(now: t0, period: 1, force: true)
        #expect(first.added != nil && first.retired.isEmpty)
        // The write lands after the rewrap pass.
        try await store.putObject(object(b, "late", e))
        #expect(try await store.retireSSEKey(id: e.keyID!) == false)
        let r = try await ring.rotate(now: t0 + 10, period: 1_000_000, grace: 0)
        #expect(r.rewrapped == 1 && r.retired == [e.keyID!])
    }
}

