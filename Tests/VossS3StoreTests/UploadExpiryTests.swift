import Crypto
import Foundation
import Testing
import VossS3Core
import VossS3Store
import VossSQLite

/// Expiry of incomplete multipart uploads and exact keys, on a real SQLite store in a temp dir.
@Suite struct StoreHardeningTests {
    let store: SQLMetadataStore

    init() throws {
        let dir = NSTemporaryDirectory() + "voss-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try SQLMetadataStore.sqlite(path: dir + "/m.sqlite", secretKey: SymmetricKey(size: .bits256))
    }

    func bucket() async throws -> BucketRecord {
        try await store.createBucket(name: "b\(UInt32.random(in: 0...UInt32.max))", tenantID: "T", ownerID: "U", region: "us-east-1", policy: .private)
    }

    func upload(_ b: BucketRecord, _ id: String, at: Date) async throws {
        try await store.createUpload(UploadRecord(
            uploadID: id, bucketID: b.id, key: "k-" + id, initiated: at, headers: .init(), policy: .private, tags: [:],
            checksumAlgorithm: nil, checksumType: nil, ownerID: "U"))
        for n in 1...2 {
            try await store.journalNewBlob("blob-\(id)-\(n)")
            try await store.putPart(PartRecord(uploadID: id, partNumber: n, size: 1, etag: "e", blob: "blob-\(id)-\(n)", checksum: nil, lastModified: at))
        }
    }

    @Test func oldUploadsExpire_recentOnesStay() async throws {
        let b = try await bucket()
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        try await upload(b, "old", at: now.addingTimeInterval(-8 * 86400))
        try await upload(b, "new", at: now.addingTimeInterval(-3600))
        let (gone, blobs) = try await UploadExpiry.sweep(store, now: now, maxAge: 7 * 86400)
        #expect(gone.map(\.uploadID) == ["old"])
        #expect(Set(blobs) == ["blob-old-1", "blob-old-2"])
        #expect(try await store.upload(id: "old") == nil)
        #expect(try await store.upload(id: "new") != nil)
        // The expired parts are journalled as garbage: a crash before their deletion loses nothing.
        #expect(Set(try await store.journal(before: nil).filter { $0.blob.hasPrefix("blob-old") }.map(\.blob)) == ["blob-old-1", "blob-old-2"])
        let again = try await UploadExpiry.sweep(store, now: now, maxAge: 7 * 86400)
        #expect(again.uploads.isEmpty)
    }

    @Test func keysWithNULAreStoredWhole() async throws {
        let b = try await bucket()
        func obj(_ key: String, _ etag: String) -> ObjectRecord {
            ObjectRecord(bucketID: b.id, key: key, size: 1, etag: etag, lastModified: Date(), headers: .init(), checksum: nil,
                         policy: .private, tags: [:], storage: ObjectStorage(pieces: []), ownerID: "U")
        }
        try await store.putObject(obj("victim.txt", "good"))
        try await store.putObject(obj("victim.txt\u{0}evil", "evil"))
        #expect(try await store.object(bucketID: b.id, key: "victim.txt")?.etag == "good")
        #expect(try await store.object(bucketID: b.id, key: "victim.txt\u{0}x") == nil)
        #expect(try await store.deleteObject(bucketID: b.id, key: "victim.txt\u{0}x") == nil)
        #expect(try await store.object(bucketID: b.id, key: "victim.txt")?.etag == "good")
    }
}
