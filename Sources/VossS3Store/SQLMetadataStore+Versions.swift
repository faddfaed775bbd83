import VossChecksums
import VossS3Core

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Versions: the current object of a key is its row in `objects`; older versions and delete markers
/// are rows of `object_versions`, newest = highest `seq`. A key's current object is always newer than
/// all of its rows there. (docs/decisions.md 40)
extension SQLMetadataStore {
    static let versionColumns =
        "bucket_id, key, version_id, seq, delete_marker, size, etag, modified_ms, headers, checksum, checksum_algorithm, policy, tags, storage, owner_id, upload_id, lock"

    static func version(_ row: [SQLValue]) throws -> ObjectRecord {
        let id = row[2].text ?? "null"
        return ObjectRecord(
            bucketID: row[0].int ?? 0, key: row[1].text ?? "", size: row[5].int ?? 0, etag: row[6].text ?? "",
            lastModified: date(row[7]), headers: try decode(row[8], ObjectHeaders.self),
            checksum: row[9] == .null ? nil : try decode(row[9], StoredChecksum.self),
            policy: try decode(row[11], AccessPolicy.self), tags: try decode(row[12], [String: String].self),
            storage: try decode(row[13], ObjectStorage.self), ownerID: row[14].text ?? "", versionID: id == "null" ? nil : id,
            deleteMarker: (row[4].int ?? 0) != 0, uploadID: row[15].text, lock: row[16] == .null ? nil : try decode(row[16], ObjectLock.self))
    }

