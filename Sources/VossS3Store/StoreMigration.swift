#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The state of an `ose migration` task, kept as JSON in the target's `migration_tasks` row and
/// updated in the same transaction as each batch it copies: a crash loses nothing and resumes where
/// the last committed batch ended.
public struct MigrationState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case running = "RUNNING", completed = "COMPLETED", failed = "FAILED" }

    public var id: String
    public var nodeID: String
    public var status: Status
    public var startedMs: Int64
    public var endedMs: Int64?
    /// Index into `StoreMigration.tables` of the table being copied; `tables.count` = verifying.
    public var table: Int = 0
    /// The primary key of the last row copied of `table`.
    public var cursor: [SQLValue]?
    public var copied: [String: Int64] = [:]
    public var total: [String: Int64] = [:]
    /// Rows checked by the verification, and what it found different (`- name`: missing or
    /// different in the target, `+ name`: only in the target).
    public var verified: Int64 = 0
    public var differences: [String] = []
    /// How many verification passes ran (a pass that repaired something is followed by another).
    public var passes: Int = 0
    public var error: String?

    public init(id: String, nodeID: String, startedMs: Int64) {
        self.id = id
        self.nodeID = nodeID
        self.status = .running
        self.startedMs = startedMs
    }

    /// 0…100: copying is 90 %, verifying the rest.
    public var progress: Int {
        if status == .completed { return 100 }
        let all = max(1, total.values.reduce(0, +))
        let done = copied.values.reduce(0, +)
        let copy = Double(min(done, all)) / Double(all)
        let verify = Double(min(verified, all)) / Double(all)
        return min(99, Int(copy * 90 + verify * 10))
    }

    /// `pending`, `running`, `success` or `failed` for the phases `ose migration show` prints.
    public func phase(_ which: StoreMigration.Phase) -> String {
        let range = StoreMigration.range(of: which)
        let failed = status == .failed
        if which == .permission {
            if status == .completed { return "success" }
            if table < StoreMigration.tables.count { return "pending" }
            return failed ? "failed" : "running"
        }
        if table >= range.upperBound { return "success" }
        if table < range.lowerBound { return "pending" }
        return failed ? "failed" : "running"
    }
}

extension SQLValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else {
            self = .text(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .int(let i): try c.encode(i)
        case .text(let s): try c.encode(s)
        case .blob(let b): try c.encode(b.map { String($0, radix: 16) }.joined())
        }
    }
}

/// Moves a node's metadata from one database into another (the embedded SQLite store into
/// PostgreSQL, `ose migration start`): tenants, users and keys ("type"), buckets, objects, uploads
/// and parts ("path"), then a verification of every row ("permission": policies and tags are
/// compared with everything else).
///
/// Copying is by primary-key cursor in batches, each batch one target transaction with the task's
/// state, and every write an upsert: running a batch twice changes nothing, so resuming after a
/// crash cannot duplicate. Tenants, users and buckets that already exist in the target under the same
/// name (another node migrated first) are reused and the rows that refer to them renumbered; a bucket
/// name owned by another tenant there fails the task rather than merging two tenants' data.
///
/// Writes must be stopped on the node (maintenance mode) while this runs. The verification repairs
/// what changed anyway (a write that was in flight when maintenance began) and checks again.
public final class StoreMigration: Sendable {
    public enum Phase: Sendable { case type, path, permission }

    struct Table: Sendable {
        var name: String
        var columns: [String]
        var key: [String]
    }

