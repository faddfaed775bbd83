import CSQLite
import Foundation
import VossS3Store

public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { "SQLite error \(code): \(message)" }

    /// A constraint failed (a UNIQUE or PRIMARY KEY already taken, a NOT NULL violated).
    public var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
}

/// One SQLite connection with a prepared-statement cache. Not thread-safe: one thread at a time.
public final class SQLiteConnection: SQLSession, @unchecked Sendable {
    let db: OpaquePointer
    private var cache: [String: OpaquePointer] = [:]
    private var last: (sql: String, stmt: OpaquePointer)?

    public init(path: String, readOnly: Bool) throws {
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: rc, message: msg)
        }
        db = handle
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for s in cache.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    func error(_ rc: Int32) -> SQLiteError { SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }

    public func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "exec failed"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg)
        }
    }

    func statement(_ sql: String) throws -> OpaquePointer {
        // The statement used last is checked first: hot statements are `static let`s, and a string
        // compared with itself is equal without reading it (hashing a 300-byte statement is not).
        if let last, last.sql == sql {
            sqlite3_reset(last.stmt)
            sqlite3_clear_bindings(last.stmt)
            return last.stmt
        }
        if let s = cache[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            last = (sql, s)
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        cache[sql] = stmt
        last = (sql, stmt)
        return stmt
    }

    /// Runs `sql` with `args`; returns every row.
    @discardableResult
    public func query(_ sql: String, _ args: [SQLValue] = []) throws -> [[SQLValue]] {
        let s = try statement(sql)
        defer { sqlite3_reset(s) }
        for (i, a) in args.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch a {
            case .null: rc = sqlite3_bind_null(s, idx)
            case .int(let v): rc = sqlite3_bind_int64(s, idx, v)
            case .text(let t):
                // The byte length, not -1: a value with U+0000 in it is bound whole, never cut short.
                var bytes = Array(t.utf8)
                bytes.append(0)
                rc = bytes.withUnsafeBufferPointer { u in
                    u.withMemoryRebound(to: CChar.self) { c in
                        sqlite3_bind_text(s, idx, c.baseAddress, Int32(clamping: c.count - 1), voss_sqlite_transient())
                    }
                }
            case .blob(let b):
                // An empty array has no base address, and a NULL pointer would bind NULL, not zero bytes.
                rc = b.isEmpty ? sqlite3_bind_zeroblob(s, idx, 0)
                    : b.withUnsafeBytes { sqlite3_bind_blob(s, idx, $0.baseAddress, Int32($0.count), voss_sqlite_transient()) }
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc) }
            let n = sqlite3_column_count(s)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(n))
            for c in 0..<n {
                switch sqlite3_column_type(s, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(s, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(s, c))))
                case SQLITE_BLOB:
                    let len = Int(sqlite3_column_bytes(s, c))
                    if let p = sqlite3_column_blob(s, c) {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: len))))
                    } else {
                        row.append(.blob([]))
                    }
                case SQLITE_FLOAT: row.append(.int(Int64(sqlite3_column_double(s, c))))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    public var changes: Int { Int(sqlite3_changes(db)) }
}

/// A serial writer thread with group commit, and a pool of read-only connections used inline.
///
/// Writes queue up; the writer takes every job waiting, runs each in its own SAVEPOINT inside one
/// transaction, commits once (one fsync for the batch), then reports each job's result. Reads run on the
/// caller's thread on a pooled connection (WAL: readers never block the writer).
public final class SQLiteDatabase: @unchecked Sendable {
    public let path: String
    private let writer: SQLiteConnection
    private let jobs = JobQueue()
    private var readers: [SQLiteConnection] = []
    private let readLock = NSLock()

    public init(path: String, setup: (SQLiteConnection) throws -> Void) throws {
        self.path = path
        writer = try SQLiteConnection(path: path, readOnly: false)
        try writer.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        try setup(writer)
        let writer = self.writer
        let jobs = self.jobs
        let thread = Thread {
            while true {
                let batch = jobs.takeAll()
                Self.runBatch(batch, on: writer)
            }
        }
        thread.name = "voss-sqlite-writer"
        thread.start()
    }

