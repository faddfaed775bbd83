import VossChecksums
import VossS3Core

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The three roles of SPEC.md §3 (VOSS's own identity store, used when no director is configured).
public enum Role: String, Codable, Sendable, CaseIterable {
    case providerAdmin = "provider-admin"
    case tenantAdmin = "tenant-admin"
    case tenantUser = "tenant-user"
}

public struct TenantRecord: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var createdAt: Date

    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

public struct UserRecord: Codable, Equatable, Sendable {
    public var id: String
    public var tenantID: String
    public var name: String
    public var role: Role
    public var createdAt: Date

    public init(id: String, tenantID: String, name: String, role: Role, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.createdAt = createdAt
    }
}

public struct AccessKeyRecord: Codable, Equatable, Sendable {
    public var accessKey: String
    /// The secret in clear (the store keeps it sealed at rest).
    public var secret: String
    public var userID: String
    public var createdAt: Date

    public init(accessKey: String, secret: String, userID: String, createdAt: Date) {
        self.accessKey = accessKey
        self.secret = secret
        self.userID = userID
        self.createdAt = createdAt
    }
}

/// What a login is checked against.
public struct LoginCredentials: Sendable, Equatable {
    public var user: UserRecord
    public var tenant: TenantRecord
    /// `Passwords.hash` output; nil when the user has no password (it cannot log in).
    public var passwordHash: String?

    public init(user: UserRecord, tenant: TenantRecord, passwordHash: String?) {
        self.user = user
        self.tenant = tenant
        self.passwordHash = passwordHash
    }
}

/// A REST API session: who opened it, until when.
public struct SessionRecord: Sendable, Equatable {
    public var user: UserRecord
    public var tenant: TenantRecord
    public var expires: Date

    public init(user: UserRecord, tenant: TenantRecord, expires: Date) {
        self.user = user
        self.tenant = tenant
        self.expires = expires
    }
}

/// Who a verified access key belongs to.
public struct Principal: Equatable, Sendable {
    public var accessKey: String
    public var secret: String
    public var user: UserRecord
    public var tenant: TenantRecord

    public init(accessKey: String, secret: String, user: UserRecord, tenant: TenantRecord) {
        self.accessKey = accessKey
        self.secret = secret
        self.user = user
        self.tenant = tenant
    }
}

/// An ACL: a canned ACL plus explicit grants to tenants or users (by id). Stored as JSON; fields
/// added later are optional so older rows still read.
public struct AccessPolicy: Codable, Equatable, Sendable {
    public enum Canned: String, Codable, Sendable, CaseIterable {
        case `private` = "private"
        case publicRead = "public-read"
        case publicReadWrite = "public-read-write"
        case authenticatedRead = "authenticated-read"
        case bucketOwnerRead = "bucket-owner-read"
        case bucketOwnerFullControl = "bucket-owner-full-control"
        case awsExecRead = "aws-exec-read"
        case logDeliveryWrite = "log-delivery-write"
    }

    public var canned: Canned
    /// Tenant or user ids allowed to read (list/get) in addition to the owner.
    public var readTenants: [String]
    /// Tenant or user ids allowed to write (put/delete) in addition to the owner.
    public var writeTenants: [String]
    /// … to read the ACL (READ_ACP), to change it (WRITE_ACP), everything (FULL_CONTROL).
    public var readACP: [String]?
    public var writeACP: [String]?
    public var fullControl: [String]?

    public init(
        canned: Canned = .private, readTenants: [String] = [], writeTenants: [String] = [], readACP: [String]? = nil,
        writeACP: [String]? = nil, fullControl: [String]? = nil
    ) {
        self.canned = canned
        self.readTenants = readTenants
        self.writeTenants = writeTenants
        self.readACP = readACP
        self.writeACP = writeACP
        self.fullControl = fullControl
    }

    public static let `private` = AccessPolicy()

    /// Anyone, signed or not, may read.
    public var publicRead: Bool { canned == .publicRead || canned == .publicReadWrite }
    /// Every signed principal (of any tenant) may read.
    public var authenticatedRead: Bool { canned == .authenticatedRead }
    /// Every signed principal may write (public-read-write; VOSS takes no anonymous writes).
    public var authenticatedWrite: Bool { canned == .publicReadWrite }
}

/// A bucket's versioning state (absent: never enabled).
public enum VersioningStatus: String, Codable, Sendable {
    case enabled = "Enabled"
    case suspended = "Suspended"
}

/// How a bucket treats ACLs (PutBucketOwnershipControls).
public enum ObjectOwnership: String, Codable, Sendable {
    /// ACLs are disabled: the bucket's owner owns every object; requests that set ACLs are refused.
    case bucketOwnerEnforced = "BucketOwnerEnforced"
    case bucketOwnerPreferred = "BucketOwnerPreferred"
    case objectWriter = "ObjectWriter"
}

/// Object lock on one version: a retention (mode and date) and/or a legal hold.
public struct ObjectLock: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable {
        case governance = "GOVERNANCE"
        case compliance = "COMPLIANCE"
    }

    public var mode: Mode?
    public var retainUntil: Date?
    public var legalHold: Bool

    public init(mode: Mode? = nil, retainUntil: Date? = nil, legalHold: Bool = false) {
        self.mode = mode
        self.retainUntil = retainUntil
        self.legalHold = legalHold
    }

    /// Whether the version may not be deleted at `now` (`bypassGovernance`: the caller sent
    /// `x-amz-bypass-governance-retention: true` and may use it).
    public func protects(at now: Date, bypassGovernance: Bool) -> Bool {
        if legalHold { return true }
        guard let mode, let until = retainUntil, until > now else { return false }
        return !(mode == .governance && bypassGovernance)
    }
}