    static let tables: [Table] = [
        Table(name: "tenants", columns: ["id", "name", "created_ms"], key: ["id"]),
        Table(name: "users", columns: ["id", "tenant_id", "name", "role", "created_ms"], key: ["id"]),
        Table(name: "access_keys", columns: ["access_key", "secret", "user_id", "created_ms"], key: ["access_key"]),
        // Sessions are not copied: logins to the REST API start again after a migration.
        Table(name: "user_passwords", columns: ["user_id", "hash", "updated_ms"], key: ["user_id"]),
        Table(name: "tenant_quotas", columns: ["tenant_id", "bytes"], key: ["tenant_id"]),
        Table(
            name: "buckets",
            columns: ["id", "name", "tenant_id", "owner_id", "created_ms", "region", "policy", "tags", "platform", "settings"],
            key: ["id"]),
        Table(
            name: "objects",
            columns: [
                "bucket_id", "key", "size", "etag", "modified_ms", "headers", "checksum", "checksum_algorithm", "policy", "tags",
                "storage", "owner_id", "version_id", "upload_id", "lock",
            ],
            key: ["bucket_id", "key"]),
        Table(
            name: "object_versions",
            columns: [
                "bucket_id", "key", "version_id", "seq", "delete_marker", "size", "etag", "modified_ms", "headers", "checksum",
                "checksum_algorithm", "policy", "tags", "storage", "owner_id", "upload_id", "lock",
            ],
            key: ["bucket_id", "key", "version_id"]),
        Table(
            name: "uploads",
            columns: [
                "upload_id", "bucket_id", "key", "initiated_ms", "headers", "policy", "tags", "checksum_algorithm", "checksum_type",
                "owner_id", "platform_upload", "lock", "encryption",
            ],
            key: ["upload_id"]),
        Table(
            name: "parts", columns: ["upload_id", "part_number", "size", "etag", "blob", "checksum", "modified_ms", "cipher"],
            key: ["upload_id", "part_number"]),
        Table(name: "blob_journal", columns: ["blob", "kind", "created_ms", "node_id"], key: ["blob"]),
        Table(
            name: "platform_accounts", columns: ["platform", "tenant_id", "access_key", "secret", "bucket", "created_ms"],
            key: ["platform", "tenant_id"]),
        Table(name: "sse_keys", columns: ["id", "wrapped", "created_ms"], key: ["id"]),
        // Small objects' bytes (docs/decisions.md 50): data, not just metadata.
        Table(name: "inline_blobs", columns: ["blob", "data"], key: ["blob"]),
    ]

    static func range(of phase: Phase) -> Range<Int> {
        switch phase {
        case .type: 0..<5
        case .path: 5..<tables.count
        case .permission: tables.count..<(tables.count + 1)
        }
    }

    let source: any SQLBackend
    let target: any SQLBackend
    let nodeID: String
    let batch: Int
    let now: @Sendable () -> Int64

    public init(
        source: any SQLBackend, target: any SQLBackend, nodeID: String, batch: Int = 500,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.source = source
        self.target = target
        self.nodeID = nodeID
        self.batch = batch
        self.now = now
    }

    // MARK: tasks

    /// The node's task in the target, if any.
    public func load() async throws -> MigrationState? {
        let node = nodeID
        return try await target.read { s in
            guard let json = try s.query("SELECT state FROM migration_tasks WHERE node_id = ?", [.text(node)]).first?.first?.text else {
                return nil
            }
            return try JSONDecoder().decode(MigrationState.self, from: Data(json.utf8))
        }
    }

    /// Creates a new task (replacing the node's previous one), counting what there is to copy.
    public func create(id: String) async throws -> MigrationState {
        var st = MigrationState(id: id, nodeID: nodeID, startedMs: now())
        let counts = try await source.read { s in
            try Self.tables.map { t in (t.name, try s.query("SELECT CAST(count(*) AS BIGINT) FROM \(t.name)").first?.first?.int ?? 0) }
        }
        for (t, n) in counts { st.total[t] = n }
        let state = st
        try await target.write { s in
            try s.query("DELETE FROM migration_tasks WHERE node_id = ?", [.text(state.nodeID)])
            try Self.save(state, s, now: state.startedMs, insert: true)
        }
        return st
    }