    /// Adds `o` as the newest noncurrent version (or delete marker) of its key.
    func insertVersion(_ c: any SQLSession, _ o: ObjectRecord) throws {
        let seq = (try c.query(
            "SELECT max(seq) FROM object_versions WHERE bucket_id = ? AND key = ?", [.int(o.bucketID), .text(o.key)]
        ).first?.first?.int ?? 0) + 1
        try c.query(
            "INSERT INTO object_versions(\(Self.versionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .int(o.bucketID), .text(o.key), .text(o.versionName), .int(seq), .int(o.deleteMarker ? 1 : 0), .int(o.size),
                .text(o.etag), Self.ms(o.lastModified), Self.json(o.headers), o.checksum.map(Self.json) ?? .null,
                o.checksum.map { .text($0.algorithm.rawValue) } ?? .null, Self.json(o.policy), Self.json(o.tags),
                Self.json(o.storage), .text(o.ownerID), o.uploadID.map(SQLValue.text) ?? .null, o.lock.map(Self.json) ?? .null,
            ])
    }

    /// The current object becomes the newest noncurrent version (the caller replaces or deletes its row).
    func demote(_ c: any SQLSession, _ current: ObjectRecord) throws { try insertVersion(c, current) }

    /// Removes a noncurrent version (or delete marker); returns it.
    func removeNoncurrent(_ c: any SQLSession, _ bucketID: Int64, _ key: String, versionID: String?) throws -> ObjectRecord? {
        let args: [SQLValue] = [.int(bucketID), .text(key), .text(versionID ?? "null")]
        guard let v = try c.query(
            "SELECT \(Self.versionColumns) FROM object_versions WHERE bucket_id = ? AND key = ? AND version_id = ?", args
        ).first.map(Self.version) else { return nil }
        try c.query("DELETE FROM object_versions WHERE bucket_id = ? AND key = ? AND version_id = ?", args)
        return v
    }

    public func deleteVersion(bucketID: Int64, key: String, versionID: String?, bypassGovernance: Bool, now: Date) async throws
        -> ObjectRecord?
    {
        try await w { c in
            let current = try self.currentObject(c, bucketID, key)
            let removed: ObjectRecord
            if let current, current.versionID == versionID {
                if current.lock?.protects(at: now, bypassGovernance: bypassGovernance) == true { throw StoreError.locked }
                try c.query("DELETE FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)])
                removed = current
            } else {
                let args: [SQLValue] = [.int(bucketID), .text(key), .text(versionID ?? "null")]
                let lock = try c.query("SELECT lock FROM object_versions WHERE bucket_id = ? AND key = ? AND version_id = ?", args).first?.first
                if let lock, lock != .null, try Self.decode(lock, ObjectLock.self).protects(at: now, bypassGovernance: bypassGovernance) {
                    throw StoreError.locked
                }
                guard let v = try self.removeNoncurrent(c, bucketID, key, versionID: versionID) else { return nil }
                removed = v
            }
            // With no current object left, the newest remaining version becomes current, unless it
            // is a delete marker (removing the marker on top brings the object back).
            if current == nil || current?.versionID == versionID {
                try self.promoteNewest(c, bucketID, key)
            }
            try self.garbage(c, removed.storage.blobs)
            return removed
        }
    }

    /// Makes the newest noncurrent version the current object when it is not a delete marker.
    func promoteNewest(_ c: any SQLSession, _ bucketID: Int64, _ key: String) throws {
        guard let next = try c.query(
            "SELECT \(Self.versionColumns) FROM object_versions WHERE bucket_id = ? AND key = ? ORDER BY seq DESC LIMIT 1",
            [.int(bucketID), .text(key)]
        ).first.map(Self.version), !next.deleteMarker else { return }
        _ = try removeNoncurrent(c, bucketID, key, versionID: next.versionID)
        try c.query(Self.upsertObject, Self.objectValues(next))
    }

    public func objectVersion(bucketID: Int64, key: String, versionID: String?) async throws -> ObjectRecord? {
        try await r { c in
            if let current = try self.currentObject(c, bucketID, key), current.versionID == versionID { return current }
            return try c.query(
                "SELECT \(Self.versionColumns) FROM object_versions WHERE bucket_id = ? AND key = ? AND version_id = ?",
                [.int(bucketID), .text(key), .text(versionID ?? "null")]
            ).first.map(Self.version)
        }
    }

    public func latestDeleteMarker(bucketID: Int64, key: String) async throws -> ObjectRecord? {
        try await r { c in
            guard try c.query("SELECT 1 FROM objects WHERE bucket_id = ? AND key = ?", [.int(bucketID), .text(key)]).isEmpty else { return nil }
            let newest = try c.query(
                "SELECT \(Self.versionColumns) FROM object_versions WHERE bucket_id = ? AND key = ? ORDER BY seq DESC LIMIT 1",
                [.int(bucketID), .text(key)]
            ).first.map(Self.version)
            return newest?.deleteMarker == true ? newest : nil
        }
    }

    public func listVersions(bucketID: Int64, prefix: String, from: String, maxSeq: Int64, limit: Int) async throws -> [VersionSummary] {
        try await r { c in
            let (start, _) = Self.rangeStart(prefix: prefix, after: from, inclusive: true)
            let end = prefix.isEmpty ? nil : ListAccumulator.successor(of: prefix)
            let below = end == nil ? "" : " AND key < ?"
            // Both tables are read by their primary key from `start`; the merge is ordered by key,
            // then newest first (the current object has the highest position).
            let sql = """
                SELECT key, version_id, seq, dm, size, etag, modified_ms, owner_id, checksum_algorithm FROM (
                  SELECT key, version_id, \(VersionSummary.currentSeq) AS seq, 0 AS dm, size, etag, modified_ms, owner_id,
                      checksum_algorithm FROM objects WHERE bucket_id = ? AND key >= ?\(below)
                  UNION ALL
                  SELECT key, version_id, seq, delete_marker AS dm, size, etag, modified_ms, owner_id, checksum_algorithm
                      FROM object_versions WHERE bucket_id = ? AND key >= ?\(below)
                ) v WHERE key > ? OR (key = ? AND seq <= ?) ORDER BY key, seq DESC LIMIT ?
                """
            var args: [SQLValue] = [.int(bucketID), .text(start)]
            if let end { args.append(.text(end)) }
            args += [.int(bucketID), .text(start)]
            if let end { args.append(.text(end)) }
            args += [.text(from), .text(from), .int(maxSeq), .int(Int64(limit))]
            return try c.query(sql, args).map { r in
                let seq = r[2].int ?? 0
                let id = r[1].text
                return VersionSummary(
                    key: r[0].text ?? "", versionID: id == "null" ? nil : id, deleteMarker: (r[3].int ?? 0) != 0, seq: seq,
                    size: r[4].int ?? 0, etag: r[5].text ?? "", lastModified: Self.date(r[6]), ownerID: r[7].text ?? "",
                    checksumAlgorithm: r[8].text.flatMap { ChecksumAlgorithm(rawValue: $0) })
            }
        }
    }

    public func versionSeq(bucketID: Int64, key: String, versionID: String?) async throws -> Int64? {
        try await r { c in
            if let current = try self.currentObject(c, bucketID, key), current.versionID == versionID { return VersionSummary.currentSeq }
            return try c.query(
                "SELECT seq FROM object_versions WHERE bucket_id = ? AND key = ? AND version_id = ?",
                [.int(bucketID), .text(key), .text(versionID ?? "null")]
            ).first?.first?.int
        }
    }

    public func completedObject(bucketID: Int64, key: String, uploadID: String) async throws -> ObjectRecord? {
        try await r { c in
            if let current = try self.currentObject(c, bucketID, key), current.uploadID == uploadID { return current }
            return try c.query(
                "SELECT \(Self.versionColumns) FROM object_versions WHERE bucket_id = ? AND key = ? AND upload_id = ? LIMIT 1",
                [.int(bucketID), .text(key), .text(uploadID)]
            ).first.map(Self.version)
        }
    }
}
