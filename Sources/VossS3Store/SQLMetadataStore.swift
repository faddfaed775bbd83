import Crypto
import Synchronization
import VossChecksums
import VossS3Core

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The metadata store, written once against `SQLBackend`: SQLite (embedded) and PostgreSQL run the
/// same statements. Keys sort in byte order (BINARY in SQLite, `COLLATE "C"` in PostgreSQL), as S3
/// lists them. Access-key secrets are sealed with AES-256-GCM under a key from the keeper.
public final class SQLMetadataStore: MetadataStore, @unchecked Sendable {
    public let backend: any SQLBackend
    let secretKey: SymmetricKey
    /// The node whose disk holds the blobs this store journals.
    let nodeID: String
    /// Decoded object rows by (bucket, key), reused while the stored row is byte-for-byte the same
    /// (decoding the JSON columns costs more than reading the row).
    let decoded = Mutex<[String: (raw: [SQLValue], record: ObjectRecord)]>([:])
    let decodedBuckets = Mutex<[String: (raw: [SQLValue], record: BucketRecord)]>([:])

    public init(backend: any SQLBackend, secretKey: SymmetricKey, nodeID: String) {
        self.backend = backend
        self.secretKey = secretKey
        self.nodeID = nodeID
    }

    // MARK: encoding helpers

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json<T: Encodable>(_ v: T) -> SQLValue {
        .text(String(decoding: (try? encoder.encode(v)) ?? Data("null".utf8), as: UTF8.self))
    }

    static func decode<T: Decodable>(_ v: SQLValue, _ t: T.Type) throws -> T {
        guard let s = v.text else { throw StoreError.internalError("missing JSON column") }
        return try JSONDecoder().decode(T.self, from: Data(s.utf8))
    }

    static func ms(_ d: Date) -> SQLValue { .int(Int64((d.timeIntervalSince1970 * 1000).rounded())) }
    static func date(_ v: SQLValue) -> Date { Date(timeIntervalSince1970: Double(v.int ?? 0) / 1000) }

    func seal(_ s: String) -> String {
        (try! AES.GCM.seal(Array(s.utf8), using: secretKey)).combined!.base64EncodedString()
    }

    func open(_ s: String) throws -> String {
        guard let d = Data(base64Encoded: s), let box = try? AES.GCM.SealedBox(combined: d),
            let plain = try? AES.GCM.open(box, using: secretKey)
        else { throw StoreError.internalError("an access-key secret cannot be decrypted with this node's key") }
        return String(decoding: plain, as: UTF8.self)
    }

