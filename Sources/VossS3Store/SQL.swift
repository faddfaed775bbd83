/// The narrow SQL surface the metadata store is written against, so one implementation of every
/// operation serves both databases (SQLite embedded, PostgreSQL in production). Statements use `?`
/// placeholders; the PostgreSQL session numbers them.

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])

    public var int: Int64? { if case .int(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
    public var isNull: Bool { self == .null }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// One connection, used by one thread at a time, inside the transaction its backend opened.
public protocol SQLSession: AnyObject {
    /// Runs `sql` with `args` bound to its `?` placeholders; returns every row.
    @discardableResult
    func query(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]]
}

extension SQLSession {
    @discardableResult
    public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }
}

/// Where the store's transactions run. Errors from the database come out as `StoreError`
/// (`unavailable` when it cannot be reached or is read-only, so the gateway answers 503).
public protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `work` in one read-write transaction, durable when this returns. The backend may run
    /// `work` again after a serialization conflict, so it must only touch the database.
    func write<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Queues `work` as `write` does, without waiting: `done` gets its outcome once it is durable (or
    /// failed). The default runs `write` in a task; a backend with its own queue enqueues at once.
    func writeSoon<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T, done: @escaping @Sendable (Result<T, any Error>) -> Void)
    /// Runs `work` on a read-only view (a snapshot for SQLite; statement by statement for PostgreSQL).
    func read<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// A short description for logs and `ose` (`sqlite /var/lib/voss/metadata.sqlite`, `postgres h1:5432/voss`).
    var location: String { get }
    /// Stops background threads and closes connections.
    func shutdown() async
    /// Single statements run by the calling task on its own event loop, when the backend can (nil:
    /// every read goes through `read`).
    var loopReader: (any SQLLoopReader)? { get }
    /// The rows of one read-only statement, run on the calling thread when the backend answers
    /// without waiting (SQLite: a page-cache read); nil when it cannot (PostgreSQL).
    func queryNow(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]]?
    /// Whether `queryNow` can answer at all (so a caller can skip work that only pays off then).
    var answersNow: Bool { get }
}

/// Runs one read-only statement on a connection that lives on the caller's event loop, so a request
/// served on that loop waits for the database without changing thread (PostgreSQL; decision 18).
public protocol SQLLoopReader: Sendable {
    /// The rows of `sql`, or nil when this caller cannot be served here (a statement the backend does
    /// not run this way, not on an event loop, or the loop's connection is not ready or just
    /// failed): the caller then uses `SQLBackend.read`.
    func queryHere(_ sql: String, _ args: [SQLValue]) async throws -> [[SQLValue]]?
}

extension SQLBackend {
    public var loopReader: (any SQLLoopReader)? { nil }
    public func queryNow(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]]? { nil }
    public var answersNow: Bool { false }

    public func writeSoon<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T, done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        Task {
            do {
                done(.success(try await write(work)))
            } catch {
                done(.failure(error))
            }
        }
    }
}

extension SQLDialect {
    /// `sql` with its `?` placeholders numbered `$1`, `$2`, … for PostgreSQL. Question marks inside
    /// '…' literals, "…" identifiers and `--` comments are left alone.
    public static func numberedPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var n = 0
        var quote: Character?
        var comment = false
        for c in sql {
            if comment {
                if c == "\n" { comment = false }
                out.append(c)
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                out.append(c)
            case "-" where out.hasSuffix("-"):
                comment = true
                out.append(c)
            case "?":
                n += 1
                out += "$\(n)"
            default:
                out.append(c)
            }
        }
        return out
    }
}

/// An error thrown by the store's own code inside a transaction: backends roll back and pass it on
/// unchanged instead of reporting it as a database error.
public protocol SQLPassThroughError: Error {}

extension StoreError: SQLPassThroughError {}
