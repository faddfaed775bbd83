import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import VossConfig
import VossS3Store

/// Where and as whom to connect: `db.url`, `db.user`, `db.secret`.
public struct PostgresTarget: Sendable, Equatable {
    public var url: PostgresURL
    public var user: String
    public var password: String

    public init(url: PostgresURL, user: String, password: String) {
        self.url = url
        self.user = user
        self.password = password
    }
}

/// The production metadata database: PostgreSQL, used by a fixed set of worker threads that each own
/// one connection. The store's transactions are synchronous closures (the same code runs on SQLite),
/// so each runs on a worker thread that blocks on the connection's futures; the event loop that
/// drives the connections never blocks.
///
/// - Writes run in `SERIALIZABLE` transactions, retried on serialization failures, so the store's
///   check-then-act logic means on PostgreSQL what it means on SQLite's single writer.
/// - Every wait is bounded: `connectTimeout` to connect, `socketTimeout` per statement. A connection
///   that misses a deadline, fails, or lands on a read-only server is closed and the request gets
///   `StoreError.unavailable` (503) — never a hang.
/// - With several hosts the writable one is used (`SHOW transaction_read_only`), the last one known
///   good first. After a failover the next request on each thread reconnects.
public final class PostgresBackend: SQLBackend, @unchecked Sendable {
    public var dialect: SQLDialect { .postgres }
    public let target: PostgresTarget
    public var location: String { "postgres \(target.url.hosts.map(\.description).joined(separator: ","))/\(target.url.database)" }

    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    let tls: PostgresConnection.Configuration.TLS
    let queue = JobQueue()
    let preferredHost = NIOLockedValueBox(0)
    let nextConnectionID = NIOLockedValueBox(1)
    var threads: [Thread] = []

