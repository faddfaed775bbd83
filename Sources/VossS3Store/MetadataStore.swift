#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a store operation failed. The gateway maps these to S3 errors, the admin API to `ose` errors.
public enum StoreError: Error, Equatable, Sendable {
    /// A tenant, user or key of that name exists.
    case exists(String)
    case notFound(String)
    /// The bucket exists; `sameTenant` tells BucketAlreadyOwnedByYou from BucketAlreadyExists.
    case bucketExists(sameTenant: Bool)
    /// Deleting something that still holds things (bucket with objects, tenant with users/buckets).
    case notEmpty(String)
    /// The database cannot be reached or is read-only (failover in progress): retry later.
    case unavailable(String)
    /// Maintenance mode (migration running): reads work, writes answer 503.
    case readOnly(String)
    case internalError(String)
    /// A conditional write found the key in another state (`If-None-Match: *` / `If-Match`).
    case preconditionFailed
    /// The version is under retention or legal hold (object lock).
    case locked
}

/// A journal entry: a blob that is being written (`new`: delete it if its object never committed) or
/// that no object references any more (`garbage`: delete it).
public struct JournalEntry: Equatable, Sendable {
    public enum Kind: String, Sendable { case new, garbage }
    public var blob: String
    public var kind: Kind

    public init(blob: String, kind: Kind) {
        self.blob = blob
        self.kind = kind
    }
}

/// The metadata of tenants, users, keys, buckets, objects and multipart uploads. Implemented by the
/// embedded SQLite store and the PostgreSQL store; the gateway test suite runs against both.
///
/// Object bytes live elsewhere (a `BlobStore`); every operation that makes blobs unreferenced records
/// them as `garbage` in the same transaction, and `putObject`/`putPart`/`completeUpload` clear the
/// `new` entries of the blobs they commit, so a crash never leaks or tears data.
public protocol MetadataStore: Sendable {
    // Identity
    func createTenant(name: String) async throws -> TenantRecord
    func tenants() async throws -> [TenantRecord]
    func tenant(named: String) async throws -> TenantRecord?
    func deleteTenant(named: String) async throws
    func createUser(tenant: String, name: String, role: Role) async throws -> UserRecord
    func users(tenant: String) async throws -> [UserRecord]
    func deleteUser(tenant: String, name: String) async throws
    func createKey(tenant: String, user: String) async throws -> AccessKeyRecord
    func keys(tenant: String, user: String) async throws -> [AccessKeyRecord]
    func deleteKey(accessKey: String) async throws
    func principal(accessKey: String) async throws -> Principal?
    /// Sets a user's password hash (`Passwords.hash`) and ends its sessions.
    func setPassword(tenant: String, user: String, hash: String) async throws
    /// A user, its tenant and its password hash (nil: no password set), by names.
    func credentials(tenant: String, user: String) async throws -> LoginCredentials?
    /// Opens a session (expired ones are deleted on the way).
    func createSession(tokenHash: String, userID: String, now: Date, expires: Date) async throws
    /// The session with this token hash, if it has not expired.
    func session(tokenHash: String, now: Date) async throws -> SessionRecord?
    func deleteSession(tokenHash: String) async throws
    /// Storage quotas of tenants (bytes), by tenant id; `setQuota(nil)` removes one.
    func quotas() async throws -> [String: Int64]
    func setQuota(tenant: String, bytes: Int64?) async throws
    /// Bytes a tenant stores: current objects and older versions of every bucket it owns.
    func storedBytes(tenantID: String) async throws -> Int64
    /// The tenant and user a director user maps to, made when missing; its role updated.
    func ensureUser(tenant: String, user: String, role: Role) async throws -> (TenantRecord, UserRecord)