    struct Job {
        let work: (SQLiteConnection) throws -> Any
        let done: (Result<Any, any Error>) -> Void
    }

    static func runBatch(_ batch: [Job], on db: SQLiteConnection) {
        var results: [Result<Any, any Error>] = []
        do {
            try db.exec("BEGIN IMMEDIATE")
        } catch {
            for j in batch { j.done(.failure(error)) }
            return
        }
        for j in batch {
            do {
                try db.exec("SAVEPOINT job")
                let r = try j.work(db)
                try db.exec("RELEASE job")
                results.append(.success(r))
            } catch {
                try? db.exec("ROLLBACK TO job")
                try? db.exec("RELEASE job")
                results.append(.failure(error))
            }
        }
        do {
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            for j in batch { j.done(.failure(error)) }
            return
        }
        for (j, r) in zip(batch, results) { j.done(r) }
    }

    /// Queues `work` for the writer now and returns; `done` gets the outcome once it is committed.
    /// Jobs run in the order they were queued.
    public func writeSoon<T: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> T, done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        jobs.push(Job(work: { try work($0) }, done: { r in
            switch r {
            case .success(let v as T): done(.success(v))
            case .success(let v): done(.failure(SQLiteError(code: SQLITE_MISUSE, message: "job returned \(type(of: v))")))
            case .failure(let e): done(.failure(e))
            }
        }))
    }

    /// Runs `work` in a write transaction (batched with other writes; durable when it returns).
    public func write<T: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            jobs.push(Job(work: { try work($0) }, done: { r in
                switch r {
                case .success(let v): c.resume(returning: v as! T)
                case .failure(let e): c.resume(throwing: e)
                }
            }))
        }
    }

    /// One read-only statement on a pooled reader, on the calling thread, without BEGIN and COMMIT:
    /// a single statement reads one snapshot on its own (the statement is its transaction).
    public func readStatement(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]] {
        readLock.lock()
        let conn = readers.popLast()
        readLock.unlock()
        let c = try conn ?? SQLiteConnection(path: path, readOnly: true)
        let rows = try c.query(sql, args)
        readLock.lock()
        if readers.count < 16 { readers.append(c) }
        readLock.unlock()
        return rows
    }

    /// Runs `work` on a read-only pooled connection, on the calling thread.
    public func read<T>(_ work: (SQLiteConnection) throws -> T) throws -> T {
        readLock.lock()
        let conn = readers.popLast()
        readLock.unlock()
        let c = try conn ?? SQLiteConnection(path: path, readOnly: true)
        // BEGIN and COMMIT are prepared once per connection (sqlite3_exec would compile both on every
        // read). A connection whose transaction did not end cleanly is closed, not pooled.
        var reusable = false
        defer {
            if reusable {
                readLock.lock()
                if readers.count < 16 { readers.append(c) }
                readLock.unlock()
            }
        }
        try c.query("BEGIN")
        let result: T
        do { result = try work(c) } catch {
            reusable = (try? c.query("COMMIT")) != nil
            throw error
        }
        reusable = (try? c.query("COMMIT")) != nil  // what was read stands either way
        return result
    }
}

/// FIFO for the writer thread; `takeAll` blocks until at least one job is there.
final class JobQueue: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var items: [SQLiteDatabase.Job] = []

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    func push(_ j: SQLiteDatabase.Job) {
        pthread_mutex_lock(&mutex)
        items.append(j)
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    func takeAll() -> [SQLiteDatabase.Job] {
        pthread_mutex_lock(&mutex)
        while items.isEmpty { pthread_cond_wait(&cond, &mutex) }
        let all = items
        items.removeAll()
        pthread_mutex_unlock(&mutex)
        return all
    }
}
