import Crypto
import Foundation
import Testing
import VossS3Core
import VossS3Store
import VossSQLite

/// The lifecycle runner's work on a real SQLite store with an injected clock: no test waits days.
@Suite struct LifecycleSweepTests {
    let store: SQLMetadataStore
    let path: String
    let day: TimeInterval = 86_400
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    init() throws {
        let dir = NSTemporaryDirectory() + "voss-lifecycle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = "\(dir)/m.sqlite"
        store = SQLMetadataStore(backend: try SQLiteBackend(path: path), secretKey: SymmetricKey(size: .bits256), nodeID: "n1")
    }

    func bucket(_ rules: String, versioning: VersioningStatus? = nil) async throws -> BucketRecord {
        var b = try await store.createBucket(name: "b\(UUID().uuidString.prefix(8).lowercased())", tenantID: "T", ownerID: "U", region: "r", policy: .private)
        b.settings.lifecycle = try Lifecycle.parse(Array("<LifecycleConfiguration>\(rules)</LifecycleConfiguration>".utf8)).get()
        b.settings.versioning = versioning
        try await store.updateBucket(b)
        return b
    }

    func object(_ b: BucketRecord, _ key: String, _ version: String?, at: Date, lock: ObjectLock? = nil) -> ObjectRecord {
        ObjectRecord(
            bucketID: b.id, key: key, size: 1, etag: "e", lastModified: at, headers: ObjectHeaders(), checksum: nil, policy: .private,
            tags: [:], storage: ObjectStorage(pieces: [.init(blob: "\(key)-\(version ?? "null")", size: 1)]), ownerID: "U",
            versionID: version, lock: lock)
    }

    func run(_ b: BucketRecord, at now: Date) async throws -> LifecycleSweep.Outcome {
        var n = 0
        return try await LifecycleSweep.run(store, bucket: b, now: now, newVersionID: {
            n += 1
            return "m\(n)"
        }, batch: 2)
    }

    @Test func expiresByPrefixAndReleasesTheBytes() async throws {
        let b = try await bucket("<Rule><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>")
        for k in ["logs/a", "logs/b", "logs/c", "keep"] { try await store.putObject(object(b, k, nil, at: t0)) }
        #expect(try await run(b, at: t0.addingTimeInterval(day / 2)).expired == 0)
        let out = try await run(b, at: t0.addingTimeInterval(2 * day))
        #expect(out.expired == 3 && Set(out.blobs) == ["logs/a-null", "logs/b-null", "logs/c-null"])
        #expect(try await store.listObjects(bucketID: b.id, prefix: "", after: "", inclusive: false, limit: 10).map(\.key) == ["keep"])
        // Again: nothing left to do (a run cut short is finished by the next one).
        #expect(try await run(b, at: t0.addingTimeInterval(2 * day)) == LifecycleSweep.Outcome())
    }

    @Test func versionedBucketsGetMarkersAndLoseOldVersionsButNotLockedOnes() async throws {
        let b = try await bucket(
            """
            <Rule><ID>a</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>10</Days></Expiration>
              <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
            <Rule><ID>b</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
            """, versioning: .enabled)
        let locked = ObjectLock(mode: .compliance, retainUntil: t0.addingTimeInterval(100 * day))
        try await store.putObject(object(b, "k", "v1", at: t0, lock: locked), versioned: true, condition: nil)
        try await store.putObject(object(b, "k", "v2", at: t0.addingTimeInterval(1)), versioned: true, condition: nil)
        try await store.putObject(object(b, "k", "v3", at: t0.addingTimeInterval(2)), versioned: true, condition: nil)
        // Day 3: v1 and v2 have been noncurrent for more than a day; v1 is locked and stays.
        let first = try await run(b, at: t0.addingTimeInterval(3 * day))
        #expect(first.noncurrent == 1 && first.locked == 1 && first.blobs == ["k-v2"])
        // Day 11: the current version expires — a delete marker on top, nothing deleted.
        let second = try await run(b, at: t0.addingTimeInterval(11 * day))
        #expect(second.expired == 1 && second.blobs.isEmpty)
        #expect(try await store.object(bucketID: b.id, key: "k") == nil)
        #expect(try await store.latestDeleteMarker(bucketID: b.id, key: "k")?.versionID == "m1")
        // Day 13: v3 (noncurrent since day 11) goes; v1 is still locked, so the marker is not alone.
        let third = try await run(b, at: t0.addingTimeInterval(13 * day))
        #expect(third.noncurrent == 1 && third.markers == 0 && third.locked == 1)
        // Day 200: the lock has run out: v1 goes, then the lone marker on the next run.
        #expect(try await run(b, at: t0.addingTimeInterval(200 * day)).noncurrent == 1)
        #expect(try await run(b, at: t0.addingTimeInterval(200 * day)).markers == 1)
        #expect(try await store.listVersions(bucketID: b.id, prefix: "", from: "", maxSeq: VersionSummary.currentSeq, limit: 10).isEmpty)
    }

    @Test func anObjectReplacedAfterTheDecisionIsKept() async throws {
        let b = try await bucket("<Rule><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>")
        let old = object(b, "k", nil, at: t0)
        try await store.putObject(old)
        var fresh = object(b, "k", nil, at: t0.addingTimeInterval(5 * day))
        fresh.etag = "new"
        try await store.putObject(fresh)
        await #expect(throws: StoreError.preconditionFailed) {
            try await store.deleteObject(bucketID: b.id, key: "k", marker: nil, expected: old)
        }
        #expect(try await store.object(bucketID: b.id, key: "k")?.etag == "new")
    }

    @Test func incompleteUploadsAreAborted() async throws {
        let b = try await bucket("<Rule><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>")
        for (id, key) in [("U1", "up/a"), ("U2", "other")] {
            try await store.createUpload(
                UploadRecord(uploadID: id, bucketID: b.id, key: key, initiated: t0, headers: ObjectHeaders(), policy: .private, tags: [:],
                             checksumAlgorithm: nil, checksumType: nil, ownerID: "U"))
            try await store.putPart(PartRecord(uploadID: id, partNumber: 1, size: 1, etag: "e", blob: "\(id)-p1", checksum: nil, lastModified: t0))
        }
        let out = try await run(b, at: t0.addingTimeInterval(3 * day))
        #expect(out.aborted == 1 && out.blobs == ["U1-p1"])
        #expect(try await store.upload(id: "U1") == nil)
        #expect(try await store.upload(id: "U2") != nil)
    }

    @Test func oneNodeHoldsTheLease() async throws {
        #expect(try await store.acquireLease("lifecycle", now: t0, seconds: 60))
        #expect(try await store.acquireLease("lifecycle", now: t0.addingTimeInterval(30), seconds: 60))  // renewed by its holder
        let other = SQLMetadataStore(backend: try SQLiteBackend(path: path), secretKey: SymmetricKey(size: .bits256), nodeID: "n2")
        #expect(try await !other.acquireLease("lifecycle", now: t0.addingTimeInterval(60), seconds: 60))
        #expect(try await other.acquireLease("lifecycle", now: t0.addingTimeInterval(91), seconds: 60))  // expired: taken over
        #expect(try await !store.acquireLease("lifecycle", now: t0.addingTimeInterval(100), seconds: 60))
    }
}