    // Buckets
    func createBucket(
        name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy, platform: String, settings: BucketSettings
    ) async throws -> BucketRecord
    func bucket(named: String) async throws -> BucketRecord?
    /// The bucket and the current version of one of its objects, read together (one trip to the
    /// database for a GET or HEAD); nil when the bucket does not exist.
    func bucketAndObject(named: String, key: String) async throws -> (bucket: BucketRecord, object: ObjectRecord?)?
    /// The same, answered on the calling thread when the store can do so without waiting (SQLite);
    /// nil when it cannot, or when there is no such bucket.
    func bucketAndObjectNow(named: String, key: String) throws -> (bucket: BucketRecord, object: ObjectRecord?)?
    /// Whether `bucketAndObjectNow` can answer at all (false: it is always nil, as on PostgreSQL).
    var answersNow: Bool { get }
    func buckets(tenantID: String) async throws -> [BucketRecord]
    /// Every bucket of every tenant, by name (for the lifecycle runner).
    func allBuckets() async throws -> [BucketRecord]
    /// Takes or renews the lease `name` for this node until `now + seconds` unless another node holds
    /// it now; true when this node holds it.
    func acquireLease(_ name: String, now: Date, seconds: Int) async throws -> Bool
    func deleteBucket(id: Int64) async throws
    /// Policy, tags, platform and settings.
    func updateBucket(_ bucket: BucketRecord) async throws

    // Objects
    /// The current object at a key (never a delete marker).
    func object(bucketID: Int64, key: String) async throws -> ObjectRecord?
    /// Commits `object` and clears the `new` journal entries of its blobs. Unversioned (`versioned`
    /// false): it replaces the object at its key. Versioned: the current object becomes a noncurrent
    /// version, except that a write of the null version (`versionID == nil`) replaces the null version
    /// wherever it is. Returns the version whose data was released (its blobs are now `garbage`).
    /// `condition` is checked in the same transaction (`StoreError.preconditionFailed` /
    /// `.notFound`).
    @discardableResult
    func putObject(_ object: ObjectRecord, versioned: Bool, condition: WriteCondition?) async throws -> ObjectRecord?
    /// `putObject` queued now, from any thread; `done` gets its outcome once it is durable.
    func putObjectSoon(
        _ object: ObjectRecord, versioned: Bool, condition: WriteCondition?, done: @escaping @Sendable (Result<ObjectRecord?, any Error>) -> Void)
    /// Deletes the current object (unversioned, `marker` nil), or puts `marker` (a delete marker) on
    /// top of the key's versions (versioned: a null marker replaces the null version). Returns the
    /// version whose data was released.
    /// With `expected`, only while the current object is still that version (same version id, ETag and
    /// date): the lifecycle runner never deletes an object a client wrote after it decided.
    @discardableResult
    func deleteObject(bucketID: Int64, key: String, marker: ObjectRecord?, expected: ObjectRecord?) async throws -> ObjectRecord?
    /// Removes one version for good (`versionID` nil: the null version); when it was the current
    /// object, the newest remaining version becomes current unless it is a delete marker. Returns
    /// the removed version (a delete marker, or one whose blobs are now `garbage`).
    /// A version under object lock is refused (`StoreError.locked`), checked in the same transaction.
    @discardableResult
    func deleteVersion(bucketID: Int64, key: String, versionID: String?, bypassGovernance: Bool, now: Date) async throws -> ObjectRecord?
    /// One version of a key, current or not, delete markers included.
    func objectVersion(bucketID: Int64, key: String, versionID: String?) async throws -> ObjectRecord?
    /// The newest version of a key when there is no current object and it is a delete marker.
    func latestDeleteMarker(bucketID: Int64, key: String) async throws -> ObjectRecord?
    /// Tags and/or ACL of the current object (`version` nil) or of one version (`.some(nil)`: the
    /// null version). False when there is no such object.
    /// … and its object lock (`lock` nil: unchanged; `.some(nil)`: removed).
    func updateObject(bucketID: Int64, key: String, version: String??, tags: [String: String]?, policy: AccessPolicy?, lock: ObjectLock??)
        async throws -> Bool
    /// Objects with `prefix`, keys after `after` (or from `after` when `inclusive`), in byte order.
    func listObjects(bucketID: Int64, prefix: String, after: String, inclusive: Bool, limit: Int) async throws
        -> [ObjectSummary]
    /// For a listing with a delimiter: the objects that head a group under `prefix` — every key with
    /// no delimiter after the prefix, and the first key of each common prefix — in byte order, from
    /// `after`, at most `limit`. One round trip for a page of many "folders" (a loose index scan);
    /// `nil` where the store has no such query (the caller then walks with `listObjects`).
    func listGroupHeads(bucketID: Int64, prefix: String, delimiter: String, after: String, inclusive: Bool, limit: Int)
        async throws -> [ObjectSummary]?
    /// Every version (current, noncurrent, delete markers) with `prefix`, by key and newest first,
    /// starting at key `from`: of that key only versions with `seq <= maxSeq` (0: none of them,
    /// `VersionSummary.currentSeq`: all).
    func listVersions(bucketID: Int64, prefix: String, from: String, maxSeq: Int64, limit: Int) async throws -> [VersionSummary]
    /// The listing position of a version (for `version-id-marker`); nil when it does not exist.
    func versionSeq(bucketID: Int64, key: String, versionID: String?) async throws -> Int64?
    /// The object completed from an upload, if it is still a version of `key`.
    func completedObject(bucketID: Int64, key: String, uploadID: String) async throws -> ObjectRecord?

