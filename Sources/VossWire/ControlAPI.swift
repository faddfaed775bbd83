import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The keeper's control API (TCP 127.0.0.1:5198, HTTP + JSON, `Authorization: Bearer TOKEN`).
// Every route is under `/v1`; `docs/control-api.md` lists them. These types are shared by the keeper
// and `ose` so the two cannot drift apart.

/// Error body of every non-2xx answer: `{"error": {...}}`.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        /// Stable machine code (`validation`, `unauthorized`, `not_found`, ...).
        public var code: String
        /// The main message, translatable by `ose`.
        public var message: Message
        /// English text of `message`, for scripts and logs.
        public var text: String
        /// Per-field problems for validation errors.
        public var issues: [Issue]?
        /// A hint on what to do (e.g. "add --force").
        public var hint: Message?
    }

    public struct Issue: Codable, Sendable, Equatable {
        public var key: String
        public var message: Message
        public var text: String

        public init(key: String, message: Message) {
            self.key = key
            self.message = message
            self.text = message.english
        }
    }

    public var error: Detail

    public init(code: String, message: Message, issues: [Issue]? = nil, hint: Message? = nil) {
        error = Detail(code: code, message: message, text: message.english, issues: issues, hint: hint)
    }
}

public struct VersionInfo: Codable, Sendable, Equatable {
    public var version: String
    public var node: String
    public var pid: Int32
    public var startedAt: Date
    /// Where `ose` fetches its translations (`http://127.0.0.1:8091`), if the i18n worker is configured.
    public var i18nURL: String?

    public init(version: String, node: String, pid: Int32, startedAt: Date, i18nURL: String?) {
        self.version = version
        self.node = node
        self.pid = pid
        self.startedAt = startedAt
        self.i18nURL = i18nURL
    }
}

public struct ConfigEntryView: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var secret: Bool
    /// The version stamp of the entry (`wallMillis.counter@node`).
    public var stamp: String

    public init(key: String, value: String, secret: Bool, stamp: String) {
        self.key = key
        self.value = value
        self.secret = secret
        self.stamp = stamp
    }
}

public struct ConfigSectionView: Codable, Sendable, Equatable {
    public var name: String
    public var entries: [ConfigEntryView]

    public init(name: String, entries: [ConfigEntryView]) {
        self.name = name
        self.entries = entries
    }
}

/// `GET /v1/show`: the whole configuration (secrets masked unless `?withSecret=true`).
public struct ConfigShow: Codable, Sendable, Equatable {
    public var version: String
    public var sections: [ConfigSectionView]

    public init(version: String, sections: [ConfigSectionView]) {
        self.version = version
        self.sections = sections
    }
}

public struct ArgValue: Codable, Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct ArgList: Codable, Sendable, Equatable {
    public var args: [ArgValue]
    public init(args: [ArgValue]) { self.args = args }
}

public struct ArgSetRequest: Codable, Sendable, Equatable {
    public var value: String
    public init(value: String) { self.value = value }
}

public struct WorkerInfo: Codable, Sendable, Equatable {
    public var name: String
    public var enabled: Bool
    /// `running`, `starting`, `stopping`, `backoff`, `stopped`, `FAILED`.
    public var state: String
    public var pid: Int32?
    public var uptimeSeconds: Double?
    public var restarts: Int
    /// English text of the last exit reason (`killed by SIGKILL`), for scripts.
    public var lastExit: String?
    public var lastExitMessage: Message?
    public var lastExitAt: Date?
    /// `healthy`, `late (N pings unanswered)`, `unresponsive`, `-`.
    public var health: String
    public var healthMessage: Message
    public var status: String?
    public var listeners: [String]
    public var counters: [String: Int64]