    /// Starts `connections` worker threads. Connecting is lazy: a server that is down now makes
    /// requests fail with `unavailable` until it is back, it does not stop the gateway from starting.
    /// The first connection brings the schema up to date (`SQLSchema`, under an advisory lock).
    public init(_ target: PostgresTarget, connections: Int = 8, logger: Logger = Logger(label: "voss.postgres")) throws {
        self.target = target
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            tls = try Self.tls(target.url)
        } catch {
            try? group.syncShutdownGracefully()
            throw StoreError.unavailable("TLS setup for PostgreSQL failed: \(error)")
        }
        for i in 0..<max(1, connections) {
            let t = Thread { [self] in self.run() }
            t.name = "voss-pg-\(i)"
            threads.append(t)
            t.start()
        }
        loopConnections = LoopConnections(backend: self)
    }

    /// Whether this process has checked (and if needed migrated) the schema.
    let schemaReady = NIOLockedValueBox(false)

    static func tls(_ url: PostgresURL) throws -> PostgresConnection.Configuration.TLS {
        var c = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable:
            return .disable
        case .allow, .prefer, .require:
            c.certificateVerification = .none
        case .verifyCA:
            c.certificateVerification = .noHostnameVerification
        case .verifyFull:
            c.certificateVerification = .fullVerification
        }
        if let ca = url.sslRootCert { c.trustRoots = .file(ca) }
        let ctx = try NIOSSLContext(configuration: c)
        return url.sslMode == .allow || url.sslMode == .prefer ? .prefer(ctx) : .require(ctx)
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await submit { w in try w.transaction(work) }
    }

    public func read<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await submit { w in try w.autocommit(work) }
    }

    func submit<T: Sendable>(_ job: @escaping @Sendable (Worker) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let accepted = queue.push { w in
                do { c.resume(returning: try job(w)) } catch { c.resume(throwing: Self.storeError(error)) }
            }
            if !accepted { c.resume(throwing: StoreError.unavailable("the PostgreSQL store is shutting down")) }
        }
    }

    func run() {
        let w = Worker(backend: self)
        while let job = queue.pop() { job(w) }
        w.close()
    }

    /// Reads on the caller's event loop (`LoopConnections`).
    public var loopReader: (any SQLLoopReader)? { loopConnections }
    /// Set once, at the end of `init`.
    private(set) var loopConnections: LoopConnections?

    public func shutdown() async {
        await loopConnections?.close()
        queue.close()
        while threads.contains(where: { !$0.isFinished }) { try? await Task.sleep(for: .milliseconds(5)) }
        try? await group.shutdownGracefully()
    }

    deinit { queue.close() }

    // MARK: errors

    /// SQLSTATEs after which the connection must not be reused: the server is going away, has
    /// become (or is) a standby, or the connection itself broke.
    static func isConnectionLevel(_ state: String) -> Bool {
        state.hasPrefix("08") || state.hasPrefix("57P") || state == "25006" || state.hasPrefix("53")
    }

    static func storeError(_ e: any Error) -> any Error {
        if e is any SQLPassThroughError { return e }
        if let p = e as? PSQLError {
            if p.code == .server, let state = p.serverInfo?[.sqlState] {
                let message = p.serverInfo?[.message] ?? ""
                if state == "25006" { return StoreError.unavailable("the PostgreSQL server became read-only (failover?)") }
                if isConnectionLevel(state) { return StoreError.unavailable("PostgreSQL: \(message) (\(state))") }
                if state == "23505" { return StoreError.exists(p.serverInfo?[.constraintName] ?? message) }
                return StoreError.internalError("PostgreSQL: \(message) (SQLSTATE \(state))")
            }
            return StoreError.unavailable("PostgreSQL connection: \(p.code)")
        }
        if e is Deadline { return StoreError.unavailable("PostgreSQL did not answer in time") }
        return StoreError.unavailable("PostgreSQL: \(e)")
    }

    struct Deadline: Error {}

    /// Waits for `f`, at most `timeout`, on a condition variable: one callback registered on the
    /// connection's loop, no timer scheduled there and no second promise (each of those woke the loop
    /// from this thread once more for every statement).
    static func wait<T: Sendable>(_ f: EventLoopFuture<T>, _ timeout: TimeAmount) throws -> T {
        let w = Waiter<T>()
        f.whenComplete { r in
            w.cond.lock()
            w.result = r
            w.cond.unlock(withValue: 1)
        }
        guard w.cond.lock(whenValue: 1, timeoutSeconds: Double(timeout.nanoseconds) / 1e9) else { throw Deadline() }
        let r = w.result
        w.cond.unlock()
        guard let r else { throw Deadline() }
        return try r.get()
    }

    final class Waiter<T>: @unchecked Sendable {
        let cond = ConditionLock(value: 0)
        var result: Result<T, any Error>?
    }

    // MARK: connections

    /// Connects to the first writable server, trying the last good one first. Errors say per host
    /// what went wrong.
    func connectPrimary() throws -> PostgresConnection {
        let hosts = target.url.hosts
        let start = preferredHost.withLockedValue { $0 } % hosts.count
        var problems: [String] = []
        for i in 0..<hosts.count {
            let index = (start + i) % hosts.count
            let host = hosts[index]
            do {
                let conn = try connect(host)
                let ro = try Self.wait(
                    conn.query(PostgresQuery(unsafeSQL: "SHOW transaction_read_only"), logger: logger),
                    .seconds(Int64(target.url.connectTimeout)))
                let value = try ro.rows.first?.decode(String.self) ?? "on"
                if value == "off" {
                    preferredHost.withLockedValue { $0 = index }
                    return conn
                }
                _ = try? Self.wait(conn.close(), .seconds(1))
                problems.append("\(host): read-only (standby)")
            } catch {
                problems.append("\(host): \(PostgresProblem(error).summary)")
            }
        }
        throw StoreError.unavailable("no writable PostgreSQL server: " + problems.joined(separator: "; "))
    }

    func connect(_ host: PostgresURL.Host) throws -> PostgresConnection {
        try Self.wait(
            PostgresConnection.connect(on: group.next(), configuration: configuration(host), id: nextID(), logger: logger),
            .seconds(Int64(target.url.connectTimeout) + 1))
    }

    func nextID() -> Int {
        nextConnectionID.withLockedValue { n in
            defer { n += 1 }
            return n
        }
    }

    func configuration(_ host: PostgresURL.Host) -> PostgresConnection.Configuration {
        var config = PostgresConnection.Configuration(
            host: host.name, port: host.port, username: target.user, password: target.password,
            database: target.url.database, tls: tls)
        config.options.connectTimeout = .seconds(Int64(target.url.connectTimeout))
        // A transaction left open by a client that went away must not hold locks for long.
        config.options.additionalStartupParameters = [
            ("application_name", "voss"),
            ("idle_in_transaction_session_timeout", "\(target.url.socketTimeout * 3)s"),
        ]
        return config
    }

    static func bindings(_ args: [SQLValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: args.count)
        for a in args {
            switch a {
            case .null: binds.appendNull()
            case .int(let v): binds.append(v)
            case .text(let v): binds.append(v)
            case .blob(let v): binds.append(ByteBuffer(bytes: v))
            }
        }
        return binds
    }

    /// One thread's connection and its sessions.
    final class Worker: SQLSession, @unchecked Sendable {
        let backend: PostgresBackend
        var conn: PostgresConnection?
        var statements: [String: String] = [:]
        /// Whether a statement of the current job has already reached the server.
        var used = false

        init(backend: PostgresBackend) { self.backend = backend }

        func connection() throws -> PostgresConnection {
            if let c = conn, !c.isClosed { return c }
            drop()
            let c = try backend.connectPrimary()
            conn = c
            if !backend.schemaReady.withLockedValue({ $0 }) {
                do {
                    let applied = try SQLSchema.migrate(.postgres) { body in
                        try exec("BEGIN")
                        do {
                            try body(self)
                            try exec("COMMIT")
                        } catch {
                            if conn != nil { _ = try? query("ROLLBACK", []) }
                            throw error
                        }
                    }
                    if !applied.isEmpty { backend.logger.notice("metadata schema migrated", metadata: ["versions": "\(applied)"]) }
                    backend.schemaReady.withLockedValue { $0 = true }
                } catch {
                    drop()
                    throw error
                }
            }
            return c
        }

        func drop() {
            if let c = conn { _ = try? PostgresBackend.wait(c.close(), .seconds(1)) }
            conn = nil
        }

        func close() { drop() }

        func query(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]] {
            let c = try connection()
            let text: String
            if let t = statements[sql] {
                text = t
            } else {
                text = SQLDialect.numberedPlaceholders(sql)
                statements[sql] = text
            }
            do {
                let result = try PostgresBackend.wait(
                    c.query(PostgresQuery(unsafeSQL: text, binds: PostgresBackend.bindings(args)), logger: backend.logger),
                    .seconds(Int64(backend.target.url.socketTimeout)))
                used = true
                return try result.rows.map { row in try row.map(Self.value) }
            } catch {
                if Self.mustDrop(error) { drop() }
                throw error
            }
        }

        static func mustDrop(_ e: any Error) -> Bool {
            if e is any SQLPassThroughError || e is PostgresDecodingError { return false }
            if let p = e as? PSQLError {
                if p.code == .server, let state = p.serverInfo?[.sqlState] { return PostgresBackend.isConnectionLevel(state) }
                return true
            }
            return true
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int8: return .int(try cell.decode(Int64.self))
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea:
                var b = try cell.decode(ByteBuffer.self)
                return .blob(b.readBytes(length: b.readableBytes) ?? [])
            default: return .text(try cell.decode(String.self))
            }
        }

        func exec(_ sql: String) throws { try query(sql, []) }

        /// Runs `work` in a serializable transaction; retries serialization failures and deadlocks,
        /// and a broken idle connection once (nothing had been sent on it for this job).
        func transaction<T>(_ work: (any SQLSession) throws -> T) throws -> T {
            var attempt = 0
            while true {
                attempt += 1
                used = false
                do {
                    try exec("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    let value = try work(self)
                    try exec("COMMIT")
                    return value
                } catch {
                    if conn != nil { _ = try? query("ROLLBACK", []) }
                    let state = (error as? PSQLError)?.serverInfo?[.sqlState]
                    if (state == "40001" || state == "40P01") && attempt < 20 {
                        Thread.sleep(forTimeInterval: Double.random(in: 0...0.002) * Double(attempt))
                        continue
                    }
                    if !used && attempt == 1 && Self.mustDrop(error) { continue }
                    throw error
                }
            }
        }

        /// Runs `work` statement by statement (reads).
        func autocommit<T>(_ work: (any SQLSession) throws -> T) throws -> T {
            used = false
            do {
                return try work(self)
            } catch {
                // A connection that died while idle (failover) gets one fresh try.
                if !used && Self.mustDrop(error) {
                    used = false
                    return try work(self)
                }
                throw error
            }
        }
    }
}

/// A first-in-first-out queue of jobs for the worker threads.
final class JobQueue: @unchecked Sendable {
    typealias Job = @Sendable (PostgresBackend.Worker) -> Void
    private let cond = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    func push(_ job: @escaping Job) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        cond.signal()
        return true
    }

    /// The next job; nil once closed and empty.
    func pop() -> Job? {
        cond.lock()
        defer { cond.unlock() }
        while head == jobs.count && !closed { cond.wait() }
        guard head < jobs.count else { return nil }
        let j = jobs[head]
        head += 1
        if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return j
    }

    func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
    }
}