    static func save(_ st: MigrationState, _ s: any SQLSession, now: Int64, insert: Bool = false) throws {
        let json = String(decoding: try JSONEncoder().encode(st), as: UTF8.self)
        if insert {
            try s.query(
                "INSERT INTO migration_tasks(id, node_id, status, started_ms, updated_ms, state) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(st.id), .text(st.nodeID), .text(st.status.rawValue), .int(st.startedMs), .int(now), .text(json)])
        } else {
            try s.query(
                "UPDATE migration_tasks SET status = ?, updated_ms = ?, state = ? WHERE id = ?",
                [.text(st.status.rawValue), .int(now), .text(json), .text(st.id)])
        }
    }

    /// Runs (or resumes) `state` to the end: COMPLETED, or FAILED with the reason. `progress` sees
    /// the state after every batch. Errors reaching the target (it went away) are thrown with the
    /// state left RUNNING, so the task can be resumed.
    /// `stop` is asked between batches; when it says yes the run ends by throwing `CancellationError`
    /// (the task stays RUNNING in the target, to be replaced or resumed).
    public func run(
        _ state: MigrationState, progress: @Sendable (MigrationState) -> Void = { _ in }, stop: @Sendable () -> Bool = { false }
    ) async throws -> MigrationState {
        var st = state
        guard st.status == .running else { return st }
        do {
            var maps = try await Maps.build(source: source, target: target)
            while st.table < Self.tables.count {
                if stop() { throw CancellationError() }
                let done = try await copyBatch(&st, &maps)
                progress(st)
                if done {
                    st.table += 1
                    st.cursor = nil
                    let snapshot = st
                    try await target.write { s in try Self.save(snapshot, s, now: snapshot.startedMs) }
                }
            }
            // Verify; a pass that found (and repaired) differences is followed by one that must find none.
            while true {
                st.passes += 1
                st.verified = 0
                let found = try await verify(&st, progress: progress, stop: stop)
                if found.isEmpty {
                    st.status = .completed
                    break
                }
                // Kept after a successful repair too: the operator sees what was fixed.
                st.differences = Array((st.differences + found).prefix(200))
                if st.passes >= 2 {
                    st.status = .failed
                    st.error = "\(found.count) rows still differ after repairing them"
                    break
                }
            }
        } catch let f as MigrationFailure {
            st.status = .failed
            st.error = f.reason
        }
        st.endedMs = now()
        let final = st
        try await target.write { s in try Self.save(final, s, now: final.endedMs ?? final.startedMs) }
        progress(st)
        return st
    }

    struct MigrationFailure: SQLPassThroughError { var reason: String }

    // MARK: identity maps

    /// Source id → target id for tenants, users and buckets that the target knows under the same name.
    struct Maps: Sendable {
        var tenants: [String: String] = [:]
        var users: [String: String] = [:]
        var buckets: [Int64: Int64] = [:]

        static func build(source: any SQLBackend, target: any SQLBackend) async throws -> Maps {
            let src = try await source.read { s in
                (
                    try s.query("SELECT id, name FROM tenants"),
                    try s.query("SELECT u.id, t.name, u.name FROM users u JOIN tenants t ON t.id = u.tenant_id"),
                    try s.query("SELECT id, name FROM buckets")
                )
            }
            let dst = try await target.read { s in
                (
                    try s.query("SELECT id, name FROM tenants"),
                    try s.query("SELECT u.id, t.name, u.name FROM users u JOIN tenants t ON t.id = u.tenant_id"),
                    try s.query("SELECT id, name FROM buckets")
                )
            }
            var m = Maps()
            var tenantByName: [String: String] = [:]
            for r in dst.0 { tenantByName[r[1].text ?? ""] = r[0].text }
            for r in src.0 { if let id = r[0].text, let t = tenantByName[r[1].text ?? ""] { m.tenants[id] = t } }
            var userByName: [String: String] = [:]
            for r in dst.1 { userByName[(r[1].text ?? "") + "\u{0}" + (r[2].text ?? "")] = r[0].text }
            for r in src.1 {
                if let id = r[0].text, let u = userByName[(r[1].text ?? "") + "\u{0}" + (r[2].text ?? "")] { m.users[id] = u }
            }
            var bucketByName: [String: Int64] = [:]
            for r in dst.2 { bucketByName[r[1].text ?? ""] = r[0].int }
            for r in src.2 { if let id = r[0].int, let b = bucketByName[r[1].text ?? ""] { m.buckets[id] = b } }
            return m
        }

        func tenant(_ v: SQLValue) -> SQLValue { v.text.flatMap { tenants[$0] }.map(SQLValue.text) ?? v }
        func user(_ v: SQLValue) -> SQLValue { v.text.flatMap { users[$0] }.map(SQLValue.text) ?? v }
        func bucket(_ v: SQLValue) -> SQLValue { v.int.flatMap { buckets[$0] }.map(SQLValue.int) ?? v }
    }

    /// A source row as it must look in the target.
    func mapped(_ table: String, _ row: [SQLValue], _ m: Maps) -> [SQLValue] {
        var r = row
        switch table {
        case "users": r[1] = m.tenant(r[1])
        case "access_keys": r[2] = m.user(r[2])
        case "user_passwords": r[0] = m.user(r[0])
        case "tenant_quotas": r[0] = m.tenant(r[0])
        case "buckets":
            r[0] = m.bucket(r[0])
            r[2] = m.tenant(r[2])
            r[3] = m.user(r[3])
        case "objects":
            r[0] = m.bucket(r[0])
            r[11] = m.user(r[11])
        case "object_versions":
            r[0] = m.bucket(r[0])
            r[14] = m.user(r[14])
        case "uploads":
            r[1] = m.bucket(r[1])
            r[9] = m.user(r[9])
        case "blob_journal": r[3] = .text(nodeID)
        case "platform_accounts": r[1] = m.tenant(r[1])
        default: break
        }
        return r
    }

    // MARK: copying

    /// `WHERE (k1, k2, …) > (?, ?, …)` spelled so both databases use the primary key index:
    /// `k1 > ? OR (k1 = ? AND (k2 > ? OR (k2 = ? AND …)))`.
    static func after(_ key: [String]) -> String {
        guard let first = key.first else { return "1 = 0" }
        if key.count == 1 { return "\(first) > ?" }
        return "(\(first) > ? OR (\(first) = ? AND \(after(Array(key.dropFirst())))))"
    }

    /// The arguments of `after` for the cursor `c`.
    static func afterArgs(_ c: [SQLValue]) -> [SQLValue] {
        guard let first = c.first else { return [] }
        if c.count == 1 { return [first] }
        return [first, first] + afterArgs(Array(c.dropFirst()))
    }

    func sourceBatch(_ t: Table, after cursor: [SQLValue]?, limit: Int) async throws -> [[SQLValue]] {
        let cols = t.columns.joined(separator: ", ")
        let order = t.key.joined(separator: ", ")
        let batch = limit
        return try await source.read { s in
            if let c = cursor {
                return try s.query(
                    "SELECT \(cols) FROM \(t.name) WHERE \(Self.after(t.key)) ORDER BY \(order) LIMIT ?",
                    Self.afterArgs(c) + [.int(Int64(batch))])
            }
            return try s.query("SELECT \(cols) FROM \(t.name) ORDER BY \(order) LIMIT ?", [.int(Int64(batch))])
        }
    }

    /// Copies the next batch of the current table; true when the table is done.
    func copyBatch(_ st: inout MigrationState, _ maps: inout Maps) async throws -> Bool {
        let t = Self.tables[st.table]
        let rows = try await sourceBatch(t, after: st.cursor, limit: batch)
        if rows.isEmpty { return true }
        let keyIndexes = t.key.map { t.columns.firstIndex(of: $0)! }
        if let b = ["objects": 0, "object_versions": 0, "uploads": 1][t.name], let orphan = rows.first(where: { maps.buckets[$0[b].int ?? -1] == nil }) {
            throw MigrationFailure(reason: "\(t.name) row \(orphan[b == 0 ? 1 : 0]) refers to bucket id \(orphan[b]), which does not exist")
        }
        var next = st
        next.cursor = keyIndexes.map { rows.last![$0] }
        next.copied[t.name, default: 0] += Int64(rows.count)
        let m = maps
        let snapshot = next
        let created = try await target.write { [self] s -> [Int64: Int64] in
            let created = try upsert(t, rows, m, s)
            try Self.save(snapshot, s, now: now())
            return created
        }
        // New ids are remembered only once their transaction committed.
        for (k, v) in created { maps.buckets[k] = v }
        if t.name == "tenants" || t.name == "users" { maps = try await Maps.build(source: source, target: target) }
        st = next
        return rows.count < batch
    }

    /// Writes `rows` (source form) into the target; returns the ids of buckets it created.
    func upsert(_ t: Table, _ rows: [[SQLValue]], _ m: Maps, _ s: any SQLSession) throws -> [Int64: Int64] {
        var created: [Int64: Int64] = [:]
        switch t.name {
        case "tenants":
            for r in rows where m.tenants[r[0].text ?? ""] == nil {
                let clash = try s.query("SELECT name FROM tenants WHERE id = ?", [r[0]]).first?.first?.text
                if let clash, clash != r[1].text {
                    throw MigrationFailure(reason: "tenant id \(r[0].text ?? "") is used by tenant '\(clash)' in the target")
                }
                try s.query("INSERT INTO tenants(id, name, created_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", r)
            }
        case "users":
            for r in rows where m.users[r[0].text ?? ""] == nil {
                let row = mapped(t.name, r, m)
                try s.query(
                    "INSERT INTO users(id, tenant_id, name, role, created_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", row)
            }
        case "buckets":
            for r in rows {
                let row = mapped(t.name, r, m)
                if m.buckets[r[0].int ?? -1] != nil || created[r[0].int ?? -1] != nil {
                    let owner = try s.query("SELECT tenant_id FROM buckets WHERE id = ?", [row[0]]).first?.first?.text
                    if owner != row[2].text {
                        throw MigrationFailure(reason: "bucket '\(r[1].text ?? "")' belongs to another tenant in the target")
                    }
                    try s.query(
                        "UPDATE buckets SET policy = ?, tags = ?, region = ?, platform = ?, settings = ? WHERE id = ?",
                        [row[6], row[7], row[5], row[8], row[9], row[0]])
                    continue
                }
                let id = try s.query(
                    "INSERT INTO buckets(name, tenant_id, owner_id, created_ms, region, policy, tags, platform, settings) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    Array(row[1...])
                ).first?.first?.int
                if let id, let src = r[0].int { created[src] = id }
            }
        default:
            try upsertRows(t, rows.map { mapped(t.name, $0, m) }, s)
        }
        return created
    }

    /// One multi-row `INSERT … ON CONFLICT (key) DO UPDATE` of already-mapped rows.
    func upsertRows(_ t: Table, _ rows: [[SQLValue]], _ s: any SQLSession) throws {
        guard !rows.isEmpty else { return }
        let cols = t.columns.joined(separator: ", ")
        let one = "(" + Array(repeating: "?", count: t.columns.count).joined(separator: ", ") + ")"
        let updates = t.columns.filter { !t.key.contains($0) }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        // SQLite allows 32766 parameters per statement; stay well below.
        let per = max(1, 30000 / t.columns.count)
        var i = 0
        while i < rows.count {
            let chunk = rows[i..<min(rows.count, i + per)]
            try s.query(
                "INSERT INTO \(t.name)(\(cols)) VALUES \(Array(repeating: one, count: chunk.count).joined(separator: ", ")) "
                    + "ON CONFLICT (\(t.key.joined(separator: ", "))) DO UPDATE SET \(updates)",
                chunk.flatMap { $0 })
            i += per
        }
    }

    // MARK: verification

    /// Compares every source row with its target row, repairing what differs; returns what differed.
    func verify(
        _ st: inout MigrationState, progress: @Sendable (MigrationState) -> Void, stop: @Sendable () -> Bool
    ) async throws -> [String] {
        var found: [String] = []
        var maps = try await Maps.build(source: source, target: target)
        for t in Self.tables where t.name != "blob_journal" {
            var cursor: [SQLValue]?
            let keyIndexes = t.key.map { t.columns.firstIndex(of: $0)! }
            while true {
                if stop() { throw CancellationError() }
                let rows = try await sourceBatch(t, after: cursor, limit: batch)
                if rows.isEmpty { break }
                cursor = keyIndexes.map { rows.last![$0] }
                let want = rows.map { mapped(t.name, $0, maps) }
                let have = try await targetRows(t, keys: want.map { r in keyIndexes.map { r[$0] } })
                var repair: [[SQLValue]] = []
                for (src, w) in zip(rows, want) {
                    let key = keyIndexes.map { w[$0] }
                    guard let h = have[key] else {
                        found.append("- " + (try await describe(t, src)))
                        repair.append(w)
                        continue
                    }
                    // Bucket ids differ by design (renumbered); every other column must match.
                    if t.name == "buckets" ? Array(h.dropFirst()) != Array(w.dropFirst()) : h != w {
                        found.append("- " + (try await describe(t, src)))
                        repair.append(w)
                    }
                }
                if !repair.isEmpty {
                    if t.name == "buckets" || t.name == "tenants" || t.name == "users" {
                        let m = maps
                        _ = try await target.write { [self] s in try upsert(t, rows, m, s) }
                        maps = try await Maps.build(source: source, target: target)
                    } else {
                        let r = repair
                        try await target.write { [self] s in try upsertRows(t, r, s) }
                    }
                }
                st.verified += Int64(rows.count)
                progress(st)
            }
        }
        // Objects only in the target, in buckets this node migrated: deleted on the node meanwhile.
        for (src, dst) in maps.buckets.sorted(by: { $0.key < $1.key }) {
            let count = "SELECT CAST(count(*) AS BIGINT) FROM objects WHERE bucket_id = ?"
            let inSource = try await source.read { s in try s.query(count, [.int(src)]).first?.first?.int ?? 0 }
            let inTarget = try await target.read { s in try s.query(count, [.int(dst)]).first?.first?.int ?? 0 }
            guard inTarget > inSource else { continue }
            let name = try await source.read { s in try s.query("SELECT name FROM buckets WHERE id = ?", [.int(src)]).first?.first?.text } ?? "?"
            var after = ""
            while true {
                let page = after
                let keys = try await target.read { s in
                    try s.query("SELECT key FROM objects WHERE bucket_id = ? AND key > ? ORDER BY key LIMIT 1000", [.int(dst), .text(page)])
                        .compactMap { $0.first?.text }
                }
                guard let last = keys.last else { break }
                after = last
                let present = try await source.read { s in
                    Set(
                        try s.query(
                            "SELECT key FROM objects WHERE bucket_id = ? AND key >= ? AND key <= ?", [.int(src), .text(keys[0]), .text(last)]
                        ).compactMap { $0.first?.text })
                }
                let extra = keys.filter { !present.contains($0) }
                if extra.isEmpty { continue }
                for k in extra { found.append("+ \(name)/\(k)") }
                try await target.write { s in
                    for k in extra { try s.query("DELETE FROM objects WHERE bucket_id = ? AND key = ?", [.int(dst), .text(k)]) }
                }
            }
        }
        return found
    }

    func targetRows(_ t: Table, keys: [[SQLValue]]) async throws -> [[SQLValue]: [SQLValue]] {
        let cols = t.columns.joined(separator: ", ")
        let keyIndexes = t.key.map { t.columns.firstIndex(of: $0)! }
        let cond = "(" + t.key.map { "\($0) = ?" }.joined(separator: " AND ") + ")"
        let per = max(1, 900 / t.key.count)
        var out: [[SQLValue]: [SQLValue]] = [:]
        var i = 0
        while i < keys.count {
            let chunk = Array(keys[i..<min(keys.count, i + per)])
            let rows = try await target.read { s in
                try s.query(
                    "SELECT \(cols) FROM \(t.name) WHERE " + Array(repeating: cond, count: chunk.count).joined(separator: " OR "),
                    chunk.flatMap { $0 })
            }
            for r in rows { out[keyIndexes.map { r[$0] }] = r }
            i += per
        }
        return out
    }

    /// A row as the operator knows it: a bucket or tenant name, `bucket/key`, an access key.
    func describe(_ t: Table, _ row: [SQLValue]) async throws -> String {
        switch t.name {
        case "tenants", "buckets": return "\(t.name == "tenants" ? "tenant " : "")\(row[1].text ?? "")"
        case "users": return "user \(row[2].text ?? "")"
        case "access_keys": return "key \(row[0].text ?? "")"
        case "objects", "object_versions", "uploads":
            let b = t.name == "uploads" ? row[1] : row[0]
            let name = try await source.read { s in try s.query("SELECT name FROM buckets WHERE id = ?", [b]).first?.first?.text } ?? "?"
            let key = t.name == "uploads" ? row[2].text ?? "" : row[1].text ?? ""
            switch t.name {
            case "uploads": return "\(name)/\(key) (upload \(row[0].text ?? ""))"
            case "object_versions": return "\(name)/\(key) (version \(row[2].text ?? ""))"
            default: return "\(name)/\(key)"
            }
        case "parts": return "upload \(row[0].text ?? "") part \(row[1].int ?? 0)"
        default: return "\(t.name) \(row.first.map { "\($0)" } ?? "")"
        }
    }
}
