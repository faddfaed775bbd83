import Foundation
import Testing
import VossS3Core
import VossS3Store

/// Versions in the store (real SQLite in a temporary directory): which version is current, what a
/// write, a delete marker and a permanent delete release, and the order ListObjectVersions reads.
@Suite struct VersionStoreTests {
    let store: SQLMetadataStore
    let bucket: BucketRecord

    init() async throws {
        store = try temporaryStore("versions")
        bucket = try await store.createBucket(name: "b", tenantID: "T", ownerID: "U", region: "us-east-1", policy: .private)
    }

    func object(_ key: String, _ version: String?, blob: String, etag: String = "e") -> ObjectRecord {
        ObjectRecord(
            bucketID: bucket.id, key: key, size: 1, etag: etag, lastModified: Date(), headers: ObjectHeaders(), checksum: nil,
            policy: .private, tags: [:], storage: ObjectStorage(pieces: [.init(blob: blob, size: 1)]), ownerID: "U", versionID: version)
    }

    func versions(_ prefix: String = "") async throws -> [String] {
        try await store.listVersions(bucketID: bucket.id, prefix: prefix, from: "", maxSeq: VersionSummary.currentSeq, limit: 100)
            .map { "\($0.key)@\($0.versionID ?? "null")\($0.deleteMarker ? "(marker)" : "")" }
    }

    func garbage() async throws -> Set<String> {
        Set(try await store.journal(before: nil).filter { $0.kind == .garbage }.map(\.blob))
    }

    @Test func enabledWritesKeepEveryVersionNewestFirst() async throws {
        #expect(try await store.putObject(object("k", nil, blob: "b0"), versioned: true, condition: nil) == nil)
        #expect(try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil) == nil)
        #expect(try await store.putObject(object("k", "v2", blob: "b2"), versioned: true, condition: nil) == nil)
        #expect(try await versions() == ["k@v2", "k@v1", "k@null"])
        #expect(try await store.object(bucketID: bucket.id, key: "k")?.versionID == "v2")
        #expect(try await store.objectVersion(bucketID: bucket.id, key: "k", versionID: nil)?.storage.blobs == ["b0"])
        #expect(try await garbage().isEmpty)
    }