    public init(
        name: String, enabled: Bool, state: String, pid: Int32?, uptimeSeconds: Double?, restarts: Int,
        lastExitMessage: Message?, lastExitAt: Date?, healthMessage: Message, status: String?, listeners: [String],
        counters: [String: Int64]
    ) {
        self.name = name
        self.enabled = enabled
        self.state = state
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.restarts = restarts
        self.lastExit = lastExitMessage?.english
        self.lastExitMessage = lastExitMessage
        self.lastExitAt = lastExitAt
        self.health = healthMessage.english
        self.healthMessage = healthMessage
        self.status = status
        self.listeners = listeners
        self.counters = counters
    }
}

/// `GET /v1/service`.
public struct ServiceShow: Codable, Sendable, Equatable {
    /// `starting`, `ready`, `degraded`, `stopped`, `stopping`.
    public var state: String
    /// English text of `summary`, for scripts.
    public var text: String
    public var summary: Message
    public var logLevel: String
    public var workers: [WorkerInfo]

    public init(state: String, summary: Message, logLevel: String, workers: [WorkerInfo]) {
        self.state = state
        self.text = summary.english
        self.summary = summary
        self.logLevel = logLevel
        self.workers = workers
    }
}

/// `POST /v1/service/{start,stop,restart}`.
public struct ServiceRequest: Codable, Sendable, Equatable {
    public var debug: Bool?
    /// One worker only (default: all).
    public var worker: String?

    public init(debug: Bool? = nil, worker: String? = nil) {
        self.debug = debug
        self.worker = worker
    }
}

/// `POST /v1/cert/generate`.
public struct CertGenerateRequest: Codable, Sendable, Equatable {
    public var commonName: String
    public var secret: String
    public var subjectAlternativeNames: [String]?
    public var validityDays: Int?

    public init(commonName: String, secret: String, subjectAlternativeNames: [String]? = nil, validityDays: Int? = nil) {
        self.commonName = commonName
        self.secret = secret
        self.subjectAlternativeNames = subjectAlternativeNames
        self.validityDays = validityDays
    }
}

/// `POST /v1/cert/import`.
public struct CertImportRequest: Codable, Sendable, Equatable {
    public var pkcs12Base64: String
    public var secret: String
    public var force: Bool

    public init(pkcs12Base64: String, secret: String, force: Bool) {
        self.pkcs12Base64 = pkcs12Base64
        self.secret = secret
        self.force = force
    }
}

public struct CertInfo: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var subject: String
        public var issuer: String
        public var serial: String
        public var notBefore: Date
        public var notAfter: Date
        public var sha256Fingerprint: String
        public var keyType: String
        public var subjectAlternativeNames: [String]
        public var selfSigned: Bool

        public init(
            subject: String, issuer: String, serial: String, notBefore: Date, notAfter: Date,
            sha256Fingerprint: String, keyType: String, subjectAlternativeNames: [String], selfSigned: Bool
        ) {
            self.subject = subject
            self.issuer = issuer
            self.serial = serial
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.sha256Fingerprint = sha256Fingerprint
            self.keyType = keyType
            self.subjectAlternativeNames = subjectAlternativeNames
            self.selfSigned = selfSigned
        }
    }

    public var configured: Bool
    /// `generated` or `imported`.
    public var source: String?
    public var chain: [Entry]
    /// The keystore secret, only with `?withSecret=true`.
    public var secret: String?

    public init(configured: Bool, source: String?, chain: [Entry], secret: String?) {
        self.configured = configured
        self.source = source
        self.chain = chain
        self.secret = secret
    }
}

/// JSON coding shared by the keeper and `ose`: ISO-8601 dates, sorted keys.
public enum ControlJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}

// MARK: identity (the keeper forwards these to the S3 gateway's admin socket)

public struct TenantInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

public struct TenantList: Codable, Sendable, Equatable {
    public var tenants: [TenantInfo]
    public init(tenants: [TenantInfo]) { self.tenants = tenants }
}

public struct NameRequest: Codable, Sendable, Equatable {
    public var name: String
    /// For users: `tenant-user` (default), `tenant-admin` or `provider-admin`.
    public var role: String?
    public init(name: String, role: String? = nil) {
        self.name = name
        self.role = role
    }
}

