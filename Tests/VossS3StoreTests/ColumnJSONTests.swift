import Foundation
import Synchronization
import Testing
import VossBase
import VossChecksums
import VossS3Core

@testable import VossS3Store

/// The hand-written JSON of the object columns is byte for byte what `JSONEncoder` writes (what rows
/// written before it hold, and what every reader decodes).
struct ColumnJSONTests {
    static func encoded<T: Encodable>(_ v: T) -> String {
        String(decoding: try! SQLMetadataStore.encoder.encode(v), as: UTF8.self)
    }

    /// Strings that exercise every escape: all of ASCII, DEL, multi-byte UTF-8, a line separator.
    static let awkward: [String] = {
        var all = ""
        for c in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        return ["", all, "a/b\\c\"d", "\u{7f}é€😀\u{2028}", "text/plain; charset=utf-8", "+/=", "\r\n\t\u{8}\u{c}\0"]
    }()

    static func randomString(_ rng: inout SplitMix64) -> String {
        let pool: [Unicode.Scalar] = (0..<0x80).map { Unicode.Scalar(UInt8($0)) } + ["é", "€", "😀", "\u{2028}", "ß"]
        let n = Int(rng.next() % 12)
        var s = String.UnicodeScalarView()
        for _ in 0..<n { s.append(pool[Int(rng.next() % UInt64(pool.count))]) }
        return String(s)
    }

    @Test func storageMatchesJSONEncoder() {
        let pieces: [ObjectStorage.Piece] = [
            .init(blob: "0123abcd", size: 4096),
            .init(blob: "up:tenant:ff", size: 5 << 20, offset: 5 << 20, iv: "AAEC/+==", checksum: "x/y=="),
            .init(blob: "", size: 0, offset: 0, iv: "", checksum: ""),
            .init(blob: "b", size: Int64.max, offset: Int64.min),
        ]
        let encryptions: [ObjectEncryption?] = [
            nil, ObjectEncryption(mode: .s3, keyID: "k1", wrappedKey: "w/+=", customerKeyMD5: nil),
            ObjectEncryption(mode: .customer, keyID: nil, wrappedKey: "", customerKeyMD5: "m/d5=="),
        ]
        for e in encryptions {
            for n in 0...pieces.count {
                let s = ObjectStorage(pieces: Array(pieces.prefix(n)), encryption: e)
                #expect(ColumnJSON.storage(s) == Self.encoded(s))
            }
        }
        for text in Self.awkward {
            let s = ObjectStorage(pieces: [.init(blob: text, size: 1, iv: text, checksum: text)], encryption: .init(mode: .s3, keyID: text, wrappedKey: text, customerKeyMD5: text))
            #expect(ColumnJSON.storage(s) == Self.encoded(s))
        }
    }

    @Test func checksumAndPolicyMatchJSONEncoder() {
        for a in ChecksumAlgorithm.allCases {
            for text in Self.awkward {
                let c = StoredChecksum(algorithm: a, value: text, type: text)
                #expect(ColumnJSON.checksum(c) == Self.encoded(c))
            }
        }
        let lists: [[String]?] = [nil, [], ["t1"], ["a/b", "\"q\"", "é"]]
        for canned in AccessPolicy.Canned.allCases {
            for l in lists {
                let p = AccessPolicy(
                    canned: canned, readTenants: l ?? [], writeTenants: l ?? ["w"], readACP: l, writeACP: l.map { $0 + ["x"] }, fullControl: l)
                #expect(ColumnJSON.policy(p) == Self.encoded(p))
            }
        }
        #expect(ColumnJSON.policy(AccessPolicy()) == Self.encoded(AccessPolicy()))
    }

