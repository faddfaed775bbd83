/// The metadata schema as numbered steps, the same numbers for both databases. A step is applied
/// once, in its own transaction, recorded in `schema_version`; on PostgreSQL the transaction first
/// takes an advisory lock, so two nodes starting at once never apply a step twice.
/// `docs/operations.md` lists the resulting tables and indexes.
public enum SQLSchema {
    /// The schema this build reads and writes.
    public static let current = 7

    /// `pg_advisory_xact_lock` key for schema changes ("VOSSSCHM").
    public static let lockKey: Int64 = 0x564F_5353_5343_484D

    public struct Step: Sendable {
        public var version: Int
        public var statements: [String]
    }

    public static func steps(_ d: SQLDialect) -> [Step] {
        switch d {
        case .sqlite: sqliteSteps
        case .postgres: postgresSteps
        }
    }

    /// Applies every step newer than the database. `transaction` must run its argument in one
    /// transaction and commit it. Returns the versions applied. A database newer than this build is
    /// refused rather than misread.
    @discardableResult
    public static func migrate(
        _ d: SQLDialect, transaction: (_ body: (any SQLSession) throws -> Void) throws -> Void
    ) throws -> [Int] {
        var applied: [Int] = []
        for step in steps(d) {
            try transaction { s in
                if d == .postgres { try s.query("SELECT pg_advisory_xact_lock(?)", [.int(lockKey)]) }
                try s.query("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
                let have = try s.query("SELECT max(version) FROM schema_version").first?.first?.int ?? 0
                if have > current {
                    throw StoreError.internalError(
                        "the metadata schema is version \(have), newer than this VOSS understands (\(current)): upgrade VOSS on this node")
                }
                guard have < step.version else { return }
                for sql in step.statements { try s.query(sql) }
                try s.query("INSERT INTO schema_version(version) VALUES (?)", [.int(Int64(step.version))])
                applied.append(step.version)
            }
        }
        return applied
    }

    static let sqliteSteps: [Step] = [
        Step(version: 1, statements: [
            "CREATE TABLE tenants(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL)",
            """
            CREATE TABLE users(id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
                role TEXT NOT NULL, created_ms INTEGER NOT NULL, UNIQUE(tenant_id, name))
            """,
            """
            CREATE TABLE access_keys(access_key TEXT PRIMARY KEY, secret TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users(id), created_ms INTEGER NOT NULL)
            """,
            "CREATE INDEX access_keys_user ON access_keys(user_id)",
            """
            CREATE TABLE buckets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
                owner_id TEXT NOT NULL, created_ms INTEGER NOT NULL, region TEXT NOT NULL, policy TEXT NOT NULL, tags TEXT)
            """,
            "CREATE INDEX buckets_tenant ON buckets(tenant_id, name)",
            """
            CREATE TABLE objects(bucket_id INTEGER NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
                etag TEXT NOT NULL, modified_ms INTEGER NOT NULL, headers TEXT NOT NULL, checksum TEXT,
                policy TEXT NOT NULL, tags TEXT NOT NULL, storage TEXT NOT NULL, owner_id TEXT NOT NULL,
                PRIMARY KEY(bucket_id, key)) WITHOUT ROWID
            """,
            """
            CREATE TABLE uploads(upload_id TEXT PRIMARY KEY, bucket_id INTEGER NOT NULL, key TEXT NOT NULL,
                initiated_ms INTEGER NOT NULL, headers TEXT NOT NULL, policy TEXT NOT NULL, tags TEXT NOT NULL,
                checksum_algorithm TEXT, checksum_type TEXT, owner_id TEXT NOT NULL)
            """,
            "CREATE INDEX uploads_key ON uploads(bucket_id, key, upload_id)",
            """
            CREATE TABLE parts(upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL,
                etag TEXT NOT NULL, blob TEXT NOT NULL, checksum TEXT, modified_ms INTEGER NOT NULL,
                PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID
            """,
            "CREATE TABLE blob_journal(blob TEXT PRIMARY KEY, kind TEXT NOT NULL, created_ms INTEGER NOT NULL)",
        ]),
        // 2: the listing reads the checksum algorithm without parsing JSON; the blob journal names the
        // node whose disk holds the blob (several nodes share one PostgreSQL database).
        Step(version: 2, statements: [
            "ALTER TABLE objects ADD COLUMN checksum_algorithm TEXT",
            "UPDATE objects SET checksum_algorithm = json_extract(checksum, '$.algorithm') WHERE checksum IS NOT NULL",
            "ALTER TABLE blob_journal ADD COLUMN node_id TEXT NOT NULL DEFAULT ''",
            """
            CREATE TABLE migration_tasks(id TEXT PRIMARY KEY, node_id TEXT NOT NULL, status TEXT NOT NULL,
                started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, state TEXT NOT NULL)
            """,
        ]),
        // 3: storage platforms (docs/decisions.md 37): the platform a bucket's new objects go to, the
        // platform's own multipart upload behind a VOSS upload, the upstream account made per tenant.
        Step(version: 3, statements: [
            "ALTER TABLE buckets ADD COLUMN platform TEXT NOT NULL DEFAULT 'local'",
            "ALTER TABLE uploads ADD COLUMN platform_upload TEXT",
            """
            CREATE TABLE platform_accounts(platform TEXT NOT NULL, tenant_id TEXT NOT NULL, access_key TEXT NOT NULL,
                secret TEXT NOT NULL, bucket TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY(platform, tenant_id))
            """,
            // A bucket being moved to another platform (`ose migration bucket`); `state` is its JSON.
            """
            CREATE TABLE platform_moves(bucket TEXT PRIMARY KEY, node_id TEXT NOT NULL, status TEXT NOT NULL,
                updated_ms INTEGER NOT NULL, state TEXT NOT NULL)
            """,
        ]),
        // 4: versioning, object lock and the rest of S3's bucket configuration (docs/decisions.md 40). The current
        // version of a key stays in `objects` (listings and reads are unchanged); older versions and
        // delete markers are in `object_versions`, ordered per key by `seq` (higher = newer).
        Step(version: 4, statements: [
            "ALTER TABLE buckets ADD COLUMN settings TEXT",
            "ALTER TABLE objects ADD COLUMN version_id TEXT",
            "ALTER TABLE objects ADD COLUMN upload_id TEXT",
            "ALTER TABLE objects ADD COLUMN lock TEXT",
            "ALTER TABLE uploads ADD COLUMN lock TEXT",
            """
            CREATE TABLE object_versions(bucket_id INTEGER NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL,
                seq INTEGER NOT NULL, delete_marker INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                modified_ms INTEGER NOT NULL, headers TEXT NOT NULL, checksum TEXT, checksum_algorithm TEXT,
                policy TEXT NOT NULL, tags TEXT NOT NULL, storage TEXT NOT NULL, owner_id TEXT NOT NULL, upload_id TEXT,
                lock TEXT, PRIMARY KEY(bucket_id, key, version_id)) WITHOUT ROWID
            """,
            "CREATE INDEX object_versions_seq ON object_versions(bucket_id, key, seq)",
            // Work one node of a cluster does at a time (the lifecycle runner): who holds it until when.
            "CREATE TABLE leases(name TEXT PRIMARY KEY, node_id TEXT NOT NULL, until_ms INTEGER NOT NULL)",
        ]),
        // 5: server-side encryption (docs/decisions.md 42): an upload's data key, a part's counter block,
        // and SSE-S3's key-encryption keys (sealed by the master key, which is not in the database).
        Step(version: 5, statements: [
            "ALTER TABLE uploads ADD COLUMN encryption TEXT",
            "ALTER TABLE parts ADD COLUMN cipher TEXT",
            "CREATE TABLE sse_keys(id TEXT PRIMARY KEY, wrapped TEXT NOT NULL, created_ms INTEGER NOT NULL)",
        ]),
        // 6: logins to the REST API and the portal: a user's password hash (scrypt, docs/decisions.md 44)
        // and the sessions it opened (only a SHA-256 of each token is kept).
        Step(version: 6, statements: [
            "CREATE TABLE user_passwords(user_id TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_ms INTEGER NOT NULL)",
            "CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)",
            "CREATE INDEX sessions_user ON sessions(user_id)",
            "CREATE TABLE tenant_quotas(tenant_id TEXT PRIMARY KEY, bytes INTEGER NOT NULL)",
        ]),
        // 7: small objects' bytes in the database, written with their row (docs/decisions.md 50).
        Step(version: 7, statements: [
            "CREATE TABLE inline_blobs(blob TEXT PRIMARY KEY, data BLOB NOT NULL)",
        ]),
    ]

    /// Keys and names are `COLLATE "C"`: S3 lists in byte order, whatever the database's locale.
    static let postgresSteps: [Step] = [
        Step(version: 1, statements: [
            "CREATE TABLE tenants(id TEXT PRIMARY KEY, name TEXT COLLATE \"C\" NOT NULL UNIQUE, created_ms BIGINT NOT NULL)",
            """
            CREATE TABLE users(id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                name TEXT COLLATE "C" NOT NULL, role TEXT NOT NULL, created_ms BIGINT NOT NULL, UNIQUE(tenant_id, name))
            """,
            """
            CREATE TABLE access_keys(access_key TEXT PRIMARY KEY, secret TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users(id), created_ms BIGINT NOT NULL)
            """,
            "CREATE INDEX access_keys_user ON access_keys(user_id)",
            """
            CREATE TABLE buckets(id BIGSERIAL PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
                owner_id TEXT NOT NULL, created_ms BIGINT NOT NULL, region TEXT NOT NULL, policy TEXT NOT NULL, tags TEXT)
            """,
            "CREATE INDEX buckets_tenant ON buckets(tenant_id, name)",
            """
            CREATE TABLE objects(bucket_id BIGINT NOT NULL, key TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL,
                etag TEXT NOT NULL, modified_ms BIGINT NOT NULL, headers TEXT NOT NULL, checksum TEXT,
                policy TEXT NOT NULL, tags TEXT NOT NULL, storage TEXT NOT NULL, owner_id TEXT NOT NULL,
                PRIMARY KEY(bucket_id, key))
            """,
            """
            CREATE TABLE uploads(upload_id TEXT COLLATE "C" PRIMARY KEY, bucket_id BIGINT NOT NULL,
                key TEXT COLLATE "C" NOT NULL, initiated_ms BIGINT NOT NULL, headers TEXT NOT NULL, policy TEXT NOT NULL,
                tags TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT, owner_id TEXT NOT NULL)
            """,
            "CREATE INDEX uploads_key ON uploads(bucket_id, key, upload_id)",
            """
            CREATE TABLE parts(upload_id TEXT NOT NULL, part_number BIGINT NOT NULL, size BIGINT NOT NULL,
                etag TEXT NOT NULL, blob TEXT NOT NULL, checksum TEXT, modified_ms BIGINT NOT NULL,
                PRIMARY KEY(upload_id, part_number))
            """,
            "CREATE TABLE blob_journal(blob TEXT PRIMARY KEY, kind TEXT NOT NULL, created_ms BIGINT NOT NULL)",
        ]),
        Step(version: 2, statements: [
            "ALTER TABLE objects ADD COLUMN checksum_algorithm TEXT",
            "UPDATE objects SET checksum_algorithm = checksum::json->>'algorithm' WHERE checksum IS NOT NULL",
            "ALTER TABLE blob_journal ADD COLUMN node_id TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX blob_journal_node ON blob_journal(node_id, created_ms)",
            // `ose migration`: one row per task; `state` is the task's JSON (phases, cursors, counts).
            """
            CREATE TABLE migration_tasks(id TEXT PRIMARY KEY, node_id TEXT NOT NULL, status TEXT NOT NULL,
                started_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, state TEXT NOT NULL)
            """,
        ]),
        Step(version: 3, statements: [
            "ALTER TABLE buckets ADD COLUMN platform TEXT NOT NULL DEFAULT 'local'",
            "ALTER TABLE uploads ADD COLUMN platform_upload TEXT",
            """
            CREATE TABLE platform_accounts(platform TEXT NOT NULL, tenant_id TEXT NOT NULL, access_key TEXT NOT NULL,
                secret TEXT NOT NULL, bucket TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY(platform, tenant_id))
            """,
            // A bucket being moved to another platform (`ose migration bucket`); `state` is its JSON.
            """
            CREATE TABLE platform_moves(bucket TEXT PRIMARY KEY, node_id TEXT NOT NULL, status TEXT NOT NULL,
                updated_ms BIGINT NOT NULL, state TEXT NOT NULL)
            """,
        ]),
        Step(version: 4, statements: [
            "ALTER TABLE buckets ADD COLUMN settings TEXT",
            "ALTER TABLE objects ADD COLUMN version_id TEXT",
            "ALTER TABLE objects ADD COLUMN upload_id TEXT",
            "ALTER TABLE objects ADD COLUMN lock TEXT",
            "ALTER TABLE uploads ADD COLUMN lock TEXT",
            """
            CREATE TABLE object_versions(bucket_id BIGINT NOT NULL, key TEXT COLLATE "C" NOT NULL,
                version_id TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, delete_marker BIGINT NOT NULL, size BIGINT NOT NULL,
                etag TEXT NOT NULL, modified_ms BIGINT NOT NULL, headers TEXT NOT NULL, checksum TEXT, checksum_algorithm TEXT,
                policy TEXT NOT NULL, tags TEXT NOT NULL, storage TEXT NOT NULL, owner_id TEXT NOT NULL, upload_id TEXT,
                lock TEXT, PRIMARY KEY(bucket_id, key, version_id))
            """,
            "CREATE INDEX object_versions_seq ON object_versions(bucket_id, key, seq)",
            "CREATE TABLE leases(name TEXT PRIMARY KEY, node_id TEXT NOT NULL, until_ms BIGINT NOT NULL)",
        ]),
        Step(version: 5, statements: [
            "ALTER TABLE uploads ADD COLUMN encryption TEXT",
            "ALTER TABLE parts ADD COLUMN cipher TEXT",
            "CREATE TABLE sse_keys(id TEXT PRIMARY KEY, wrapped TEXT NOT NULL, created_ms BIGINT NOT NULL)",
        ]),
        Step(version: 6, statements: [
            "CREATE TABLE user_passwords(user_id TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_ms BIGINT NOT NULL)",
            "CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL)",
            "CREATE INDEX sessions_user ON sessions(user_id)",
            "CREATE TABLE tenant_quotas(tenant_id TEXT PRIMARY KEY, bytes BIGINT NOT NULL)",
        ]),
        Step(version: 7, statements: [
            "CREATE TABLE inline_blobs(blob TEXT PRIMARY KEY, data BYTEA NOT NULL)",
        ]),
    ]
}