public struct UserInfo: Codable, Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var name: String
    public var role: String
    public var createdAt: Date
    public init(id: String, tenant: String, name: String, role: String, createdAt: Date) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.role = role
        self.createdAt = createdAt
    }
}

public struct UserList: Codable, Sendable, Equatable {
    public var users: [UserInfo]
    public init(users: [UserInfo]) { self.users = users }
}

public struct KeyInfo: Codable, Sendable, Equatable {
    public var accessKey: String
    /// Only in the answer to `create` (shown once).
    public var secret: String?
    public var tenant: String
    public var user: String
    public var createdAt: Date
    public init(accessKey: String, secret: String?, tenant: String, user: String, createdAt: Date) {
        self.accessKey = accessKey
        self.secret = secret
        self.tenant = tenant
        self.user = user
        self.createdAt = createdAt
    }
}

public struct KeyList: Codable, Sendable, Equatable {
    public var keys: [KeyInfo]
    public init(keys: [KeyInfo]) { self.keys = keys }
}

public struct StoreStatus: Codable, Sendable, Equatable {
    public var tenants: Int
    public var buckets: Int
    public var objects: Int
    public var bytes: Int64
    public init(tenants: Int, buckets: Int, objects: Int, bytes: Int64) {
        self.tenants = tenants
        self.buckets = buckets
        self.objects = objects
        self.bytes = bytes
    }
}

/// `GET/PUT /v1/s3`: the S3 domain (`BUCKET.s3.DOMAIN` is virtual-hosted style) and region.
public struct S3Settings: Codable, Sendable, Equatable {
    public var domain: String?
    public var region: String?
    public init(domain: String?, region: String?) {
        self.domain = domain
        self.region = region
    }
}

// MARK: database (`ose db`) and migration (`ose migration`)

/// `PUT /v1/db`: connection settings for PostgreSQL, checked by the keeper before they are saved.
public struct DBSetRequest: Codable, Sendable, Equatable {
    public var url: String
    public var user: String
    public var secret: String
    public var force: Bool

    public init(url: String, user: String, secret: String, force: Bool) {
        self.url = url
        self.user = user
        self.secret = secret
        self.force = force
    }
}

/// `GET /v1/db`, and the answer to `PUT /v1/db`.
public struct DBInfo: Codable, Sendable, Equatable {
    /// `embedded` (SQLite on this node) or `postgres`: the store this node's gateway uses.
    public var active: String
    /// Where the embedded store lives.
    public var embeddedPath: String?
    public var url: String?
    public var user: String?
    /// Only with `?withSecret=true`.
    public var secret: String?
    /// Set while a migration task runs on this node.
    public var migrating: String?
    /// What the connection check found (on `PUT`), and what to do next.
    public var notes: [Message]

    public init(
        active: String, embeddedPath: String?, url: String?, user: String?, secret: String?, migrating: String?, notes: [Message] = []
    ) {
        self.active = active
        self.embeddedPath = embeddedPath
        self.url = url
        self.user = user
        self.secret = secret
        self.migrating = migrating
        self.notes = notes
    }
}

/// `POST /v1/migration`.
public struct MigrationStartRequest: Codable, Sendable, Equatable {
    public var force: Bool
    public init(force: Bool) { self.force = force }
}

/// `GET /v1/migration`: the node's migration task (SPEC.md §4 `ose migration show`).
public struct MigrationInfo: Codable, Sendable, Equatable {
    public var id: String
    /// RUNNING, COMPLETED or FAILED.
    public var status: String
    /// 0…100.
    public var progress: Int
    public var startDate: Date
    public var endDate: Date?
    /// Each phase: `pending`, `running`, `success` or `failed`. Type = tenants, users, keys; Path =
    /// buckets, objects, uploads, parts; Permission = verification of what was copied.
    public var typeMigration: String
    public var pathMigration: String
    public var permissionMigration: String
    /// Differences found by the verification: `+ NAME` only in PostgreSQL, `- NAME` missing there.
    public var differences: [String]
    /// Rows copied per table, and rows in the embedded store.
    public var copied: [String: Int64]
    public var total: [String: Int64]
    /// Why it failed.
    public var error: Message?