    @discardableResult
    func w<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await backend.write(work)
    }

    func r<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await backend.read(work)
    }

    // MARK: identity

    static func tenant(_ row: [SQLValue]) -> TenantRecord {
        TenantRecord(id: row[0].text ?? "", name: row[1].text ?? "", createdAt: date(row[2]))
    }

    static func user(_ row: [SQLValue]) -> UserRecord {
        UserRecord(
            id: row[0].text ?? "", tenantID: row[1].text ?? "", name: row[2].text ?? "",
            role: Role(rawValue: row[3].text ?? "") ?? .tenantUser, createdAt: date(row[4]))
    }

    public func createTenant(name: String) async throws -> TenantRecord {
        let t = TenantRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: Date())
        return try await w { c in
            if try !c.query("SELECT 1 FROM tenants WHERE name = ?", [.text(name)]).isEmpty { throw StoreError.exists(name) }
            try c.query("INSERT INTO tenants VALUES (?, ?, ?)", [.text(t.id), .text(t.name), Self.ms(t.createdAt)])
            return t
        }
    }

    public func tenants() async throws -> [TenantRecord] {
        try await r { c in try c.query("SELECT id, name, created_ms FROM tenants ORDER BY name").map(Self.tenant) }
    }

    public func tenant(named name: String) async throws -> TenantRecord? {
        try await r { c in try c.query("SELECT id, name, created_ms FROM tenants WHERE name = ?", [.text(name)]).first.map(Self.tenant) }
    }

    public func deleteTenant(named name: String) async throws {
        try await w { c in
            guard let id = try c.query("SELECT id FROM tenants WHERE name = ?", [.text(name)]).first?[0] else {
                throw StoreError.notFound(name)
            }
            if try !c.query("SELECT 1 FROM users WHERE tenant_id = ? LIMIT 1", [id]).isEmpty {
                throw StoreError.notEmpty("users")
            }
            if try !c.query("SELECT 1 FROM buckets WHERE tenant_id = ? LIMIT 1", [id]).isEmpty {
                throw StoreError.notEmpty("buckets")
            }
            try c.query("DELETE FROM tenant_quotas WHERE tenant_id = ?", [id])
            try c.query("DELETE FROM tenants WHERE id = ?", [id])
        }
    }

    func tenantID(_ c: any SQLSession, _ name: String) throws -> String {
        guard let id = try c.query("SELECT id FROM tenants WHERE name = ?", [.text(name)]).first?[0].text else {
            throw StoreError.notFound("tenant \(name)")
        }
        return id
    }

    func userID(_ c: any SQLSession, tenant: String, user: String) throws -> String {
        let tid = try tenantID(c, tenant)
        guard let id = try c.query("SELECT id FROM users WHERE tenant_id = ? AND name = ?", [.text(tid), .text(user)]).first?[0].text
        else { throw StoreError.notFound("user \(user) in tenant \(tenant)") }
        return id
    }

    public func createUser(tenant: String, name: String, role: Role) async throws -> UserRecord {
        try await w { c in
            let tid = try self.tenantID(c, tenant)
            if try !c.query("SELECT 1 FROM users WHERE tenant_id = ? AND name = ?", [.text(tid), .text(name)]).isEmpty {
                throw StoreError.exists(name)
            }
            let u = UserRecord(id: UUID().uuidString.lowercased(), tenantID: tid, name: name, role: role, createdAt: Date())
            try c.query(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                [.text(u.id), .text(tid), .text(name), .text(role.rawValue), Self.ms(u.createdAt)])
            return u
        }
    }

    public func users(tenant: String) async throws -> [UserRecord] {
        try await r { c in
            let tid = try self.tenantID(c, tenant)
            return try c.query("SELECT id, tenant_id, name, role, created_ms FROM users WHERE tenant_id = ? ORDER BY name", [.text(tid)])
                .map(Self.user)
        }
    }

    public func deleteUser(tenant: String, name: String) async throws {
        try await w { c in
            let uid = try self.userID(c, tenant: tenant, user: name)
            try c.query("DELETE FROM access_keys WHERE user_id = ?", [.text(uid)])
            try c.query("DELETE FROM sessions WHERE user_id = ?", [.text(uid)])
            try c.query("DELETE FROM user_passwords WHERE user_id = ?", [.text(uid)])
            try c.query("DELETE FROM users WHERE id = ?", [.text(uid)])
        }
    }

    static func randomString(_ n: Int, alphabet: String) -> String {
        let a = Array(alphabet)
        var rng = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in a[Int.random(in: 0..<a.count, using: &rng)] })
    }

    public func createKey(tenant: String, user: String) async throws -> AccessKeyRecord {
        let ak = "VOSS" + Self.randomString(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secret = Self.randomString(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
        let sealed = seal(secret)
        return try await w { c in
            let uid = try self.userID(c, tenant: tenant, user: user)
            let rec = AccessKeyRecord(accessKey: ak, secret: secret, userID: uid, createdAt: Date())
            try c.query("INSERT INTO access_keys VALUES (?, ?, ?, ?)", [.text(ak), .text(sealed), .text(uid), Self.ms(rec.createdAt)])
            return rec
        }
    }

    public func keys(tenant: String, user: String) async throws -> [AccessKeyRecord] {
        try await r { c in
            let uid = try self.userID(c, tenant: tenant, user: user)
            return try c.query("SELECT access_key, user_id, created_ms FROM access_keys WHERE user_id = ? ORDER BY created_ms", [.text(uid)])
                .map { AccessKeyRecord(accessKey: $0[0].text ?? "", secret: "", userID: $0[1].text ?? "", createdAt: Self.date($0[2])) }
        }
    }

    public func deleteKey(accessKey: String) async throws {
        try await w { c in
            guard try !c.query("SELECT 1 FROM access_keys WHERE access_key = ?", [.text(accessKey)]).isEmpty else {
                throw StoreError.notFound(accessKey)
            }
            try c.query("DELETE FROM access_keys WHERE access_key = ?", [.text(accessKey)])
        }
    }

    public func principal(accessKey: String) async throws -> Principal? {
        let row: [SQLValue]? = try await r { c in
            try c.query(
                """
                SELECT k.secret, u.id, u.tenant_id, u.name, u.role, u.created_ms, t.id, t.name, t.created_ms
                FROM access_keys k JOIN users u ON u.id = k.user_id JOIN tenants t ON t.id = u.tenant_id
                WHERE k.access_key = ?
                """, [.text(accessKey)]
            ).first
        }
        guard let row else { return nil }
        return Principal(
            accessKey: accessKey, secret: try open(row[0].text ?? ""), user: Self.user(Array(row[1...5])),
            tenant: Self.tenant(Array(row[6...8])))
    }

    // MARK: buckets

    static let bucketColumns = "id, name, tenant_id, owner_id, created_ms, region, policy, tags, platform, settings"

    static func bucket(_ row: [SQLValue]) throws -> BucketRecord {
        BucketRecord(
            id: row[0].int ?? 0, name: row[1].text ?? "", tenantID: row[2].text ?? "", ownerID: row[3].text ?? "",
            createdAt: date(row[4]), region: row[5].text ?? "", policy: try decode(row[6], AccessPolicy.self),
            tags: row[7] == .null ? nil : try decode(row[7], [String: String].self), platform: row[8].text ?? "local",
            settings: row[9] == .null ? BucketSettings() : try decode(row[9], BucketSettings.self))
    }

    public func createBucket(
        name: String, tenantID: String, ownerID: String, region: String, policy: AccessPolicy, platform: String, settings: BucketSettings
    ) async throws -> BucketRecord {
        let now = Date()
        return try await w { c in
            if let t = try c.query("SELECT tenant_id FROM buckets WHERE name = ?", [.text(name)]).first?[0].text {
                throw StoreError.bucketExists(sameTenant: t == tenantID)
            }
            try c.query(
                "INSERT INTO buckets(name, tenant_id, owner_id, created_ms, region, policy, tags, platform, settings) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                [.text(name), .text(tenantID), .text(ownerID), Self.ms(now), .text(region), Self.json(policy), .text(platform), Self.json(settings)])
            return try Self.bucket(c.query("SELECT \(Self.bucketColumns) FROM buckets WHERE name = ?", [.text(name)])[0])
        }
    }

    static let bucketByName = "SELECT \(bucketColumns) FROM buckets WHERE name = ?"
    static let objectByKey = "SELECT \(objectColumns) FROM objects WHERE bucket_id = ? AND key = ?"

    public func bucket(named name: String) async throws -> BucketRecord? {
        guard let row = try await r({ c in try c.query(Self.bucketByName, [.text(name)]).first }) else { return nil }
        return try decodeBucket(row, name: name)
    }

    /// The bucket and the object at `key` in one statement (an object's columns are NULL when it is
    /// absent): one round trip on a loop connection.
    public static let bucketAndObjectJoined =
        "SELECT " + qualified(bucketColumns, "b") + ", " + qualified(objectColumns, "o") + " FROM buckets b LEFT JOIN objects o ON o.bucket_id = b.id AND o.key = ? WHERE b.name = ?"
    static let bucketColumnCount = bucketColumns.split(separator: ",").count

    /// `a, b` → `t.a, t.b`.
    static func qualified(_ columns: String, _ table: String) -> String {
        columns.split(separator: ",").map { table + "." + $0.filter { $0 != " " } }.joined(separator: ", ")
    }

    public func bucketAndObject(named name: String, key: String) async throws -> (bucket: BucketRecord, object: ObjectRecord?)? {
        if let here = backend.loopReader, let rows = try await here.queryHere(Self.bucketAndObjectJoined, [.text(key), .text(name)]) {
            return try joined(rows, name: name, key: key)
        }
        if let rows = try backend.queryNow(Self.bucketAndObjectJoined, [.text(key), .text(name)]) {
            return try joined(rows, name: name, key: key)
        }
        let rows = try await r { c in try c.query(Self.bucketAndObjectJoined, [.text(key), .text(name)]) }
        return try joined(rows, name: name, key: key)
    }

    /// `bucketAndObject` answered on the calling thread when the backend can (SQLite); nil when it
    /// cannot or there is no such bucket. For the gateway's synchronous GET path.
    public var answersNow: Bool { backend.answersNow }

    public func bucketAndObjectNow(named name: String, key: String) throws -> (bucket: BucketRecord, object: ObjectRecord?)? {
        guard let rows = try backend.queryNow(Self.bucketAndObjectJoined, [.text(key), .text(name)]) else { return nil }
        return try joined(rows, name: name, key: key)
    }

    /// The records in a row of `bucketAndObjectJoined`; nil when there was no row (no such bucket).
    func joined(_ rows: [[SQLValue]], name: String, key: String) throws -> (bucket: BucketRecord, object: ObjectRecord?)? {
        guard let row = rows.first, row.count > Self.bucketColumnCount else { return nil }
        let b = try decodeBucket(Array(row[..<Self.bucketColumnCount]), name: name)
        // The object's bucket_id is NULL exactly when no object row joined.
        guard row[Self.bucketColumnCount] != .null else { return (b, nil) }
        return (b, try decodeObject(Array(row[Self.bucketColumnCount...]), bucketID: b.id, key: key))
    }

    /// Rows of hot buckets and objects decode once: the decoded record is kept with the row it came
    /// from and reused while the row read back is the same.
    func decodeBucket(_ row: [SQLValue], name: String) throws -> BucketRecord {
        if let hit = decodedBuckets.withLock({ $0[name] }), hit.raw == row { return hit.record }
        let record = try Self.bucket(row)
        decodedBuckets.withLock { d in
            if d.count >= 10_000 { d.removeAll() }
            d[name] = (row, record)
        }
        return record
    }

    public func buckets(tenantID: String) async throws -> [BucketRecord] {
        try await r { c in try c.query("SELECT \(Self.bucketColumns) FROM buckets WHERE tenant_id = ? ORDER BY name", [.text(tenantID)]).map(Self.bucket) }
    }

    public func allBuckets() async throws -> [BucketRecord] {
        try await r { c in try c.query("SELECT \(Self.bucketColumns) FROM buckets ORDER BY name").map(Self.bucket) }
    }

    public func acquireLease(_ name: String, now: Date, seconds: Int) async throws -> Bool {
        let node = nodeID
        return try await w { c in
            try c.query(
                """
                INSERT INTO leases(name, node_id, until_ms) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET node_id = excluded.node_id, until_ms = excluded.until_ms
                    WHERE leases.node_id = excluded.node_id OR leases.until_ms < ?
                """,
                [.text(name), .text(node), Self.ms(now.addingTimeInterval(Double(seconds))), Self.ms(now)])
            return try c.query("SELECT node_id FROM leases WHERE name = ?", [.text(name)]).first?.first?.text == node
        }
    }

    public func deleteBucket(id: Int64) async throws {
        try await w { c in
            if try !c.query("SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1", [.int(id)]).isEmpty {
                throw StoreError.notEmpty("objects")
            }
            if try !c.query("SELECT 1 FROM object_versions WHERE bucket_id = ? LIMIT 1", [.int(id)]).isEmpty {
                throw StoreError.notEmpty("versions")
            }
            if try !c.query("SELECT 1 FROM uploads WHERE bucket_id = ? LIMIT 1", [.int(id)]).isEmpty {
                throw StoreError.notEmpty("uploads")
            }
            try c.query("DELETE FROM buckets WHERE id = ?", [.int(id)])
        }
    }

    public func updateBucket(_ b: BucketRecord) async throws {
        try await w { c in
            try c.query(
                "UPDATE buckets SET policy = ?, tags = ?, platform = ?, settings = ? WHERE id = ?",
                [Self.json(b.policy), b.tags.map(Self.json) ?? .null, .text(b.platform), Self.json(b.settings), .int(b.id)])
        }
    }

    // MARK: platform accounts

    public func platformAccount(platform: String, tenantID: String) async throws -> PlatformAccount? {
        guard
            let row = try await r({ c in
                try c.query(
                    "SELECT access_key, secret, bucket FROM platform_accounts WHERE platform = ? AND tenant_id = ?",
                    [.text(platform), .text(tenantID)]
                ).first
            })
        else { return nil }
        return PlatformAccount(
            platform: platform, tenantID: tenantID, accessKey: row[0].text ?? "", secret: try open(row[1].text ?? ""), bucket: row[2].text ?? "")
    }

    public func savePlatformAccount(_ a: PlatformAccount) async throws -> PlatformAccount {
        let sealed = seal(a.secret)
        try await w { c in
            try c.query(
                "INSERT INTO platform_accounts(platform, tenant_id, access_key, secret, bucket, created_ms) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (platform, tenant_id) DO NOTHING",
                [.text(a.platform), .text(a.tenantID), .text(a.accessKey), .text(sealed), .text(a.bucket), Self.ms(Date())])
        }
        return try await platformAccount(platform: a.platform, tenantID: a.tenantID) ?? a
    }

    // MARK: objects

    static let objectColumns =
        "bucket_id, key, size, etag, modified_ms, headers, checksum, policy, tags, storage, owner_id, version_id, upload_id, lock"

    static func object(_ row: [SQLValue]) throws -> ObjectRecord {
        ObjectRecord(
            bucketID: row[0].int ?? 0, key: row[1].text ?? "", size: row[2].int ?? 0, etag: row[3].text ?? "",
            lastModified: date(row[4]), headers: try decode(row[5], ObjectHeaders.self),
            checksum: row[6] == .null ? nil : try decode(row[6], StoredChecksum.self),
            policy: try decode(row[7], AccessPolicy.self), tags: try decode(row[8], [String: String].self),
            storage: try decode(row[9], ObjectStorage.self), ownerID: row[10].text ?? "", versionID: row[11].text,
            uploadID: row[12].text, lock: row[13] == .null ? nil : try decode(row[13], ObjectLock.self))
    }

    /// The row of `objects` for `o`, in `objectColumns` order followed by `checksum_algorithm`.
    public static func objectValues(_ o: ObjectRecord) -> [SQLValue] {
        [
            .int(o.bucketID), .text(o.key), .int(o.size), .text(o.etag), ms(o.lastModified),
            ColumnJSON.headers(o.headers).map(SQLValue.text) ?? json(o.headers),
            o.checksum.map { .text(ColumnJSON.checksum($0)) } ?? .null, .text(ColumnJSON.policy(o.policy)),
            ColumnJSON.tags(o.tags).map(SQLValue.text) ?? json(o.tags), .text(ColumnJSON.storage(o.storage)), .text(o.ownerID),
            o.versionID.map(SQLValue.text) ?? .null, o.uploadID.map(SQLValue.text) ?? .null, o.lock.map(json) ?? .null,
            o.checksum.map { .text($0.algorithm.rawValue) } ?? .null,
        ]
    }

    /// Insert-or-replace of one object row (both databases know `ON CONFLICT … DO UPDATE`).
    public static let upsertObject = """
        INSERT INTO objects(\(objectColumns), checksum_algorithm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(bucket_id, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
            modified_ms = excluded.modified_ms, headers = excluded.headers, checksum = excluded.checksum,
            policy = excluded.policy, tags = excluded.tags, storage = excluded.storage, owner_id = excluded.owner_id,
            version_id = excluded.version_id, upload_id = excluded.upload_id, lock = excluded.lock,
            checksum_algorithm = excluded.checksum_algorithm
        """

    public func object(bucketID: Int64, key: String) async throws -> ObjectRecord? {
        let row = try await r { c in try c.query(Self.objectByKey, [.int(bucketID), .text(key)]).first }
        guard let row else { return nil }
        return try decodeObject(row, bucketID: bucketID, key: key)
    }

    func decodeObject(_ row: [SQLValue], bucketID: Int64, key: String) throws -> ObjectRecord {
        let id = "\(bucketID)/\(key)"
        if let hit = decoded.withLock({ $0[id] }), hit.raw == row { return hit.record }
        let record = try Self.object(row)
        decoded.withLock { d in
            if d.count >= 10_000 { d.removeAll() }
            d[id] = (row, record)
        }
        return record
    }

    /// After writing `o` as `values`: the record a read of that row decodes to, kept for it — the
    /// next overwrite of a hot key (or its next GET) finds its old row without decoding five JSON
    /// columns. Kept only for what `object(_:)` restores exactly (the date to the millisecond it
    /// stores); an entry for a write that then rolls back is never served (a hit needs the same row).
    func remember(_ values: [SQLValue], _ o: ObjectRecord) {
        guard !o.deleteMarker, values.count > Self.objectColumnCount else { return }
        var record = o
        record.lastModified = Self.date(Self.ms(o.lastModified))
        let raw = Array(values.prefix(Self.objectColumnCount))
        decoded.withLock { d in
            if d.count >= 10_000 { d.removeAll() }
            d["\(o.bucketID)/\(o.key)"] = (raw, record)
        }
    }

    static let objectColumnCount = objectColumns.split(separator: ",").count

    func garbage(_ c: any SQLSession, _ blobs: [String]) throws {
        for b in blobs {
            try c.query(
                """
                INSERT INTO blob_journal(blob, kind, created_ms, node_id) VALUES (?, 'garbage', ?, ?)
                ON CONFLICT(blob) DO UPDATE SET kind = 'garbage'
                """,
                [.text(b), Self.ms(Date()), .text(nodeID)])
        }
    }

    func committed(_ c: any SQLSession, _ blobs: [String]) throws {
        for b in blobs { try c.query("DELETE FROM blob_journal WHERE blob = ? AND kind = 'new'", [.text(b)]) }
    }

    func currentObject(_ c: any SQLSession, _ bucketID: Int64, _ key: String) throws -> ObjectRecord? {
        try c.query("SELECT \(Self.objectColumns) FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)])
            .first.map { try decodeObject($0, bucketID: bucketID, key: key) }
    }

    static func check(_ condition: WriteCondition?, against current: ObjectRecord?) throws {
        switch condition {
        case nil: break
        case .absent: if current != nil { throw StoreError.preconditionFailed }
        case .etag(let e):
            guard let current else { throw StoreError.notFound("key") }
            if current.etag != e { throw StoreError.preconditionFailed }
        }
    }

    /// Writes `o` as the current object (see `putObject`); returns the version whose data was released.
    func replaceObject(_ c: any SQLSession, _ o: ObjectRecord, versioned: Bool, condition: WriteCondition?) throws -> ObjectRecord? {
        let old = try currentObject(c, o.bucketID, o.key)
        try Self.check(condition, against: old)
        var released: ObjectRecord? = nil
        if versioned {
            if let old, !(old.versionID == nil && o.versionID == nil) {
                try demote(c, old)
            } else {
                released = old
            }
            if o.versionID == nil, let null = try removeNoncurrent(c, o.bucketID, o.key, versionID: nil) { released = null }
        } else {
            released = old
        }
        let values = Self.objectValues(o)
        try c.query(Self.upsertObject, values)
        remember(values, o)
        try committed(c, o.storage.blobs)
        if let released { try garbage(c, released.storage.blobs.filter { !o.storage.blobs.contains($0) }) }
        return released
    }

    public func putObject(_ o: ObjectRecord, versioned: Bool, condition: WriteCondition?) async throws -> ObjectRecord? {
        try await w(objectWrite(o, versioned: versioned, condition: condition))
    }

    public func putObjectSoon(
        _ o: ObjectRecord, versioned: Bool, condition: WriteCondition?, done: @escaping @Sendable (Result<ObjectRecord?, any Error>) -> Void
    ) {
        backend.writeSoon(objectWrite(o, versioned: versioned, condition: condition), done: done)
    }

    func objectWrite(_ o: ObjectRecord, versioned: Bool, condition: WriteCondition?, inline: InlineBlob? = nil)
        -> @Sendable (any SQLSession) throws -> ObjectRecord?
    {
        { c in
            guard try !c.query("SELECT 1 FROM buckets WHERE id = ?", [.int(o.bucketID)]).isEmpty else {
                throw StoreError.notFound("bucket")
            }
            // The bytes first: a condition that fails below rolls them back with the row.
            if let inline { try Self.insertInline(c, inline) }
            return try self.replaceObject(c, o, versioned: versioned, condition: condition)
        }
    }

    // MARK: inline blobs

    public func putObjectSoon(
        _ o: ObjectRecord, versioned: Bool, condition: WriteCondition?, inline: InlineBlob,
        done: @escaping @Sendable (Result<ObjectRecord?, any Error>) -> Void
    ) {
        backend.writeSoon(objectWrite(o, versioned: versioned, condition: condition, inline: inline), done: done)
    }

    static func insertInline(_ c: any SQLSession, _ b: InlineBlob) throws {
        try c.query("INSERT INTO inline_blobs(blob, data) VALUES (?, ?)", [.text(b.blob), .blob(b.bytes)])
    }

    public func putInlineBlob(_ blob: InlineBlob) async throws {
        try await w { c in try Self.insertInline(c, blob) }
    }

    public static let inlineSelect = "SELECT data FROM inline_blobs WHERE blob = ?"

    static func inlineBytes(_ rows: [[SQLValue]]) -> [UInt8]? {
        guard let cell = rows.first?.first else { return nil }
        if case .blob(let b) = cell { return b }
        return nil
    }

    public func inlineBlob(_ blob: String) async throws -> [UInt8]? {
        if let rows = try backend.queryNow(Self.inlineSelect, [.text(blob)]) { return Self.inlineBytes(rows) }
        // PostgreSQL: on the request's own event loop when it can (no thread change, decision 18).
        if let here = backend.loopReader, let rows = try await here.queryHere(Self.inlineSelect, [.text(blob)]) { return Self.inlineBytes(rows) }
        return Self.inlineBytes(try await r { c in try c.query(Self.inlineSelect, [.text(blob)]) })
    }

    public func inlineBlobNow(_ blob: String) throws -> [UInt8]?? {
        guard let rows = try backend.queryNow(Self.inlineSelect, [.text(blob)]) else { return .none }
        return .some(Self.inlineBytes(rows))
    }

    public func deleteInlineBlobs(_ blobs: [String]) async throws {
        guard !blobs.isEmpty else { return }
        try await w { c in for b in blobs { try c.query("DELETE FROM inline_blobs WHERE blob = ?", [.text(b)]) } }
    }

    public func deleteObject(bucketID: Int64, key: String, marker: ObjectRecord?, expected: ObjectRecord?) async throws -> ObjectRecord? {
        try await w { c in
            let old = try self.currentObject(c, bucketID, key)
            if let expected {
                guard let old, old.versionID == expected.versionID, old.etag == expected.etag,
                    Self.ms(old.lastModified) == Self.ms(expected.lastModified)
                else { throw StoreError.preconditionFailed }
            }
            guard let marker else {
                guard let old else { return nil }
                try c.query("DELETE FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)])
                try self.garbage(c, old.storage.blobs)
                return old
            }
            var released: ObjectRecord? = nil
            if let old {
                try c.query("DELETE FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)])
                if old.versionID == nil && marker.versionID == nil { released = old } else { try self.demote(c, old) }
            }
            if marker.versionID == nil, let null = try self.removeNoncurrent(c, bucketID, key, versionID: nil) { released = null }
            try self.insertVersion(c, marker)
            if let released { try self.garbage(c, released.storage.blobs) }
            return released
        }
    }

    public func updateObject(
        bucketID: Int64, key: String, version: String??, tags: [String: String]?, policy: AccessPolicy?, lock: ObjectLock??
    ) async throws -> Bool {
        try await w { c in
            var table = "objects"
            var cond = "bucket_id = ? AND key = ?"
            var args: [SQLValue] = [.int(bucketID), .text(key)]
            if let version {
                let current = try self.currentObject(c, bucketID, key)
                if current == nil || current?.versionID != version {
                    table = "object_versions"
                    cond += " AND version_id = ? AND delete_marker = 0"
                    args.append(.text(version ?? "null"))
                }
            }
            guard try !c.query("SELECT 1 FROM \(table) WHERE \(cond)", args).isEmpty else { return false }
            if let tags { try c.query("UPDATE \(table) SET tags = ? WHERE \(cond)", [Self.json(tags)] + args) }
            if let policy { try c.query("UPDATE \(table) SET policy = ? WHERE \(cond)", [Self.json(policy)] + args) }
            if let lock { try c.query("UPDATE \(table) SET lock = ? WHERE \(cond)", [lock.map(Self.json) ?? .null] + args) }
            return true
        }
    }

    public func replaceStorage(bucketID: Int64, key: String, expected: ObjectStorage, with storage: ObjectStorage) async throws -> Bool {
        try await w { c in
            guard let row = try c.query("SELECT storage FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)]).first,
                try Self.decode(row[0], ObjectStorage.self) == expected
            else { return false }
            try c.query("UPDATE objects SET storage = ? WHERE bucket_id = ? AND key = ?", [Self.json(storage), .int(bucketID), .text(key)])
            try self.committed(c, storage.blobs)
            try self.garbage(c, expected.blobs.filter { !storage.blobs.contains($0) })
            return true
        }
    }

    public func objectCount(bucketID: Int64) async throws -> (objects: Int, bytes: Int64) {
        try await r { c in
            let o = try c.query("SELECT count(*), CAST(coalesce(sum(size), 0) AS BIGINT) FROM objects WHERE bucket_id = ?", [.int(bucketID)])[0]
            return (Int(o[0].int ?? 0), o[1].int ?? 0)
        }
    }

    public func saveMove(_ m: PlatformMove) async throws {
        try await w { c in
            try c.query(
                """
                INSERT INTO platform_moves(bucket, node_id, status, updated_ms, state) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(bucket) DO UPDATE SET node_id = excluded.node_id, status = excluded.status,
                    updated_ms = excluded.updated_ms, state = excluded.state
                """,
                [.text(m.bucket), .text(m.node), .text(m.status.rawValue), Self.ms(m.updatedAt), Self.json(m)])
        }
    }

    public func move(bucket: String) async throws -> PlatformMove? {
        guard let row = try await r({ c in try c.query("SELECT state FROM platform_moves WHERE bucket = ?", [.text(bucket)]).first }) else {
            return nil
        }
        return try Self.decode(row[0], PlatformMove.self)
    }

    public func moves() async throws -> [PlatformMove] {
        try await r { c in try c.query("SELECT state FROM platform_moves ORDER BY bucket").map { try Self.decode($0[0], PlatformMove.self) } }
    }

    public func listObjects(bucketID: Int64, prefix: String, after: String, inclusive: Bool, limit: Int) async throws -> [ObjectSummary] {
        try await r { c in
            // Range scan on the primary key: key >= max(prefix, after) and below the prefix's successor.
            let (start, op) = Self.rangeStart(prefix: prefix, after: after, inclusive: inclusive)
            var sql = "SELECT key, size, etag, modified_ms, owner_id, checksum_algorithm FROM objects WHERE bucket_id = ? AND key \(op) ?"
            var args: [SQLValue] = [.int(bucketID), .text(start)]
            if let end = ListAccumulator.successor(of: prefix), !prefix.isEmpty {
                sql += " AND key < ?"
                args.append(.text(end))
            }
            sql += " ORDER BY key LIMIT ?"
            args.append(.int(Int64(limit)))
            return try c.query(sql, args).map {
                ObjectSummary(
                    key: $0[0].text ?? "", size: $0[1].int ?? 0, etag: $0[2].text ?? "", lastModified: Self.date($0[3]),
                    ownerID: $0[4].text ?? "", checksumAlgorithm: $0[5].text.flatMap { ChecksumAlgorithm(rawValue: $0) })
            }
        }
    }

    /// Where a listing starts: at `after` (exclusive unless `inclusive`) when it is not below the
    /// prefix in byte order, else at the prefix. (`after == prefix` exclusive must skip the key equal
    /// to the prefix: a continuation token can be exactly that key.)
    static func rangeStart(prefix: String, after: String, inclusive: Bool) -> (String, String) {
        if !after.utf8.lexicographicallyPrecedes(prefix.utf8) { return (after, inclusive ? ">=" : ">") }
        return (prefix, ">=")
    }

    public func listGroupHeads(
        bucketID: Int64, prefix: String, delimiter: String, after: String, inclusive: Bool, limit: Int
    ) async throws -> [ObjectSummary]? {
        // SQLite answers the per-group queries in microseconds in-process; PostgreSQL pays a round
        // trip each, so it walks the groups in one recursive query instead.
        guard backend.dialect == .postgres, !delimiter.isEmpty, limit > 0 else { return nil }
        return try await r { c in
            let (start, op) = Self.rangeStart(prefix: prefix, after: after, inclusive: inclusive)
            let end = prefix.isEmpty ? nil : ListAccumulator.successor(of: prefix)
            let p = Int64(prefix.unicodeScalars.count)
            let dl = Int64(delimiter.unicodeScalars.count)
            let below = end == nil ? "" : " AND o.key < ?"
            // heads(k, n): the first key from `start`, then repeatedly the first key after the group
            // of the previous one — past its common prefix (that prefix with its last character
            // incremented), or just past the key when it has no delimiter after the prefix.
            let sql = """
                WITH RECURSIVE heads(k, n) AS (
                  (SELECT o.key, 1 FROM objects o WHERE o.bucket_id = ? AND o.key \(op) ?\(below) ORDER BY o.key LIMIT 1)
                  UNION ALL
                  SELECT nxt.key, h.n + 1 FROM heads h
                    CROSS JOIN LATERAL (SELECT CASE WHEN strpos(substr(h.k, ?::int + 1), ?) > 0
                        THEN left(h.k, ?::int + strpos(substr(h.k, ?::int + 1), ?) + ?::int - 1) END AS cp) g
                    CROSS JOIN LATERAL (SELECT o.key FROM objects o WHERE o.bucket_id = ?
                        AND o.key >= CASE WHEN g.cp IS NULL THEN h.k || chr(1)
                                          ELSE left(g.cp, -1) || chr(ascii(right(g.cp, 1)) + 1) END\(below)
                        ORDER BY o.key LIMIT 1) nxt
                  WHERE h.n < ?
                )
                SELECT o.key, o.size, o.etag, o.modified_ms, o.owner_id, o.checksum_algorithm
                FROM heads h JOIN objects o ON o.bucket_id = ? AND o.key = h.k ORDER BY o.key
                """
            var args: [SQLValue] = [.int(bucketID), .text(start)]
            if let end { args.append(.text(end)) }
            args += [.int(p), .text(delimiter), .int(p), .int(p), .text(delimiter), .int(dl), .int(bucketID)]
            if let end { args.append(.text(end)) }
            args += [.int(Int64(limit)), .int(bucketID)]
            return try c.query(sql, args).map {
                ObjectSummary(
                    key: $0[0].text ?? "", size: $0[1].int ?? 0, etag: $0[2].text ?? "", lastModified: Self.date($0[3]),
                    ownerID: $0[4].text ?? "", checksumAlgorithm: $0[5].text.flatMap { ChecksumAlgorithm(rawValue: $0) })
            }
        }
    }

    // MARK: multipart

    static let uploadColumns =
        "upload_id, bucket_id, key, initiated_ms, headers, policy, tags, checksum_algorithm, checksum_type, owner_id, platform_upload, lock, encryption"

    static func upload(_ row: [SQLValue]) throws -> UploadRecord {
        UploadRecord(
            uploadID: row[0].text ?? "", bucketID: row[1].int ?? 0, key: row[2].text ?? "", initiated: date(row[3]),
            headers: try decode(row[4], ObjectHeaders.self), policy: try decode(row[5], AccessPolicy.self),
            tags: try decode(row[6], [String: String].self), checksumAlgorithm: row[7].text.flatMap { ChecksumAlgorithm(rawValue: $0) },
            checksumType: row[8].text, ownerID: row[9].text ?? "", platformUpload: row[10].text,
            lock: row[11] == .null ? nil : try decode(row[11], ObjectLock.self),
            encryption: row[12] == .null ? nil : try decode(row[12], ObjectEncryption.self))
    }

    static let partColumns = "upload_id, part_number, size, etag, blob, checksum, modified_ms, cipher"

    static func part(_ row: [SQLValue]) throws -> PartRecord {
        PartRecord(
            uploadID: row[0].text ?? "", partNumber: Int(row[1].int ?? 0), size: row[2].int ?? 0, etag: row[3].text ?? "",
            blob: row[4].text ?? "", checksum: row[5].text, lastModified: date(row[6]),
            cipher: row[7] == .null ? nil : try decode(row[7], PartCipher.self))
    }

    public func createUpload(_ u: UploadRecord) async throws {
        try await w { c in
            try c.query(
                "INSERT INTO uploads(\(Self.uploadColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(u.uploadID), .int(u.bucketID), .text(u.key), Self.ms(u.initiated), Self.json(u.headers), Self.json(u.policy),
                    Self.json(u.tags), u.checksumAlgorithm.map { .text($0.rawValue) } ?? .null, u.checksumType.map { .text($0) } ?? .null,
                    .text(u.ownerID), u.platformUpload.map { .text($0) } ?? .null, u.lock.map(Self.json) ?? .null,
                    u.encryption.map(Self.json) ?? .null,
                ])
        }
    }

    public func upload(id: String) async throws -> UploadRecord? {
        try await r { c in try c.query("SELECT \(Self.uploadColumns) FROM uploads WHERE upload_id = ?", [.text(id)]).first.map(Self.upload) }
    }

    public func putPart(_ p: PartRecord) async throws -> PartRecord? {
        try await w { c in
            guard try !c.query("SELECT 1 FROM uploads WHERE upload_id = ?", [.text(p.uploadID)]).isEmpty else {
                try self.garbage(c, [p.blob])
                try self.committed(c, [p.blob])
                throw StoreError.notFound("upload")
            }
            let old = try c.query(
                "SELECT \(Self.partColumns) FROM parts WHERE upload_id = ? AND part_number = ?",
                [.text(p.uploadID), .int(Int64(p.partNumber))]
            ).first.map(Self.part)
            try c.query(
                """
                INSERT INTO parts(\(Self.partColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
                    blob = excluded.blob, checksum = excluded.checksum, modified_ms = excluded.modified_ms, cipher = excluded.cipher
                """,
                [
                    .text(p.uploadID), .int(Int64(p.partNumber)), .int(p.size), .text(p.etag), .text(p.blob),
                    p.checksum.map { .text($0) } ?? .null, Self.ms(p.lastModified), p.cipher.map(Self.json) ?? .null,
                ])
            try self.committed(c, [p.blob])
            if let old, old.blob != p.blob { try self.garbage(c, [old.blob]) }
            return old
        }
    }

    public func parts(uploadID: String, after: Int, limit: Int) async throws -> [PartRecord] {
        try await r { c in
            try c.query(
                "SELECT \(Self.partColumns) FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
                [.text(uploadID), .int(Int64(after)), .int(Int64(limit))]
            ).map(Self.part)
        }
    }

    public func completeUpload(uploadID: String, object: ObjectRecord, versioned: Bool, condition: WriteCondition?) async throws
        -> ObjectRecord?
    {
        try await w { c in
            guard try !c.query("SELECT 1 FROM uploads WHERE upload_id = ?", [.text(uploadID)]).isEmpty else {
                throw StoreError.notFound("upload")
            }
            let allBlobs = try c.query("SELECT blob FROM parts WHERE upload_id = ?", [.text(uploadID)]).compactMap { $0[0].text }
            let old = try self.replaceObject(c, object, versioned: versioned, condition: condition)
            try self.garbage(c, allBlobs.filter { !object.storage.blobs.contains($0) })
            try c.query("DELETE FROM parts WHERE upload_id = ?", [.text(uploadID)])
            try c.query("DELETE FROM uploads WHERE upload_id = ?", [.text(uploadID)])
            return old
        }
    }

    public func abortUpload(uploadID: String) async throws {
        try await w { c in
            guard try !c.query("SELECT 1 FROM uploads WHERE upload_id = ?", [.text(uploadID)]).isEmpty else {
                throw StoreError.notFound("upload")
            }
            let blobs = try c.query("SELECT blob FROM parts WHERE upload_id = ?", [.text(uploadID)]).compactMap { $0[0].text }
            try self.garbage(c, blobs)
            try c.query("DELETE FROM parts WHERE upload_id = ?", [.text(uploadID)])
            try c.query("DELETE FROM uploads WHERE upload_id = ?", [.text(uploadID)])
        }
    }

    public func uploads(bucketID: Int64, prefix: String, keyMarker: String, uploadIDMarker: String, limit: Int) async throws -> [UploadRecord] {
        try await r { c in
            var sql = "SELECT \(Self.uploadColumns) FROM uploads WHERE bucket_id = ? AND (key > ? OR (key = ? AND upload_id > ?))"
            var args: [SQLValue] = [.int(bucketID), .text(keyMarker), .text(keyMarker), .text(uploadIDMarker)]
            if !prefix.isEmpty {
                sql += " AND key >= ?"
                args.append(.text(prefix))
                if let end = ListAccumulator.successor(of: prefix) {
                    sql += " AND key < ?"
                    args.append(.text(end))
                }
            }
            sql += " ORDER BY key, upload_id LIMIT ?"
            args.append(.int(Int64(limit)))
            return try c.query(sql, args).map(Self.upload)
        }
    }

    public func uploads(initiatedBefore: Date, limit: Int) async throws -> [UploadRecord] {
        try await r { c in
            try c.query(
                "SELECT \(Self.uploadColumns) FROM uploads WHERE initiated_ms < ? ORDER BY initiated_ms LIMIT ?",
                [Self.ms(initiatedBefore), .int(Int64(limit))]
            ).map(Self.upload)
        }
    }

    // MARK: journal

    public func journalNewBlob(_ blob: String) async throws {
        try await w(journalEntry(blob))
    }

    public func journalNewBlobSoon(_ blob: String) -> JournalTicket {
        let ticket = JournalTicket()
        backend.writeSoon(journalEntry(blob)) { ticket.settle($0) }
        return ticket
    }

    func journalEntry(_ blob: String) -> @Sendable (any SQLSession) throws -> Void {
        let (now, node) = (Self.ms(Date()), nodeID)
        return { c in
            try c.query(
                """
                INSERT INTO blob_journal(blob, kind, created_ms, node_id) VALUES (?, 'new', ?, ?)
                ON CONFLICT(blob) DO UPDATE SET kind = 'new', node_id = excluded.node_id
                """,
                [.text(blob), now, .text(node)])
        }
    }

    public func journal(before: Date?) async throws -> [JournalEntry] {
        let cutoff = before.map(Self.ms) ?? .int(Int64.max)
        return try await r { c in
            try c.query(
                "SELECT blob, kind FROM blob_journal WHERE node_id = ? AND created_ms < ? ORDER BY created_ms", [.text(self.nodeID), cutoff]
            ).compactMap {
                guard let b = $0[0].text, let k = $0[1].text.flatMap(JournalEntry.Kind.init(rawValue:)) else { return nil }
                return JournalEntry(blob: b, kind: k)
            }
        }
    }

    public func forgetJournal(_ blobs: [String]) async throws {
        try await w { c in for b in blobs { try c.query("DELETE FROM blob_journal WHERE blob = ?", [.text(b)]) } }
    }

    /// Where the metadata lives (`sqlite PATH`, `postgres HOSTS/DB`).
    public var location: String { backend.location }

    public func counts() async throws -> (buckets: Int, objects: Int, bytes: Int64) {
        try await r { c in
            let b = try c.query("SELECT count(*) FROM buckets")[0][0].int ?? 0
            let o = try c.query("SELECT count(*), CAST(coalesce(sum(size), 0) AS BIGINT) FROM objects")[0]
            return (Int(b), Int(o[0].int ?? 0), o[1].int ?? 0)
        }
    }
}
