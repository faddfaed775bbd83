import Foundation
import Testing
import VossS3Core
import VossS3Store

/// Small objects' bytes written with their row (decision 50), on a real SQLite database.
@Suite struct InlineBlobTests {
    let store: SQLMetadataStore
    let bucket: BucketRecord

    init() async throws {
        store = try temporaryStore("inline")
        bucket = try await store.createBucket(name: "b", tenantID: "T", ownerID: "U", region: "us-east-1", policy: .private)
    }

    func object(_ key: String, blob: String, size: Int, bucketID: Int64? = nil) -> ObjectRecord {
        ObjectRecord(
            bucketID: bucketID ?? bucket.id, key: key, size: Int64(size), etag: "e", lastModified: Date(), headers: ObjectHeaders(),
            checksum: nil, policy: .private, tags: [:], storage: ObjectStorage(pieces: [.init(blob: blob, size: Int64(size))]),
            ownerID: "U", versionID: nil)
    }

    func put(_ o: ObjectRecord, _ inline: InlineBlob, condition: WriteCondition? = nil) async throws -> ObjectRecord? {
        try await withCheckedThrowingContinuation { c in
            store.putObjectSoon(o, versioned: false, condition: condition, inline: inline) { c.resume(with: $0) }
        }
    }

    @Test func bytesAndRowCommitTogether_andReadBackOnBothPaths() async throws {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try await put(object("k", blob: "local.db::1", size: bytes.count), InlineBlob(blob: "local.db::1", bytes: bytes)) == nil)
        #expect(try await store.object(bucketID: bucket.id, key: "k")?.storage.blobs == ["local.db::1"])
        #expect(try await store.inlineBlob("local.db::1") == bytes)
        #expect(try store.inlineBlobNow("local.db::1") == .some(bytes))
        #expect(try store.inlineBlobNow("local.db::none") == .some(nil))
        #expect(try await store.inlineBlob("local.db::none") == nil)
        // Nothing journalled: there was never a moment the bytes existed without their row.
        #expect(try await store.journal(before: nil).isEmpty)
        // Zero bytes are a value, not NULL.
        _ = try await put(object("empty", blob: "local.db::2", size: 0), InlineBlob(blob: "local.db::2", bytes: []))
        #expect(try await store.inlineBlob("local.db::2") == [])
    }

    @Test func aWriteThatFailsLeavesNoBytesBehind() async throws {
        // A condition that does not hold (If-None-Match: * on an existing key) rolls the bytes back too.
        _ = try await put(object("k", blob: "local.db::1", size: 1), InlineBlob(blob: "local.db::1", bytes: [1]))
        await #expect(throws: StoreError.self) {
            _ = try await put(object("k", blob: "local.db::2", size: 1), InlineBlob(blob: "local.db::2", bytes: [2]), condition: .absent)
        }
        #expect(try await store.inlineBlob("local.db::2") == nil)
        // So does a bucket that went away.
        await #expect(throws: StoreError.self) {
            _ = try await put(object("k", blob: "local.db::3", size: 1, bucketID: 999), InlineBlob(blob: "local.db::3", bytes: [3]))
        }
        #expect(try await store.inlineBlob("local.db::3") == nil)
        #expect(try await store.inlineBlob("local.db::1") == [1])
    }

    @Test func anOverwriteJournalsTheOldBlobAsGarbage_andDeleteRemovesIt() async throws {
        _ = try await put(object("k", blob: "local.db::1", size: 1), InlineBlob(blob: "local.db::1", bytes: [1]))
        let old = try await put(object("k", blob: "local.db::2", size: 1), InlineBlob(blob: "local.db::2", bytes: [2]))
        #expect(old?.storage.blobs == ["local.db::1"])
        #expect(try await store.journal(before: nil).map(\.blob) == ["local.db::1"])
        try await store.deleteInlineBlobs(["local.db::1", "local.db::missing"])
        #expect(try await store.inlineBlob("local.db::1") == nil)
        #expect(try await store.inlineBlob("local.db::2") == [2])
        try await store.putInlineBlob(InlineBlob(blob: "local.db::9", bytes: [9, 9]))
        #expect(try await store.inlineBlob("local.db::9") == [9, 9])
    }
}