    public init(
        id: String, status: String, progress: Int, startDate: Date, endDate: Date?, typeMigration: String, pathMigration: String,
        permissionMigration: String, differences: [String], copied: [String: Int64], total: [String: Int64], error: Message?
    ) {
        self.id = id
        self.status = status
        self.progress = progress
        self.startDate = startDate
        self.endDate = endDate
        self.typeMigration = typeMigration
        self.pathMigration = pathMigration
        self.permissionMigration = permissionMigration
        self.differences = differences
        self.copied = copied
        self.total = total
        self.error = error
    }
}

// MARK: cluster (`ose cluster`) and configuration files (`ose config export|import`)

/// The control API's view of the cluster (`ose cluster show`).
public struct ClusterView: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var status: String
        public var incarnation: UInt64
        /// Milliseconds since this node last heard from it.
        public var lastContactMs: Int64?
        /// Whether its configuration digest equals this node's (nil: not known yet).
        public var configInSync: Bool?
        public var isSelf: Bool

        public init(
            name: String, address: String, status: String, incarnation: UInt64, lastContactMs: Int64?, configInSync: Bool?,
            isSelf: Bool
        ) {
            self.name = name
            self.address = address
            self.status = status
            self.incarnation = incarnation
            self.lastContactMs = lastContactMs
            self.configInSync = configInSync
            self.isSelf = isSelf
        }
    }

    public var node: String
    public var label: String
    public var address: String
    public var listening: Bool
    public var listenError: String?
    public var joinError: String?
    public var configDigest: String
    public var localHealth: Int
    public var refusedMessages: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    public var members: [Member]

    public init(
        node: String, label: String, address: String, listening: Bool, listenError: String?, joinError: String?,
        configDigest: String, localHealth: Int, refusedMessages: Int, bytesSent: Int, bytesReceived: Int, members: [Member]
    ) {
        self.node = node
        self.label = label
        self.address = address
        self.listening = listening
        self.listenError = listenError
        self.joinError = joinError
        self.configDigest = configDigest
        self.localHealth = localHealth
        self.refusedMessages = refusedMessages
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.members = members
    }
}

/// `POST /v1/cluster/join`.
public struct ClusterJoinRequest: Codable, Sendable, Equatable {
    /// `HOST:PORT` of a member's gossip port; the token's seeds are tried after it.
    public var seed: String?
    public var token: String

    public init(seed: String?, token: String) {
        self.seed = seed
        self.token = token
    }
}

/// `GET /v1/cluster/token[?label=L]`.
public struct ClusterToken: Codable, Sendable, Equatable {
    public var token: String
    public var label: String
    public var seeds: [String]

    public init(token: String, label: String, seeds: [String]) {
        self.token = token
        self.label = label
        self.seeds = seeds
    }
}

/// `POST /v1/config/export`: the keeper seals the configuration with a key derived from `secret`.
public struct ConfigExportRequest: Codable, Sendable, Equatable {
    public var secret: String
    /// Accept a secret that fails the password policy.
    public var force: Bool?
    public init(secret: String, force: Bool? = nil) {
        self.secret = secret
        self.force = force
    }
}

public struct ConfigExportResponse: Codable, Sendable, Equatable {
    /// The archive, base64.
    public var file: String
    public var entries: Int

    public init(file: String, entries: Int) {
        self.file = file
        self.entries = entries
    }
}

/// `POST /v1/config/import`.
public struct ConfigImportRequest: Codable, Sendable, Equatable {
    public var file: String
    public var secret: String

    public init(file: String, secret: String) {
        self.file = file
        self.secret = secret
    }
}

