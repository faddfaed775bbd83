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

    // Buckets
    func createBucket(name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy, platform: String)
        async throws -> BucketRecord
    func bucket(named: String) async throws -> BucketRecord?
    func buckets(tenantID: String) async throws -> [BucketRecord]
    func deleteBucket(id: Int64) async throws
    /// Policy, tags and platform.
    func updateBucket(_ bucket: BucketRecord) async throws

    // Objects
    func object(bucketID: Int64, key: String) async throws -> ObjectRecord?
    /// Commits `object` (replacing any object at its key) and clears the `new` journal entries of its
    /// blobs; the replaced object's blobs become `garbage`. Returns the replaced object.
    @discardableResult
    func putObject(_ object: ObjectRecord) async throws -> ObjectRecord?
    @discardableResult
    func deleteObject(bucketID: Int64, key: String) async throws -> ObjectRecord?
    func updateObject(bucketID: Int64, key: String, tags: [String: String]?, policy: AccessPolicy?) async throws -> Bool
    /// Objects with `prefix`, keys after `after` (or from `after` when `inclusive`), in byte order.
    func listObjects(bucketID: Int64, prefix: String, after: String, inclusive: Bool, limit: Int) async throws
        -> [ObjectSummary]
    /// For a listing with a delimiter: the objects that head a group under `prefix` — every key with
    /// no delimiter after the prefix, and the first key of each common prefix — in byte order, from
    /// `after`, at most `limit`. One round trip for a page of many "folders" (a loose index scan);
    /// `nil` where the store has no such query (the caller then walks with `listObjects`).
    func listGroupHeads(bucketID: Int64, prefix: String, delimiter: String, after: String, inclusive: Bool, limit: Int)
        async throws -> [ObjectSummary]?

    // Multipart uploads
    func createUpload(_ upload: UploadRecord) async throws
    func upload(id: String) async throws -> UploadRecord?
    /// Commits a part (replacing one with the same number, whose blob becomes garbage).
    @discardableResult
    func putPart(_ part: PartRecord) async throws -> PartRecord?
    func parts(uploadID: String, after: Int, limit: Int) async throws -> [PartRecord]
    /// Commits the object and removes the upload; parts not used become garbage.
    @discardableResult
    func completeUpload(uploadID: String, object: ObjectRecord) async throws -> ObjectRecord?
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

    func journalNewBlob(_ blob: String) async throws
    /// This node's journal entries made before `before` (all when nil): a recovery that runs while
    /// requests are served must not touch the blobs of uploads in progress.
    func journal(before: Date?) async throws -> [JournalEntry]
    func forgetJournal(_ blobs: [String]) async throws

    /// Counts for status and migration checks.
    func counts() async throws -> (buckets: Int, objects: Int, bytes: Int64)
}

extension MetadataStore {
    /// A bucket on the embedded `local` platform.
    public func createBucket(name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy) async throws
        -> BucketRecord
    {
        try await createBucket(name: name, tenantID: tenantID, ownerID: ownerID, region: region, policy: policy, platform: "local")
    }
}
