import Foundation
import Testing
import VossS3Store
import VossSQLite

/// The migration engine between two real SQLite databases in a temporary directory (the keeper runs
/// the same code from SQLite into PostgreSQL; the end-to-end test covers that pair).
@Suite struct StoreMigrationTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "voss-migration-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func db(_ name: String) throws -> SQLiteBackend { try SQLiteBackend(path: "\(dir)/\(name).sqlite") }

    /// Two tenants, a user and key each, `buckets` buckets with `objects` objects each, one upload
    /// with two parts, one journal entry.
    func populate(_ b: SQLiteBackend, buckets: Int = 3, objects: Int = 250, tenantPrefix: String = "t") async throws {
        try await b.write { s in
            for t in 0..<2 {
                try s.query("INSERT INTO tenants VALUES (?, ?, 1)", [.text("\(tenantPrefix)id\(t)"), .text("\(tenantPrefix)\(t)")])
                try s.query(
                    "INSERT INTO users VALUES (?, ?, ?, 'tenant-admin', 2)",
                    [.text("\(tenantPrefix)u\(t)"), .text("\(tenantPrefix)id\(t)"), .text("alice")])
                try s.query("INSERT INTO access_keys VALUES (?, 'sealed', ?, 3)", [.text("\(tenantPrefix)AK\(t)"), .text("\(tenantPrefix)u\(t)")])
            }
            for i in 0..<buckets {
                try s.query(
                    "INSERT INTO buckets(name, tenant_id, owner_id, created_ms, region, policy, tags) VALUES (?, ?, ?, 4, 'us-east-1', 'private', NULL)",
                    [.text("\(tenantPrefix)bucket\(i)"), .text("\(tenantPrefix)id\(i % 2)"), .text("\(tenantPrefix)u\(i % 2)")])
                let id = try s.query("SELECT id FROM buckets WHERE name = ?", [.text("\(tenantPrefix)bucket\(i)")])[0][0]
                for o in 0..<objects {
                    try s.query(
                        """
                        INSERT INTO objects(bucket_id, key, size, etag, modified_ms, headers, checksum, checksum_algorithm,
                            policy, tags, storage, owner_id) VALUES (?, ?, ?, ?, 5, '{}', NULL, NULL, 'private', '{}', ?, ?)
                        """,
                        [id, .text("dir/ключ-\(o)"), .int(Int64(o)), .text("etag\(o)"), .text("blob-\(i)-\(o)"), .text("\(tenantPrefix)u\(i % 2)")])
                }
                if i == 0 {
                    // Two older versions and a delete marker of one key (three-column primary key).
                    for (v, seq, marker) in [("v1", 1, 0), ("v2", 2, 0), ("m3", 3, 1)] {
                        try s.query(
                            """
                            INSERT INTO object_versions(bucket_id, key, version_id, seq, delete_marker, size, etag, modified_ms, headers,
                                policy, tags, storage, owner_id) VALUES (?, 'versioned', ?, ?, ?, 1, 'e', 9, '{}', 'private', '{}', '{}', ?)
                            """,
                            [id, .text(v), .int(Int64(seq)), .int(Int64(marker)), .text("\(tenantPrefix)u0")])
                    }
                    try s.query(
                        "INSERT INTO uploads VALUES (?, ?, 'big', 6, '{}', 'private', '{}', NULL, NULL, ?, NULL, NULL, NULL)",
                        [.text("\(tenantPrefix)up1"), id, .text("\(tenantPrefix)u0")])
                    for p in 1...2 {
                        try s.query(
                            "INSERT INTO parts VALUES (?, ?, 10, 'e', ?, NULL, 7, NULL)",
                            [.text("\(tenantPrefix)up1"), .int(Int64(p)), .text("\(tenantPrefix)part\(p)")])
                    }
                }
            }
            try s.query("INSERT INTO blob_journal(blob, kind, created_ms) VALUES ('stale', 'garbage', 8)")
            // An SSE-S3 key (sealed by the master key; copied as it is, like access-key secrets).
            try s.query("INSERT INTO sse_keys VALUES (?, 'sealed-kek', 9)", [.text("\(tenantPrefix)kek1")])
            // Small objects' bytes (decision 50): every byte value, and an empty one.
            try s.query("INSERT INTO inline_blobs VALUES (?, ?)", [.text("local.db::\(tenantPrefix)1"), .blob((0...255).map { UInt8($0) })])
            try s.query("INSERT INTO inline_blobs VALUES (?, ?)", [.text("local.db::\(tenantPrefix)2"), .blob([])])
        }
    }

    func count(_ b: SQLiteBackend, _ sql: String, _ args: [SQLValue] = []) async throws -> Int64 {
        try await b.read { s in try s.query(sql, args)[0][0].int ?? -1 }
    }

    /// A new schema step that forgets to raise `Schema.current` would make the next start refuse the
    /// database it just upgraded.
    @Test func currentIsTheLastStepOfBothDialects() {
        #expect(SQLSchema.steps(.sqlite).last?.version == SQLSchema.current)
        #expect(SQLSchema.steps(.postgres).last?.version == SQLSchema.current)
        #expect(SQLSchema.steps(.sqlite).map(\.version) == SQLSchema.steps(.postgres).map(\.version))
    }

    @Test func copiesEverything_renumberingBuckets_andVerifies() async throws {
        let source = try db("source")
        let target = try db("target")
        try await populate(source)
        // The target already has a bucket, so the migrated ones get other ids.
        try await populate(target, buckets: 1, objects: 3, tenantPrefix: "x")
        let m = StoreMigration(source: source, target: target, nodeID: "node-a", batch: 64)
        let task = try await m.create(id: "task-1")
        #expect(task.total["objects"] == 750 && task.progress == 0)
        let progress = Progress()
        let done = try await m.run(task) { progress.add($0.progress) }
        #expect(done.status == .completed, "\(done.error ?? "")")
        #expect(done.progress == 100 && done.differences.isEmpty && done.passes == 1)
        #expect(progress.values == progress.values.sorted() && progress.values.count > 10)
        #expect(done.copied["objects"] == 750 && done.copied["parts"] == 2 && done.copied["object_versions"] == 3)
        #expect(done.copied["sse_keys"] == 1 && done.copied["inline_blobs"] == 2)
        let bytes = try await target.read { s in try s.query("SELECT data FROM inline_blobs WHERE blob = 'local.db::t1'") }
        #expect(bytes.first?.first == .blob((0...255).map { UInt8($0) }))
        #expect(try await count(target, "SELECT length(data) FROM inline_blobs WHERE blob = 'local.db::t2'") == 0)
        #expect(try await count(target, "SELECT count(*) FROM sse_keys WHERE id = 'tkek1'") == 1)
        #expect(try await count(target, "SELECT count(*) FROM objects") == 753)
        // Versions follow their bucket too (the target's own bucket has three as well).
        let b0 = try await count(target, "SELECT id FROM buckets WHERE name = 'tbucket0'")
        #expect(try await count(target, "SELECT count(*) FROM object_versions WHERE bucket_id = ? AND delete_marker = 1", [.int(b0)]) == 1)
        #expect(try await count(target, "SELECT count(*) FROM object_versions") == 6)
        #expect(try await count(target, "SELECT count(*) FROM buckets") == 4)
        // Objects follow their bucket by name, not by the old number.
        let b1 = try await count(target, "SELECT id FROM buckets WHERE name = 'tbucket1'")
        #expect(b1 != 2)
        #expect(try await count(target, "SELECT count(*) FROM objects WHERE bucket_id = ?", [.int(b1)]) == 250)
        #expect(try await count(target, "SELECT count(*) FROM blob_journal WHERE node_id = 'node-a'") == 1)
        #expect(try await m.load()?.status == .completed)
    }

    @Test func resumesAfterACrash_withoutDuplicates() async throws {
        let source = try db("source")
        let target = try db("target")
        try await populate(source)
        // The first run dies after 5 target transactions, as if the keeper were killed.
        let crashing = CrashingBackend(target, after: 5)
        let first = StoreMigration(source: source, target: crashing, nodeID: "n", batch: 50)
        await #expect(throws: CrashingBackend.Crash.self) { _ = try await first.run(try await first.create(id: "t1")) }
        let again = StoreMigration(source: source, target: target, nodeID: "n", batch: 50)
        let saved = try #require(try await again.load())
        #expect(saved.status == .running && saved.copied.values.reduce(0, +) > 0)
        let done = try await again.run(saved)
        #expect(done.status == .completed, "\(done.error ?? "")")
        #expect(try await count(target, "SELECT count(*) FROM objects") == 750)
        #expect(try await count(target, "SELECT count(*) FROM tenants") == 2)
        #expect(try await count(target, "SELECT count(*) FROM access_keys") == 2)
    }

    @Test func repairsWhatChangedAndReportsIt() async throws {
        let source = try db("source")
        let target = try db("target")
        try await populate(source, buckets: 1, objects: 10)
        let m = StoreMigration(source: source, target: target, nodeID: "n")
        #expect(try await m.run(try await m.create(id: "t1")).status == .completed)
        // Meanwhile: an object was deleted on the node and one was changed in the target.
        try await source.write { s in try s.query("DELETE FROM objects WHERE key = 'dir/ключ-3'") }
        try await target.write { s in try s.query("UPDATE objects SET policy = 'public-read' WHERE key = 'dir/ключ-4'") }
        let done = try await m.run(try await m.create(id: "t2"))
        #expect(done.status == .completed && done.passes == 2)
        #expect(done.differences.sorted() == ["+ tbucket0/dir/ключ-3"])
        #expect(try await count(target, "SELECT count(*) FROM objects") == 9)
        #expect(try await count(target, "SELECT count(*) FROM objects WHERE policy = 'public-read'") == 0)
    }

    @Test func aBucketNameOwnedByAnotherTenantFailsTheTask() async throws {
        let source = try db("source")
        let target = try db("target")
        try await populate(source, buckets: 1, objects: 1)
        try await target.write { s in
            try s.query("INSERT INTO tenants VALUES ('other', 'other', 1)")
            try s.query(
                "INSERT INTO buckets(name, tenant_id, owner_id, created_ms, region, policy, tags) VALUES ('tbucket0', 'other', 'x', 1, 'r', 'private', NULL)")
        }
        let m = StoreMigration(source: source, target: target, nodeID: "n")
        let done = try await m.run(try await m.create(id: "t1"))
        #expect(done.status == .failed)
        #expect(done.error?.contains("tbucket0") == true)
        #expect(done.phase(.type) == "success" && done.phase(.path) == "failed" && done.phase(.permission) == "pending")
        #expect(try await count(target, "SELECT count(*) FROM objects") == 0)
    }
}