public struct ConfigImportResponse: Codable, Sendable, Equatable {
    public var entries: Int
    /// Keys whose value this import changed.
    public var changed: [String]
    public var exportedBy: String
    public var exportedAt: Date

    public init(entries: Int, changed: [String], exportedBy: String, exportedAt: Date) {
        self.entries = entries
        self.changed = changed
        self.exportedBy = exportedBy
        self.exportedAt = exportedAt
    }
}

// MARK: virtual IP (`ose vip`)

/// `PUT /v1/vip`.
public struct VIPSetRequest: Codable, Sendable, Equatable {
    public var address: String
    public var port: Int
    public var interface: String?
    public var own: Bool?
    /// `https` (default) or `http`: which gateway port the translator relays to.
    public var target: String?
    public var proxyProtocol: Bool?

    public init(address: String, port: Int, interface: String?, own: Bool?, target: String?, proxyProtocol: Bool?) {
        self.address = address
        self.port = port
        self.interface = interface
        self.own = own
        self.target = target
        self.proxyProtocol = proxyProtocol
    }
}

/// `GET /v1/vip`: the settings, who holds the address, and the backends with their load on this node.
public struct VIPInfo: Codable, Sendable, Equatable {
    public struct BackendView: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var state: String
        /// Connections through this node's translator: open now, and since it started.
        public var active: Int64?
        public var total: Int64?

        public init(name: String, address: String, state: String, active: Int64?, total: Int64?) {
            self.name = name
            self.address = address
            self.state = state
            self.active = active
            self.total = total
        }
    }

    public var enabled: Bool
    public var address: String?
    public var port: Int?
    public var interface: String?
    public var own: Bool
    public var target: String
    public var proxyProtocol: Bool
    /// The member that holds (with `own`) the address, chosen from the live members.
    public var owner: String?
    /// This node has the address on its interface.
    public var holding: Bool
    /// Why this node, the owner, could not put the address on its interface.
    public var ownershipError: String?
    public var worker: String?
    public var backends: [BackendView]

    public init(
        enabled: Bool, address: String?, port: Int?, interface: String?, own: Bool, target: String, proxyProtocol: Bool,
        owner: String?, holding: Bool, ownershipError: String?, worker: String?, backends: [BackendView]
    ) {
        self.holding = holding
        self.ownershipError = ownershipError
        self.enabled = enabled
        self.address = address
        self.port = port
        self.interface = interface
        self.own = own
        self.target = target
        self.proxyProtocol = proxyProtocol
        self.owner = owner
        self.worker = worker
        self.backends = backends
    }
}

// MARK: storage platforms (`ose platforms`)

/// One storage platform as `ose platforms show` lists it.
public struct PlatformInfo: Codable, Sendable, Equatable {
    public var name: String
    /// `local`, `s3`, `cloudian` or `ecs`.
    public var kind: String
    public var url: String?
    public var region: String?
    public var accessKey: String?
    /// Only with `?withSecret=true`.
    public var secret: String?
    /// `provisioned` (user, keys and bucket per tenant) or `shared` (one bucket).
    public var tenancy: String?
    public var bucket: String?
    public var tlsVerify: Bool?
    public var caFile: String?
    public var quotaGB: Int?
    /// New buckets go here unless their request names another platform.
    public var isDefault: Bool
    /// `normal`, or `unreachable` / `refused` with `detail`.
    public var state: String
    public var detail: String?

    public init(name: String, kind: String, isDefault: Bool, state: String) {
        self.name = name
        self.kind = kind
        self.isDefault = isDefault
        self.state = state
    }
}

public struct PlatformsInfo: Codable, Sendable, Equatable {
    public var platforms: [PlatformInfo]
    public var notes: [Message]

    public init(platforms: [PlatformInfo], notes: [Message] = []) {
        self.platforms = platforms
        self.notes = notes
    }
}