    // Multipart uploads
    func createUpload(_ upload: UploadRecord) async throws
    func upload(id: String) async throws -> UploadRecord?
    /// Commits a part (replacing one with the same number, whose blob becomes garbage).
    @discardableResult
    func putPart(_ part: PartRecord) async throws -> PartRecord?
    func parts(uploadID: String, after: Int, limit: Int) async throws -> [PartRecord]
    /// Commits the object as `putObject` does, removes the upload; parts not used become garbage.
    @discardableResult
    func completeUpload(uploadID: String, object: ObjectRecord, versioned: Bool, condition: WriteCondition?) async throws -> ObjectRecord?
    func abortUpload(uploadID: String) async throws
    func uploads(bucketID: Int64, prefix: String, keyMarker: String, uploadIDMarker: String, limit: Int) async throws
        -> [UploadRecord]
    /// Uploads of every bucket begun before `initiatedBefore`, oldest first (for expiry).
    func uploads(initiatedBefore: Date, limit: Int) async throws -> [UploadRecord]

    // Blob journal
    // Storage platforms
    /// The account made for a tenant on an upstream platform, if any.
    func platformAccount(platform: String, tenantID: String) async throws -> PlatformAccount?
    /// Records an account; when one exists already (another node made it first) that one is kept and returned.
    func savePlatformAccount(_ account: PlatformAccount) async throws -> PlatformAccount

    /// Replaces an object's storage if it is still `expected` (a client may have overwritten or deleted
    /// it meanwhile: then nothing changes and the answer is false). The new blobs are committed and the
    /// old ones journalled as garbage in the same transaction.
    func replaceStorage(bucketID: Int64, key: String, expected: ObjectStorage, with storage: ObjectStorage) async throws -> Bool
    /// Objects in a bucket and their bytes.
    func objectCount(bucketID: Int64) async throws -> (objects: Int, bytes: Int64)
    func saveMove(_ move: PlatformMove) async throws
    func move(bucket: String) async throws -> PlatformMove?
    func moves() async throws -> [PlatformMove]

    // Small objects' bytes in the database (docs/decisions.md 50): `BlobID.inline` blobs.
    /// `putObjectSoon` with the object's bytes written in the same transaction (its one piece is
    /// `inline.blob`): nothing to journal, no file, one commit.
    func putObjectSoon(
        _ object: ObjectRecord, versioned: Bool, condition: WriteCondition?, inline: InlineBlob,
        done: @escaping @Sendable (Result<ObjectRecord?, any Error>) -> Void)
    /// Stores an inline blob on its own (it is then journalled like any other new blob).
    func putInlineBlob(_ blob: InlineBlob) async throws
    /// An inline blob's bytes; nil when there is no such blob.
    func inlineBlob(_ blob: String) async throws -> [UInt8]?
    /// `inlineBlob` answered on the calling thread when the backend can (SQLite): `.none` when it
    /// cannot, `.some(nil)` when there is no such blob.
    func inlineBlobNow(_ blob: String) throws -> [UInt8]??
    func deleteInlineBlobs(_ blobs: [String]) async throws