    @Test func headersAndTagsMatchJSONEncoder() {
        var rng = SplitMix64(seed: 15)
        for round in 0..<300 {
            func maybe() -> String? { rng.next() % 3 == 0 ? nil : Self.randomString(&rng) }
            var meta: [String: String] = [:]
            for _ in 0..<Int(rng.next() % 4) { meta[Self.randomString(&rng)] = Self.randomString(&rng) }
            let h = ObjectHeaders(
                contentType: maybe(), contentEncoding: maybe(), contentDisposition: maybe(), contentLanguage: maybe(), cacheControl: maybe(),
                expires: maybe(), meta: meta)
            let ascii = meta.keys.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
            if let mine = ColumnJSON.headers(h) {
                #expect(ascii)
                #expect(mine == Self.encoded(h), "round \(round)")
            } else {
                #expect(!ascii)
            }
            if let mine = ColumnJSON.tags(meta) {
                #expect(mine == Self.encoded(meta), "round \(round)")
            } else {
                #expect(!ascii)
            }
        }
        // Keys that sort differently by case, digits and punctuation.
        let keys = ["a10": "1", "a9": "2", "B": "3", "a": "4", "_x": "5", "Z": "6", "a-b": "7", "a.b": "8", "": "9"]
        #expect(ColumnJSON.tags(keys) == Self.encoded(keys))
        #expect(ColumnJSON.headers(ObjectHeaders(meta: keys)) == Self.encoded(ObjectHeaders(meta: keys)))
        #expect(ColumnJSON.tags([:]) == Self.encoded([String: String]()))
        #expect(ColumnJSON.tags(["é": "x"]) == nil)
    }

    @Test func randomStoragesMatchJSONEncoder() {
        var rng = SplitMix64(seed: 48)
        for _ in 0..<300 {
            func maybe() -> String? { rng.next() % 2 == 0 ? nil : Self.randomString(&rng) }
            let pieces = (0..<Int(rng.next() % 3)).map { _ in
                ObjectStorage.Piece(
                    blob: Self.randomString(&rng), size: Int64(bitPattern: rng.next()), offset: rng.next() % 2 == 0 ? nil : Int64(bitPattern: rng.next()),
                    iv: maybe(), checksum: maybe())
            }
            let e = rng.next() % 2 == 0 ? nil : ObjectEncryption(mode: rng.next() % 2 == 0 ? .s3 : .customer, keyID: maybe(), wrappedKey: Self.randomString(&rng), customerKeyMD5: maybe())
            let s = ObjectStorage(pieces: pieces, encryption: e)
            #expect(ColumnJSON.storage(s) == Self.encoded(s))
        }
    }
}

/// A write keeps the record a read of its row decodes to (`remember`): what the next overwrite or GET
/// of the key gets without decoding must be exactly what decoding the stored row gives.
@Suite struct RememberedObjectTests {
    @Test func theRememberedRecordIsWhatTheStoredRowDecodesTo() async throws {
        let store = try temporaryStore("remember")
        let b = try await store.createBucket(name: "b", tenantID: "T", ownerID: "U", region: "us-east-1", policy: .private)
        let records = [
            ObjectRecord(
                bucketID: b.id, key: "plain", size: 1, etag: "e", lastModified: Date(timeIntervalSince1970: 1_780_000_000.123456),
                headers: ObjectHeaders(), checksum: nil, policy: .private, tags: [:], storage: ObjectStorage(pieces: [.init(blob: "b1", size: 1)]),
                ownerID: "U"),
            ObjectRecord(
                bucketID: b.id, key: "dir/é full", size: 4096, etag: "abc-2", lastModified: Date(),
                headers: ObjectHeaders(contentType: "text/plain; charset=utf-8", cacheControl: "no-cache", meta: ["a-b": "c/d", "x": "\"y\""]),
                checksum: StoredChecksum(algorithm: .crc64nvme, value: "AAEC/+8=", type: "FULL_OBJECT"),
                policy: AccessPolicy(canned: .publicRead, readTenants: ["t2"], readACP: ["u3"]), tags: ["k": "v", "ü": "ö"],
                storage: ObjectStorage(
                    pieces: [.init(blob: "p1", size: 5 << 20, iv: "iv/1", checksum: "c1"), .init(blob: "p2", size: 7, offset: 0, iv: "iv+2")],
                    encryption: ObjectEncryption(mode: .s3, keyID: "k1", wrappedKey: "w/=", customerKeyMD5: nil)),
                ownerID: "U", versionID: "v1", uploadID: "up1",
                lock: ObjectLock(mode: .governance, retainUntil: Date(timeIntervalSince1970: 1_900_000_000.987654), legalHold: true)),
        ]
        for o in records {
            _ = try await store.putObject(o, versioned: false, condition: nil)
            let remembered = try #require(store.decoded.withLock { $0["\(o.bucketID)/\(o.key)"] })
            let row = try await store.backend.read { c in
                try c.query("SELECT \(SQLMetadataStore.objectColumns) FROM objects WHERE bucket_id = ? AND key = ?", [.int(o.bucketID), .text(o.key)])
            }
            #expect(row.count == 1)
            #expect(remembered.raw == row[0])
            #expect(remembered.record == (try SQLMetadataStore.object(row[0])))
        }
    }
}