/// `ose platforms s3 set`: an S3-compatible upstream, checked before it is saved.
public struct PlatformSetRequest: Codable, Sendable, Equatable {
    public var url: String
    public var region: String?
    public var accessKey: String
    public var secret: String
    public var tenancy: String?
    public var bucket: String?
    public var tlsVerify: Bool?
    public var caFile: String?
    public var quotaGB: Int?
    /// Save even when the check fails (the upstream is not up yet).
    public var force: Bool

    public init(
        url: String, region: String? = nil, accessKey: String, secret: String, tenancy: String? = nil, bucket: String? = nil,
        tlsVerify: Bool? = nil, caFile: String? = nil, quotaGB: Int? = nil, force: Bool = false
    ) {
        self.url = url
        self.region = region
        self.accessKey = accessKey
        self.secret = secret
        self.tenancy = tenancy
        self.bucket = bucket
        self.tlsVerify = tlsVerify
        self.caFile = caFile
        self.quotaGB = quotaGB
        self.force = force
    }
}

public struct PlatformEnableRequest: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

// MARK: Cloudian HyperStore and Dell ECS (`ose cloudian`, `ose ecs`)

/// One service of a vendor platform: admin API, S3, IAM (Cloudian) or console.
public struct VendorService: Codable, Sendable, Equatable {
    public var url: String
    public var user: String?
    /// Only with `?withSecret=true`.
    public var secret: String?
    public var region: String?

    public init(url: String, user: String? = nil, secret: String? = nil, region: String? = nil) {
        self.url = url
        self.user = user
        self.secret = secret
        self.region = region
    }
}

public struct VendorInfo: Codable, Sendable, Equatable {
    /// `cloudian` or `ecs`.
    public var kind: String
    public var admin: VendorService?
    public var s3: VendorService?
    public var iam: VendorService?
    public var console: VendorService?
    public var notes: [Message]

    public init(kind: String, admin: VendorService? = nil, s3: VendorService? = nil, iam: VendorService? = nil, console: VendorService? = nil,
                notes: [Message] = [])
    {
        self.kind = kind
        self.admin = admin
        self.s3 = s3
        self.iam = iam
        self.console = console
        self.notes = notes
    }
}

/// `ose cloudian|ecs admin|s3|iam|console set`.
public struct VendorSetRequest: Codable, Sendable, Equatable {
    public var url: String
    public var user: String?
    public var secret: String?
    public var region: String?
    /// Skip the password policy.
    public var force: Bool

    public init(url: String, user: String? = nil, secret: String? = nil, region: String? = nil, force: Bool = false) {
        self.url = url
        self.user = user
        self.secret = secret
        self.region = region
        self.force = force
    }
}

// MARK: moving buckets between platforms (`ose migration bucket`)

public struct BucketMoveRequest: Codable, Sendable, Equatable {
    public var bucket: String
    public var to: String
    /// Start over even if a move of this bucket is running (or the bucket is on `to` already).
    public var force: Bool

    public init(bucket: String, to: String, force: Bool = false) {
        self.bucket = bucket
        self.to = to
        self.force = force
    }
}

public struct BucketMoveInfo: Codable, Sendable, Equatable {
    public var bucket: String
    public var from: String
    public var to: String
    public var node: String
    /// RUNNING, COMPLETED or FAILED.
    public var status: String
    public var progress: Int
    public var total: Int
    public var totalBytes: Int64
    public var moved: Int
    public var movedBytes: Int64
    public var skipped: Int
    public var remaining: Int?
    public var error: String?
    public var startedAt: Date
    public var updatedAt: Date

    public init(
        bucket: String, from: String, to: String, node: String, status: String, progress: Int, total: Int, totalBytes: Int64, moved: Int,
        movedBytes: Int64, skipped: Int, remaining: Int?, error: String?, startedAt: Date, updatedAt: Date
    ) {
        self.bucket = bucket
        self.from = from
        self.to = to
        self.node = node
        self.status = status
        self.progress = progress
        self.total = total
        self.totalBytes = totalBytes
        self.moved = moved
        self.movedBytes = movedBytes
        self.skipped = skipped
        self.remaining = remaining
        self.error = error
        self.startedAt = startedAt
        self.updatedAt = updatedAt
    }
}

