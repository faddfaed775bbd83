import Crypto
import Foundation
import VossS3Store

/// The embedded database: one SQLite file (WAL, synchronous=FULL) under the node's data directory,
/// with a group-committing writer thread (`SQLiteDatabase`).
public final class SQLiteBackend: SQLBackend, @unchecked Sendable {
    public let db: SQLiteDatabase
    public var dialect: SQLDialect { .sqlite }
    public var location: String { "sqlite \(db.path)" }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        do {
            db = try SQLiteDatabase(path: path) { c in
                try SQLSchema.migrate(.sqlite) { body in
                    try c.exec("BEGIN IMMEDIATE")
                    do {
                        try body(c)
                        try c.exec("COMMIT")
                    } catch {
                        try? c.exec("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch {
            throw Self.map(error)
        }
    }

    static func map(_ e: any Error) -> any Error {
        if e is any SQLPassThroughError { return e }
        if let s = e as? SQLiteError {
            if s.code & 0xFF == 13 /* FULL */ { return StoreError.unavailable("the disk is full") }
            if s.code & 0xFF == 8 /* READONLY */ { return StoreError.unavailable("the database is read-only") }
            if s.code & 0xFF == 5 /* BUSY */ { return StoreError.unavailable("the database is busy") }
            return StoreError.internalError(s.description)
        }
        return StoreError.internalError("\(e)")
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do { return try await db.write { try work($0) } } catch { throw Self.map(error) }
    }

    public func writeSoon<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T, done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        db.writeSoon({ try work($0) }) { r in done(r.mapError { Self.map($0) }) }
    }

    /// Runs on the caller's thread: a pooled read-only connection answers in microseconds, cheaper
    /// than any hop to another thread.
    public func read<T: Sendable>(_ work: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do { return try db.read { try work($0) } } catch { throw Self.map(error) }
    }

    public var answersNow: Bool { true }

    public func queryNow(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]]? {
        do { return try db.readStatement(sql, args) } catch { throw Self.map(error) }
    }

    public func shutdown() async {}
}

extension SQLMetadataStore {
    /// The embedded store of a node: SQLite at `path`.
    public static func sqlite(path: String, secretKey: SymmetricKey) throws -> SQLMetadataStore {
        SQLMetadataStore(backend: try SQLiteBackend(path: path), secretKey: secretKey, nodeID: "")
    }
}