/// A bucket's object lock configuration (the bucket was created with object lock enabled).
public struct ObjectLockConfiguration: Codable, Equatable, Sendable {
    public var defaultMode: ObjectLock.Mode?
    public var defaultDays: Int?
    public var defaultYears: Int?

    public init(defaultMode: ObjectLock.Mode? = nil, defaultDays: Int? = nil, defaultYears: Int? = nil) {
        self.defaultMode = defaultMode
        self.defaultDays = defaultDays
        self.defaultYears = defaultYears
    }

    /// The retention a new version gets when its request names none.
    public func defaultLock(from now: Date) -> ObjectLock? {
        guard let mode = defaultMode else { return nil }
        let days = defaultDays ?? (defaultYears ?? 0) * 365
        return ObjectLock(mode: mode, retainUntil: now.addingTimeInterval(Double(days) * 86_400))
    }
}

/// Bucket configuration kept as one JSON document (`buckets.settings`), so a new kind of
/// configuration needs no schema step.
public struct BucketSettings: Codable, Equatable, Sendable {
    public var versioning: VersioningStatus?
    /// PutBucketCors's rules (nil: no CORS configuration).
    public var cors: [CORSRule]?
    /// PutBucketPolicy's policy.
    public var policy: BucketPolicy?
    /// Object lock (only on buckets created with it, or versioned buckets it was enabled on).
    public var objectLock: ObjectLockConfiguration?
    /// PutBucketLifecycleConfiguration's rules.
    public var lifecycle: [LifecycleRule]?
    /// PutBucketOwnershipControls (absent: ObjectWriter, ACLs in force — decision 41).
    public var ownership: ObjectOwnership?
    /// PutBucketEncryption: objects written without encryption headers get SSE-S3.
    public var encryption: BucketEncryption?

    public init(versioning: VersioningStatus? = nil, cors: [CORSRule]? = nil, policy: BucketPolicy? = nil) {
        self.versioning = versioning
        self.cors = cors
        self.policy = policy
    }

    /// Whether the bucket may hold more than one version of a key (versioning enabled now or before).
    public var versioned: Bool { versioning != nil }
}