public struct BucketMoveList: Codable, Sendable, Equatable {
    public var moves: [BucketMoveInfo]
    public init(moves: [BucketMoveInfo]) { self.moves = moves }
}

/// SSE-S3's key-encryption keys (`ose encryption show`): newest last, the current one marked, with
/// how many data keys each wraps.
public struct EncryptionKeyInfo: Codable, Sendable, Equatable {
    public var id: String
    public var createdAt: Date
    public var current: Bool
    public var dataKeys: Int

    public init(id: String, createdAt: Date, current: Bool, dataKeys: Int) {
        self.id = id
        self.createdAt = createdAt
        self.current = current
        self.dataKeys = dataKeys
    }
}

public struct EncryptionInfo: Codable, Sendable, Equatable {
    public var keys: [EncryptionKeyInfo]
    /// `s3.sse_key_rotation_days`.
    public var rotationDays: Int
    /// When the lifecycle runner will next make a key (nil: no key yet — the first SSE-S3 write makes one).
    public var nextRotation: Date?

    public init(keys: [EncryptionKeyInfo], rotationDays: Int, nextRotation: Date?) {
        self.keys = keys
        self.rotationDays = rotationDays
        self.nextRotation = nextRotation
    }
}

/// `ose encryption rotate`: the key made, the data keys rewrapped, the keys deleted, and the keys now.
public struct EncryptionRotation: Codable, Sendable, Equatable {
    public var added: String?
    public var rewrapped: Int
    public var retired: [String]
    public var info: EncryptionInfo

    public init(added: String?, rewrapped: Int, retired: [String], info: EncryptionInfo) {
        self.added = added
        self.rewrapped = rewrapped
        self.retired = retired
        self.info = info
    }
}


// MARK: the cloud director (`ose director`, `ose ui`)

public struct DirectorSetRequest: Codable, Sendable, Equatable {
    public var url: String
    /// A system administrator, `NAME@system`.
    public var user: String
    public var secret: String
    public var force: Bool
    /// Accept a certificate no trusted CA signed (a director with a self-signed certificate).
    public var insecure: Bool?
    public init(url: String, user: String, secret: String, force: Bool, insecure: Bool? = nil) {
        self.url = url
        self.user = user
        self.secret = secret
        self.force = force
        self.insecure = insecure
    }
}

public struct DirectorInfo: Codable, Sendable, Equatable {
    public var configured: Bool
    public var url: String?
    public var user: String?
    public var secret: String?
    /// The director API version VOSS speaks to it (the newest both know).
    public var apiVersion: String?
    public var tlsVerify: Bool?
    public init(configured: Bool, url: String? = nil, user: String? = nil, secret: String? = nil, apiVersion: String? = nil, tlsVerify: Bool? = nil) {
        self.configured = configured
        self.url = url
        self.user = user
        self.secret = secret
        self.apiVersion = apiVersion
        self.tlsVerify = tlsVerify
    }
}

public struct UIInstallRequest: Codable, Sendable, Equatable {
    /// Where browsers reach VOSS (the portal the plugin opens), e.g. https://s3.example.com.
    public var oseURL: String
    public init(oseURL: String) { self.oseURL = oseURL }
}

public struct UIPluginInfo: Codable, Sendable, Equatable {
    public var installed: Bool
    public var id: String?
    public var name: String?
    public var version: String?
    public var oseURL: String?
    /// As the director reports it (e.g. `ready`); absent when the director could not be asked.
    public var status: String?
    public var detail: String?
    public init(installed: Bool, id: String? = nil, name: String? = nil, version: String? = nil, oseURL: String? = nil, status: String? = nil,
                detail: String? = nil) {
        self.installed = installed
        self.id = id
        self.name = name
        self.version = version
        self.oseURL = oseURL
        self.status = status
        self.detail = detail
    }
}