    func journalNewBlob(_ blob: String) async throws
    /// `journalNewBlob` started now and not awaited: the ticket says when the entry is durable.
    func journalNewBlobSoon(_ blob: String) -> JournalTicket
    /// This node's journal entries made before `before` (all when nil): a recovery that runs while
    /// requests are served must not touch the blobs of uploads in progress.
    func journal(before: Date?) async throws -> [JournalEntry]
    func forgetJournal(_ blobs: [String]) async throws

    /// Counts for status and migration checks.
    func counts() async throws -> (buckets: Int, objects: Int, bytes: Int64)

    // Server-side encryption (docs/decisions.md 42)
    /// SSE-S3's key-encryption keys, oldest first (the newest wraps new data keys).
    func sseKeys() async throws -> [SSEKeyRecord]
    func addSSEKey(_ key: SSEKeyRecord) async throws
    /// How many objects, versions and uploads have a data key wrapped by key `id`.
    func sseKeyUsage(id: String) async throws -> Int
    /// Deletes key `id` unless an object, version or upload still refers to it; true when deleted.
    func retireSSEKey(id: String) async throws -> Bool
    /// Rewraps up to `limit` data keys wrapped by key `from`; returns how many (0: none left).
    func rewrapSSE(from: String, limit: Int, rewrap: @escaping @Sendable (ObjectEncryption) -> ObjectEncryption?) async throws -> Int
}

/// A small object's bytes, kept in the metadata database under a `BlobID.inline` id.
public struct InlineBlob: Sendable {
    public var blob: String
    public var bytes: [UInt8]

    public init(blob: String, bytes: [UInt8]) {
        self.blob = blob
        self.bytes = bytes
    }
}

extension MetadataStore {
    public func bucketAndObjectNow(named: String, key: String) throws -> (bucket: BucketRecord, object: ObjectRecord?)? { nil }
    public var answersNow: Bool { false }

    /// An unconditional write to a bucket that never had versioning.
    @discardableResult
    public func putObject(_ object: ObjectRecord) async throws -> ObjectRecord? {
        try await putObject(object, versioned: false, condition: nil)
    }

    @discardableResult
    public func deleteObject(bucketID: Int64, key: String) async throws -> ObjectRecord? {
        try await deleteObject(bucketID: bucketID, key: key, marker: nil, expected: nil)
    }

    @discardableResult
    public func deleteObject(bucketID: Int64, key: String, marker: ObjectRecord?) async throws -> ObjectRecord? {
        try await deleteObject(bucketID: bucketID, key: key, marker: marker, expected: nil)
    }

    public func updateObject(bucketID: Int64, key: String, tags: [String: String]?, policy: AccessPolicy?) async throws -> Bool {
        try await updateObject(bucketID: bucketID, key: key, version: nil, tags: tags, policy: policy, lock: nil)
    }

    public func updateObject(bucketID: Int64, key: String, version: String??, tags: [String: String]?, policy: AccessPolicy?) async throws
        -> Bool
    {
        try await updateObject(bucketID: bucketID, key: key, version: version, tags: tags, policy: policy, lock: nil)
    }

    @discardableResult
    public func deleteVersion(bucketID: Int64, key: String, versionID: String?) async throws -> ObjectRecord? {
        try await deleteVersion(bucketID: bucketID, key: key, versionID: versionID, bypassGovernance: false, now: Date())
    }

    @discardableResult
    public func completeUpload(uploadID: String, object: ObjectRecord) async throws -> ObjectRecord? {
        try await completeUpload(uploadID: uploadID, object: object, versioned: false, condition: nil)
    }

    /// A bucket on the embedded `local` platform.
    public func createBucket(name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy) async throws
        -> BucketRecord
    {
        try await createBucket(name: name, tenantID: tenantID, ownerID: ownerID, region: region, policy: policy, platform: "local")
    }

    public func createBucket(name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy, platform: String)
        async throws -> BucketRecord
    {
        try await createBucket(
            name: name, tenantID: tenantID, ownerID: ownerID, region: region, policy: policy, platform: platform, settings: BucketSettings())
    }
}