public struct BucketRecord: Codable, Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var tenantID: String
    public var ownerID: String
    public var createdAt: Date
    public var region: String
    public var policy: AccessPolicy
    public var tags: [String: String]?
    /// The storage platform the bucket's objects are written to (`local`, or a configured upstream).
    public var platform: String
    public var settings: BucketSettings

    public init(
        id: Int64, name: String, tenantID: String, ownerID: String, createdAt: Date, region: String, policy: AccessPolicy,
        tags: [String: String]?, platform: String = "local", settings: BucketSettings = BucketSettings()
    ) {
        self.platform = platform
        self.settings = settings
        self.id = id
        self.name = name
        self.tenantID = tenantID
        self.ownerID = ownerID
        self.createdAt = createdAt
        self.region = region
        self.policy = policy
        self.tags = tags
    }
}

/// Where an object's bytes are: one blob, or the parts of a completed multipart upload in order —
/// each part a blob of its own (local platform) or a stretch of one blob that the platform assembled
/// (an upstream's multipart upload: every piece names the same blob, at its `offset`).
public struct ObjectStorage: Codable, Equatable, Sendable {
    public struct Piece: Codable, Equatable, Sendable {
        public var blob: String
        public var size: Int64
        /// Where the piece starts in its blob (absent: 0).
        public var offset: Int64?
        /// Encrypted objects: the AES-CTR initial counter block of this piece (base64, 16 bytes); its
        /// byte 0 is encrypted with the keystream's byte 0.
        public var iv: String?
        /// A multipart object's part: its checksum (base64) in the object's algorithm, as uploaded.
        public var checksum: String?

        public init(blob: String, size: Int64, offset: Int64? = nil, iv: String? = nil, checksum: String? = nil) {
            self.blob = blob
            self.size = size
            self.offset = offset
            self.iv = iv
            self.checksum = checksum
        }
    }

    public var pieces: [Piece]
    /// How the bytes are encrypted at rest (nil: they are not).
    public var encryption: ObjectEncryption?

    public init(pieces: [Piece], encryption: ObjectEncryption? = nil) {
        self.pieces = pieces
        self.encryption = encryption
    }

    /// Each blob once, in order.
    public var blobs: [String] {
        var seen = Set<String>()
        return pieces.map(\.blob).filter { seen.insert($0).inserted }
    }

    /// One stretch of a read: `length` bytes at `offset` of `blob`, which are the bytes from
    /// `position` of the piece whose counter block is `iv` (encrypted objects).
    public struct Segment: Sendable {
        public var blob: String
        public var offset: Int64
        public var length: Int64
        public var iv: String?
        public var position: Int64
    }

    /// `count` bytes from `first`, as stretches of blobs in order.
    public func segments(first: Int64, count: Int64) -> [Segment] {
        var out: [Segment] = []
        var pos: Int64 = 0
        var remaining = count
        var want = first
        for p in pieces where remaining > 0 {
            if want < pos + p.size {
                let off = want - pos
                let len = min(p.size - off, remaining)
                out.append(Segment(blob: p.blob, offset: (p.offset ?? 0) + off, length: len, iv: p.iv, position: off))
                remaining -= len
                want += len
            }
            pos += p.size
        }
        return out
    }
}

/// The account VOSS made for a tenant on an upstream platform (through its admin API), and the
/// upstream bucket that holds the tenant's blobs.
public struct PlatformAccount: Codable, Equatable, Sendable {
    public var platform: String
    public var tenantID: String
    public var accessKey: String
    public var secret: String
    public var bucket: String

    public init(platform: String, tenantID: String, accessKey: String, secret: String, bucket: String) {
        self.platform = platform
        self.tenantID = tenantID
        self.accessKey = accessKey
        self.secret = secret
        self.bucket = bucket
    }
}

/// The additional checksum stored with an object (returned with `x-amz-checksum-mode: ENABLED`).
public struct StoredChecksum: Codable, Equatable, Sendable {
    public var algorithm: ChecksumAlgorithm
    /// Base64 value; `…-N` for a composite multipart checksum.
    public var value: String
    /// `FULL_OBJECT` or `COMPOSITE`.
    public var type: String

    public init(algorithm: ChecksumAlgorithm, value: String, type: String) {
        self.algorithm = algorithm
        self.value = value
        self.type = type
    }
}

