#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// SSE-S3's key-encryption keys and the rewrapping of data keys after a rotation
/// (docs/decisions.md 42).
extension SQLMetadataStore {
    public func sseKeys() async throws -> [SSEKeyRecord] {
        try await r { c in
            try c.query("SELECT id, wrapped, created_ms FROM sse_keys ORDER BY created_ms, id").map {
                SSEKeyRecord(id: $0[0].text ?? "", wrapped: $0[1].text ?? "", created: Self.date($0[2]))
            }
        }
    }

    public func addSSEKey(_ k: SSEKeyRecord) async throws {
        try await w { c in
            try c.query(
                "INSERT INTO sse_keys(id, wrapped, created_ms) VALUES (?, ?, ?)", [.text(k.id), .text(k.wrapped), Self.ms(k.created)])
        }
    }

    /// Removes a retired key once nothing refers to it any more; false (and nothing removed) while
    /// an object, version or upload still does.
    public func retireSSEKey(id: String) async throws -> Bool {
        try await w { c in
            let pattern = Self.keyPattern(id)
            for (table, column, _) in Self.encryptedColumns
            where try !c.query("SELECT 1 FROM \(table) WHERE \(column) LIKE ? LIMIT 1", [.text(pattern)]).isEmpty {
                return false
            }
            try c.query("DELETE FROM sse_keys WHERE id = ?", [.text(id)])
            return true
        }
    }

    public func sseKeyUsage(id: String) async throws -> Int {
        try await r { c in
            var n: Int64 = 0
            for (table, column, _) in Self.encryptedColumns {
                n += try c.query("SELECT CAST(count(*) AS BIGINT) FROM \(table) WHERE \(column) LIKE ?", [.text(Self.keyPattern(id))]).first?.first?.int ?? 0
            }
            return Int(n)
        }
    }

    /// Where data keys are kept: table, JSON column, primary key.
    static let encryptedColumns = [
        ("objects", "storage", ["bucket_id", "key"]), ("object_versions", "storage", ["bucket_id", "key", "version_id"]),
        ("uploads", "encryption", ["upload_id"]),
    ]

    /// What JSON text naming key `id` contains (key ids are hex, so no LIKE wildcard or quote is in it).
    static func keyPattern(_ id: String) -> String { "%\"keyID\":\"\(id)\"%" }

    /// Rewraps up to `limit` data keys wrapped by key `from` (in objects, versions and uploads) with
    /// `rewrap`, each row compare-and-swapped on its stored text (a row a client changed meanwhile is
    /// left for the next pass). Returns how many were rewrapped; 0 when none is left.
    public func rewrapSSE(from: String, limit: Int, rewrap: @escaping @Sendable (ObjectEncryption) -> ObjectEncryption?) async throws -> Int {
        try await w { c in
            var done = 0
            let pattern = Self.keyPattern(from)
            for (table, column, keyColumns) in Self.encryptedColumns where done < limit {
                let rows = try c.query(
                    "SELECT \(keyColumns.joined(separator: ", ")), \(column) FROM \(table) WHERE \(column) LIKE ? LIMIT ?",
                    [.text(pattern), .int(Int64(limit - done))])
                for row in rows {
                    let old = row[keyColumns.count]
                    let changed: SQLValue
                    if table == "uploads" {
                        guard let e = rewrap(try Self.decode(old, ObjectEncryption.self)) else { continue }
                        changed = Self.json(e)
                    } else {
                        var storage = try Self.decode(old, ObjectStorage.self)
                        guard let e = storage.encryption.flatMap(rewrap) else { continue }
                        storage.encryption = e
                        changed = Self.json(storage)
                    }
                    let cond = keyColumns.map { "\($0) = ?" }.joined(separator: " AND ")
                    try c.query("UPDATE \(table) SET \(column) = ? WHERE \(cond) AND \(column) = ?", [changed] + row.prefix(keyColumns.count) + [old])
                    done += 1
                }
            }
            return done
        }
    }
}