final class Progress: @unchecked Sendable {
    let lock = NSLock()
    var values: [Int] = []
    func add(_ v: Int) { lock.withLock { values.append(v) } }
}

/// A real SQLite backend whose writes stop (as the process would) after `after` transactions.
final class CrashingBackend: SQLBackend, @unchecked Sendable {
    struct Crash: Error {}
    let base: SQLiteBackend
    let lock = NSLock()
    var left: Int

    init(_ base: SQLiteBackend, after: Int) {
        self.base = base
        left = after
    }

    var dialect: SQLDialect { base.dialect }
    var location: String { base.location }

    func write<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        let go = lock.withLock {
            left -= 1
            return left >= 0
        }
        guard go else { throw Crash() }
        return try await base.write(work)
    }

    func read<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T { try await base.read(work) }
    func shutdown() async {}
}

@Suite struct PlaceholderTests {
    @Test func numbersQuestionMarksOutsideLiterals() {
        #expect(SQLDialect.numberedPlaceholders("SELECT a FROM t WHERE b = ? AND c > ?") == "SELECT a FROM t WHERE b = $1 AND c > $2")
        #expect(SQLDialect.numberedPlaceholders("SELECT '?', \"a?\" FROM t WHERE x = ? -- why?\nAND y = ?") == "SELECT '?', \"a?\" FROM t WHERE x = $1 -- why?\nAND y = $2")
        #expect(SQLDialect.numberedPlaceholders("SELECT 'it''s ?' WHERE z = ?") == "SELECT 'it''s ?' WHERE z = $1")
    }
}