public struct ObjectRecord: Codable, Equatable, Sendable {
    public var bucketID: Int64
    public var key: String
    public var size: Int64
    /// Without quotes (`d41d8cd98f00b204e9800998ecf8427e`, or `…-N` for multipart).
    public var etag: String
    public var lastModified: Date
    public var headers: ObjectHeaders
    public var checksum: StoredChecksum?
    public var policy: AccessPolicy
    public var tags: [String: String]
    public var storage: ObjectStorage
    public var ownerID: String
    /// The version's id; `nil` is the "null" version (every object of a bucket that never had
    /// versioning enabled, and those written while it was suspended).
    public var versionID: String?
    /// A delete marker (a version with no data: the key reads as deleted while it is the latest).
    public var deleteMarker: Bool
    /// The multipart upload this object was completed from (a retried CompleteMultipartUpload
    /// after a lost response is answered from it).
    public var uploadID: String?
    /// Retention and legal hold of this version.
    public var lock: ObjectLock?

    public init(
        bucketID: Int64, key: String, size: Int64, etag: String, lastModified: Date, headers: ObjectHeaders,
        checksum: StoredChecksum?, policy: AccessPolicy, tags: [String: String], storage: ObjectStorage, ownerID: String,
        versionID: String? = nil, deleteMarker: Bool = false, uploadID: String? = nil, lock: ObjectLock? = nil
    ) {
        self.lock = lock
        self.versionID = versionID
        self.deleteMarker = deleteMarker
        self.uploadID = uploadID
        self.bucketID = bucketID
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.headers = headers
        self.checksum = checksum
        self.policy = policy
        self.tags = tags
        self.storage = storage
        self.ownerID = ownerID
    }
}

extension ObjectRecord {
    /// A delete marker at `key`.
    public static func marker(bucketID: Int64, key: String, versionID: String?, ownerID: String, at date: Date) -> ObjectRecord {
        ObjectRecord(
            bucketID: bucketID, key: key, size: 0, etag: "", lastModified: date, headers: ObjectHeaders(), checksum: nil,
            policy: .private, tags: [:], storage: ObjectStorage(pieces: []), ownerID: ownerID, versionID: versionID,
            deleteMarker: true)
    }

    /// The id as S3 shows it (`null` for the null version).
    public var versionName: String { versionID ?? "null" }
}

/// What ListObjectVersions returns per version, in order: by key, newest first.
public struct VersionSummary: Equatable, Sendable {
    public var key: String
    /// `nil`: the null version.
    public var versionID: String?
    public var deleteMarker: Bool
    /// Position among the key's versions; the current object has `VersionSummary.currentSeq`.
    public var seq: Int64
    public var size: Int64
    public var etag: String
    public var lastModified: Date
    public var ownerID: String
    public var checksumAlgorithm: ChecksumAlgorithm?

    public static let currentSeq = Int64.max

    public init(
        key: String, versionID: String?, deleteMarker: Bool, seq: Int64, size: Int64, etag: String, lastModified: Date, ownerID: String,
        checksumAlgorithm: ChecksumAlgorithm?
    ) {
        self.key = key
        self.versionID = versionID
        self.deleteMarker = deleteMarker
        self.seq = seq
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.ownerID = ownerID
        self.checksumAlgorithm = checksumAlgorithm
    }
}

/// A write that must find the key in a given state when it commits (`If-None-Match: *`, `If-Match`).
public enum WriteCondition: Equatable, Sendable {
    /// No current object at the key.
    case absent
    /// The current object has this ETag (unquoted).
    case etag(String)
}

/// What a listing returns per object.
public struct ObjectSummary: Equatable, Sendable {
    public var key: String
    public var size: Int64
    public var etag: String
    public var lastModified: Date
    public var ownerID: String
    public var checksumAlgorithm: ChecksumAlgorithm?

    public init(key: String, size: Int64, etag: String, lastModified: Date, ownerID: String, checksumAlgorithm: ChecksumAlgorithm?) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.ownerID = ownerID
        self.checksumAlgorithm = checksumAlgorithm
    }
}

