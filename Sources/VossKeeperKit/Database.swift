import Foundation
import Logging
import Synchronization
import VossBase
import VossConfig
import VossPostgres
import VossS3Store
import VossSQLite
import VossWire

/// `ose db` and `ose migration` on the keeper: checks PostgreSQL settings before saving them,
/// decides which store the node's gateway uses (`db.active`), and runs the migration task that moves
/// the embedded store into PostgreSQL (in the keeper, so it survives gateway restarts and resumes
/// when the keeper starts again).
actor DatabaseManager {
    let config: ConfigStore
    let supervisor: Supervisor
    let node: NodeConfig
    let logger = Logger(label: "voss.db")
    var postgres: (target: PostgresTarget, backend: PostgresBackend)?
    var running: Task<Void, Never>?
    /// Set to make the running task stop at its next batch (`--force` replaces it).
    let cancel = CancelFlag()

    init(config: ConfigStore, supervisor: Supervisor, node: NodeConfig) {
        self.config = config
        self.supervisor = supervisor
        self.node = node
    }

    var embeddedPath: String { node.paths.lib + "/metadata.sqlite" }

    // MARK: ose db

    func show(withSecret: Bool, notes: [Message] = []) async -> DBInfo {
        let doc = await config.document
        return DBInfo(
            active: doc["db.active"] ?? "embedded", embeddedPath: embeddedPath, url: doc["db.url"], user: doc["db.user"],
            secret: withSecret ? doc["db.secret"] : nil, migrating: doc["db.migrating"], notes: notes)
    }

    func set(_ r: DBSetRequest) async throws -> DBInfo {
        var issues: [ConfigIssue] = []
        var url: PostgresURL?
        switch PostgresURL.parse(r.url) {
        case .success(let u): url = u
        case .failure(let i): issues.append(i)
        }
        if r.user.trimmingWhitespace().isEmpty { issues.append(ConfigIssue(key: "db.user", Message("value.empty"))) }
        issues += Validators.password("db.secret", r.secret, force: r.force)
        if !issues.isEmpty {
            let policy = issues.contains { $0.key == "db.secret" }
            throw ValidationFailure(issues: issues, hint: policy ? Message("password.hint_force") : nil)
        }
        if await config.document["db.migrating"] != nil { throw KeeperError(Message("db.busy_migrating")) }
        let target = PostgresTarget(url: url!, user: r.user, password: r.secret)
        let report = await Self.blocking { PostgresBackend.check(target, logger: self.logger) }
        guard report.ok else {
            throw ValidationFailure(issues: report.errors.map { ConfigIssue(key: "db.url", $0) }, hint: Message("db.check_hint"))
        }
        var notes = report.notes
        let doc = await config.document
        var changes: [(key: String, value: String?)] = [("db.url", url!.jdbc), ("db.user", r.user), ("db.secret", r.secret)]
        if doc["db.active"] != "postgres" {
            let counts = try await embeddedCounts()
            if counts.tenants == 0 && counts.buckets == 0 {
                changes.append(("db.active", "postgres"))
                notes.append(Message("db.switched"))
            } else {
                notes.append(Message("db.migrate_next", String(counts.tenants), String(counts.buckets), String(counts.objects)))
            }
        }
        try await config.set(changes)
        // Create (or upgrade) the schema now, so the database is ready before anything uses it.
        if let b = try? await backend() {
            do {
                _ = try await b.read { s in try s.query("SELECT 1") }
            } catch {
                notes.append(Message("db.unreachable", "\(error)"))
            }
        }
        if await config.document["db.active"] == "postgres" { await storeSettingsChanged() }
        return await show(withSecret: false, notes: notes)
    }

    /// What the embedded store holds (nothing when it was never created).
    func embeddedCounts() async throws -> (tenants: Int64, buckets: Int64, objects: Int64) {
        guard FileManager.default.fileExists(atPath: embeddedPath) else { return (0, 0, 0) }
        let b = try SQLiteBackend(path: embeddedPath)
        return try await b.read { s in
            (
                try s.query("SELECT count(*) FROM tenants")[0][0].int ?? 0,
                try s.query("SELECT count(*) FROM buckets")[0][0].int ?? 0,
                try s.query("SELECT count(*) FROM objects")[0][0].int ?? 0
            )
        }
    }

    /// The gateway opens its store at start: after the store settings changed it is restarted
    /// (drained first; the keeper keeps the listening sockets, so clients see no refused connection).
    func storeSettingsChanged() async {
        await supervisor.restartIfRunning("s3")
    }

    /// A connection to the configured PostgreSQL, reused while the settings stay the same.
    func backend() async throws -> PostgresBackend {
        let doc = await config.document
        guard let text = doc["db.url"], case .success(let url) = PostgresURL.parse(text), let user = doc["db.user"],
            let password = doc["db.secret"]
        else { throw KeeperError(Message("db.not_configured")) }
        let target = PostgresTarget(url: url, user: user, password: password)
        if let p = postgres, p.target == target { return p.backend }
        if let old = postgres?.backend { await old.shutdown() }
        let b = try PostgresBackend(target, connections: 2, logger: logger)
        postgres = (target, b)
        return b
    }

    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in
            Thread { c.resume(returning: work()) }.start()
        }
    }

    // MARK: ose migration

    func startMigration(force: Bool) async throws -> MigrationInfo {
        let doc = await config.document
        guard doc["db.url"] != nil else { throw KeeperError(Message("db.not_configured")) }
        if doc["db.active"] == "postgres" && doc["db.migrating"] == nil { throw KeeperError(Message("migration.already_postgres")) }
        let engine = try await engine()
        if let existing = try await load(engine), !force {
            throw KeeperError(Message("migration.exists", existing.id, existing.status.rawValue))
        }
        if let t = running {
            cancel.set(true)
            await t.value
            cancel.set(false)
        }
        var bytes = [UInt8](repeating: 0, count: 6)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let id = "task-" + bytes.map { String(format: "%02x", $0) }.joined()
        let state = try await mapUnavailable { try await engine.create(id: id) }
        // Maintenance first: the gateway stops writing before anything is copied.
        try await config.set([("db.migrating", id)])
        logger.notice("migration task started", metadata: ["id": "\(id)", "objects": "\(state.total["objects"] ?? 0)"])
        launch(state, engine: engine, settle: true)
        return Self.info(state)
    }

    func showMigration() async throws -> MigrationInfo {
        let engine = try await engine()
        guard let st = try await load(engine) else { throw KeeperError(Message("migration.none")) }
        return Self.info(st)
    }

    /// At keeper start: a task that was running when the keeper stopped goes on.
    func resume() async {
        guard await config.document["db.migrating"] != nil else { return }
        do {
            let engine = try await engine()
            if let st = try await engine.load(), st.status == .running {
                logger.notice("resuming migration task", metadata: ["id": "\(st.id)", "progress": "\(st.progress)"])
                launch(st, engine: engine, settle: false)
            } else {
                try await config.set([("db.migrating", nil)])
            }
        } catch {
            logger.error("cannot resume the migration task yet; retrying", metadata: ["error": "\(error)"])
            Task {
                try? await Task.sleep(for: .seconds(5))
                await self.resume()
            }
        }
    }

    func engine() async throws -> StoreMigration {
        let target = try await backend()
        let source = try SQLiteBackend(path: embeddedPath)
        return StoreMigration(source: source, target: target, nodeID: node.nodeName)
    }

    func load(_ engine: StoreMigration) async throws -> MigrationState? {
        try await mapUnavailable { try await engine.load() }
    }

    func mapUnavailable<T>(_ f: () async throws -> T) async throws -> T {
        do {
            return try await f()
        } catch let e as StoreError {
            if case .unavailable(let why) = e { throw KeeperError(Message("db.unreachable", why)) }
            throw KeeperError(Message("api.internal", "\(e)"))
        }
    }

    func launch(_ state: MigrationState, engine: StoreMigration, settle: Bool) {
        running = Task { await self.drive(state, engine: engine, settle: settle) }
    }

    /// Runs the task to its end; while PostgreSQL is unreachable it waits and resumes from the last
    /// committed batch.
    func drive(_ initial: MigrationState, engine: StoreMigration, settle: Bool) async {
        if settle { try? await Task.sleep(for: .seconds(1)) }
        var st = initial
        let cancel = self.cancel
        while true {
            do {
                st = try await engine.run(st, stop: { cancel.value })
                break
            } catch is CancellationError {
                running = nil
                return
            } catch {
                logger.warning("migration interrupted; resuming in 5 s", metadata: ["id": "\(st.id)", "error": "\(error)"])
                for _ in 0..<50 where !cancel.value { try? await Task.sleep(for: .milliseconds(100)) }
                if cancel.value {
                    running = nil
                    return
                }
                if let saved = try? await engine.load(), saved.id == st.id { st = saved }
            }
        }
        do {
            switch st.status {
            case .completed:
                logger.notice("migration completed; this node now uses PostgreSQL", metadata: ["id": "\(st.id)"])
                try await config.set([("db.active", "postgres"), ("db.migrating", nil)])
                await storeSettingsChanged()
            default:
                logger.error("migration failed", metadata: ["id": "\(st.id)", "error": "\(st.error ?? "")"])
                try await config.set([("db.migrating", nil)])
            }
        } catch {
            logger.error("cannot record the end of the migration", metadata: ["error": "\(error)"])
        }
        running = nil
    }

    static func info(_ st: MigrationState) -> MigrationInfo {
        MigrationInfo(
            id: st.id, status: st.status.rawValue, progress: st.progress,
            startDate: Date(timeIntervalSince1970: Double(st.startedMs) / 1000),
            endDate: st.endedMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
            typeMigration: st.phase(.type), pathMigration: st.phase(.path), permissionMigration: st.phase(.permission),
            differences: st.differences, copied: st.copied, total: st.total,
            error: st.error.map { Message("migration.failed_because", $0) })
    }
}

final class CancelFlag: Sendable {
    private let flag = Mutex(false)
    var value: Bool { flag.withLock { $0 } }
    func set(_ v: Bool) { flag.withLock { $0 = v } }
}