    /// The one-trip read a GET uses agrees with the two reads it replaces, delete markers included.
    @Test func bucketAndObjectReadTogetherAgreeWithSeparateReads() async throws {
        #expect(try await store.bucketAndObject(named: "nope", key: "k") == nil)
        #expect(try await store.bucketAndObject(named: "b", key: "k").map { $0.object == nil && $0.bucket.id == bucket.id } == true)
        try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil)
        #expect(try await store.bucketAndObject(named: "b", key: "k")?.object?.versionID == "v1")
        let marker = ObjectRecord.marker(bucketID: bucket.id, key: "k", versionID: "m1", ownerID: "U", at: Date())
        try await store.deleteObject(bucketID: bucket.id, key: "k", marker: marker)
        #expect(try await store.object(bucketID: bucket.id, key: "k") == nil)
        #expect(try await store.bucketAndObject(named: "b", key: "k").map { $0.object == nil } == true)
    }

    @Test func aDeleteMarkerHidesTheKeyAndRemovingItBringsTheObjectBack() async throws {
        try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil)
        let marker = ObjectRecord.marker(bucketID: bucket.id, key: "k", versionID: "m1", ownerID: "U", at: Date())
        #expect(try await store.deleteObject(bucketID: bucket.id, key: "k", marker: marker) == nil)
        #expect(try await store.object(bucketID: bucket.id, key: "k") == nil)
        #expect(try await store.latestDeleteMarker(bucketID: bucket.id, key: "k")?.versionID == "m1")
        #expect(try await versions() == ["k@m1(marker)", "k@v1"])
        let removed = try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "m1")
        #expect(removed?.deleteMarker == true)
        // With the marker gone, v1 is current again.
        #expect(try await store.latestDeleteMarker(bucketID: bucket.id, key: "k") == nil)
        #expect(try await store.object(bucketID: bucket.id, key: "k")?.versionID == "v1")
        #expect(try await versions() == ["k@v1"])
        #expect(try await garbage().isEmpty)
    }

    @Test func deletingTheCurrentVersionPromotesTheNextAndReleasesOnlyItsData() async throws {
        try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil)
        try await store.putObject(object("k", "v2", blob: "b2"), versioned: true, condition: nil)
        let removed = try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "v2")
        #expect(removed?.storage.blobs == ["b2"])
        #expect(try await store.object(bucketID: bucket.id, key: "k")?.versionID == "v1")
        #expect(try await versions() == ["k@v1"])
        #expect(try await garbage() == ["b2"])
        // A version that does not exist: nothing happens.
        #expect(try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "nope") == nil)
    }

    @Test func suspendedWritesReplaceTheNullVersionWhereverItIs() async throws {
        try await store.putObject(object("k", nil, blob: "b0"), versioned: true, condition: nil)
        try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil)
        // Suspended: the new object is the null version; the old null version (noncurrent) goes.
        let released = try await store.putObject(object("k", nil, blob: "b2"), versioned: true, condition: nil)
        #expect(released?.storage.blobs == ["b0"])
        #expect(try await versions() == ["k@null", "k@v1"])
        // And again: the current null version is replaced.
        let again = try await store.putObject(object("k", nil, blob: "b3"), versioned: true, condition: nil)
        #expect(again?.storage.blobs == ["b2"])
        #expect(try await garbage() == ["b0", "b2"])
        // A suspended delete: a null delete marker; the null object's data is released.
        let marker = ObjectRecord.marker(bucketID: bucket.id, key: "k", versionID: nil, ownerID: "U", at: Date())
        #expect(try await store.deleteObject(bucketID: bucket.id, key: "k", marker: marker)?.storage.blobs == ["b3"])
        #expect(try await versions() == ["k@null(marker)", "k@v1"])
    }

    @Test func listingPagesByKeyAndVersionAndHonoursThePrefix() async throws {
        for k in ["a", "b", "c"] {
            for v in 1...3 { try await store.putObject(object(k, "\(k)\(v)", blob: "\(k)\(v)"), versioned: true, condition: nil) }
        }
        try await store.putObject(object("x/y", "x1", blob: "x1"), versioned: true, condition: nil)
        #expect(try await versions("x/") == ["x/y@x1"])
        // After b's second-newest version (b2): b1, then c.
        let seq = try #require(try await store.versionSeq(bucketID: bucket.id, key: "b", versionID: "b2"))
        let page = try await store.listVersions(bucketID: bucket.id, prefix: "", from: "b", maxSeq: seq - 1, limit: 2)
        #expect(page.map { $0.versionID ?? "" } == ["b1", "c3"])
        // After all of b.
        let next = try await store.listVersions(bucketID: bucket.id, prefix: "", from: "b", maxSeq: 0, limit: 1)
        #expect(next.map { $0.versionID ?? "" } == ["c3"])
    }

    @Test func conditionalWritesAreCheckedWhenTheyCommit() async throws {
        try await store.putObject(object("k", nil, blob: "b1", etag: "one"), versioned: false, condition: .absent)
        await #expect(throws: StoreError.preconditionFailed) {
            try await store.putObject(object("k", nil, blob: "b2"), versioned: false, condition: .absent)
        }
        await #expect(throws: StoreError.preconditionFailed) {
            try await store.putObject(object("k", nil, blob: "b2"), versioned: false, condition: .etag("two"))
        }
        await #expect(throws: StoreError.notFound("key")) {
            try await store.putObject(object("other", nil, blob: "b2"), versioned: false, condition: .etag("one"))
        }
        #expect(try await store.putObject(object("k", nil, blob: "b3", etag: "three"), versioned: false, condition: .etag("one")) != nil)
        #expect(try await store.object(bucketID: bucket.id, key: "k")?.etag == "three")
    }

    @Test func aCompletedUploadIsFoundByItsIDForARetry() async throws {
        var o = object("big", "v1", blob: "p1")
        o.uploadID = "UP1"
        try await store.createUpload(
            UploadRecord(uploadID: "UP1", bucketID: bucket.id, key: "big", initiated: Date(), headers: ObjectHeaders(), policy: .private,
                         tags: [:], checksumAlgorithm: nil, checksumType: nil, ownerID: "U"))
        try await store.completeUpload(uploadID: "UP1", object: o, versioned: true, condition: nil)
        #expect(try await store.completedObject(bucketID: bucket.id, key: "big", uploadID: "UP1")?.versionID == "v1")
        try await store.putObject(object("big", "v2", blob: "b2"), versioned: true, condition: nil)
        #expect(try await store.completedObject(bucketID: bucket.id, key: "big", uploadID: "UP1")?.versionID == "v1")
        #expect(try await store.completedObject(bucketID: bucket.id, key: "big", uploadID: "UP2") == nil)
    }

    @Test func aBucketWithOnlyOldVersionsIsNotEmpty() async throws {
        try await store.putObject(object("k", "v1", blob: "b1"), versioned: true, condition: nil)
        let marker = ObjectRecord.marker(bucketID: bucket.id, key: "k", versionID: "m1", ownerID: "U", at: Date())
        try await store.deleteObject(bucketID: bucket.id, key: "k", marker: marker)
        await #expect(throws: StoreError.notEmpty("versions")) { try await store.deleteBucket(id: bucket.id) }
    }

    @Test func aLockedVersionIsRefusedInTheDeletingTransaction() async throws {
        let now = Date()
        var o = object("k", "v1", blob: "b1")
        o.lock = ObjectLock(mode: .governance, retainUntil: now.addingTimeInterval(3600))
        try await store.putObject(o, versioned: true, condition: nil)
        try await store.putObject(object("k", "v2", blob: "b2"), versioned: true, condition: nil)
        await #expect(throws: StoreError.locked) {
            try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "v1", bypassGovernance: false, now: now)
        }
        // After the date, or with the bypass, it goes; a legal hold holds either way.
        #expect(try await store.updateObject(
            bucketID: bucket.id, key: "k", version: .some("v1"), tags: nil, policy: nil,
            lock: .some(ObjectLock(mode: .governance, retainUntil: now.addingTimeInterval(3600), legalHold: true))))
        await #expect(throws: StoreError.locked) {
            try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "v1", bypassGovernance: true, now: now.addingTimeInterval(7200))
        }
        #expect(try await store.updateObject(
            bucketID: bucket.id, key: "k", version: .some("v1"), tags: nil, policy: nil,
            lock: .some(ObjectLock(mode: .governance, retainUntil: now.addingTimeInterval(3600)))))
        #expect(try await store.deleteVersion(bucketID: bucket.id, key: "k", versionID: "v1", bypassGovernance: true, now: now)?.versionID == "v1")
        #expect(try await garbage() == ["b1"])
    }
}