public struct UploadRecord: Codable, Equatable, Sendable {
    public var uploadID: String
    public var bucketID: Int64
    public var key: String
    public var initiated: Date
    public var headers: ObjectHeaders
    public var policy: AccessPolicy
    public var tags: [String: String]
    public var checksumAlgorithm: ChecksumAlgorithm?
    /// `COMPOSITE` or `FULL_OBJECT` (what the client asked for with `x-amz-checksum-type`).
    public var checksumType: String?
    public var ownerID: String
    /// The platform's own multipart upload behind this one (`BLOB UPSTREAM-UPLOAD-ID`), when the
    /// platform assembles parts itself.
    public var platformUpload: String?
    /// The object lock the completed object gets (from the CreateMultipartUpload's headers).
    public var lock: ObjectLock?
    /// The completed object's encryption: every part is encrypted with its data key.
    public var encryption: ObjectEncryption?

    public init(
        uploadID: String, bucketID: Int64, key: String, initiated: Date, headers: ObjectHeaders, policy: AccessPolicy,
        tags: [String: String], checksumAlgorithm: ChecksumAlgorithm?, checksumType: String?, ownerID: String,
        platformUpload: String? = nil, lock: ObjectLock? = nil, encryption: ObjectEncryption? = nil
    ) {
        self.encryption = encryption
        self.platformUpload = platformUpload
        self.lock = lock
        self.uploadID = uploadID
        self.bucketID = bucketID
        self.key = key
        self.initiated = initiated
        self.headers = headers
        self.policy = policy
        self.tags = tags
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
        self.ownerID = ownerID
    }
}

public struct PartRecord: Codable, Equatable, Sendable {
    public var uploadID: String
    public var partNumber: Int
    public var size: Int64
    public var etag: String
    public var blob: String
    /// Base64 digest of the upload's checksum algorithm, if it has one.
    public var checksum: String?
    public var lastModified: Date
    /// An encrypted upload's part: its counter block and the MD5 of the bytes at rest.
    public var cipher: PartCipher?

    public init(
        uploadID: String, partNumber: Int, size: Int64, etag: String, blob: String, checksum: String?, lastModified: Date,
        cipher: PartCipher? = nil
    ) {
        self.cipher = cipher
        self.uploadID = uploadID
        self.partNumber = partNumber
        self.size = size
        self.etag = etag
        self.blob = blob
        self.checksum = checksum
        self.lastModified = lastModified
    }
}

/// Moving a bucket's objects to another platform (`ose migration bucket start`): resumable from
/// `cursor` (the last key done), on the node that started it.
public struct PlatformMove: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case running = "RUNNING", completed = "COMPLETED", failed = "FAILED" }

    public var bucket: String
    public var from: String
    public var to: String
    public var node: String
    public var status: Status
    public var startedAt: Date
    public var updatedAt: Date
    /// Objects in the bucket when the move started, and their bytes.
    public var total: Int
    public var totalBytes: Int64
    /// Objects moved (copied, read back and checked, swapped) so far, and their bytes.
    public var moved: Int
    public var movedBytes: Int64
    /// Objects already on the target, or replaced by clients while the move ran (nothing to do).
    public var skipped: Int
    /// The last key handled.
    public var cursor: String
    /// After the pass: objects still not on the target (must be 0 for COMPLETED).
    public var remaining: Int?
    public var error: String?

    public init(bucket: String, from: String, to: String, node: String, startedAt: Date, total: Int, totalBytes: Int64) {
        self.bucket = bucket
        self.from = from
        self.to = to
        self.node = node
        self.status = .running
        self.startedAt = startedAt
        self.updatedAt = startedAt
        self.total = total
        self.totalBytes = totalBytes
        self.moved = 0
        self.movedBytes = 0
        self.skipped = 0
        self.cursor = ""
    }

    /// Percent done (by objects handled).
    public var progress: Int {
        guard total > 0 else { return status == .completed ? 100 : 0 }
        return min(100, (moved + skipped) * 100 / total)
    }
}
