#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Logins to the REST API and the portal: password hashes and sessions (docs/decisions.md 44).
extension SQLMetadataStore {
    static let userColumns = "u.id, u.tenant_id, u.name, u.role, u.created_ms, t.id, t.name, t.created_ms"

    public func setPassword(tenant: String, user: String, hash: String) async throws {
        try await w { c in
            let uid = try self.userID(c, tenant: tenant, user: user)
            try c.query(
                "INSERT INTO user_passwords VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, updated_ms = excluded.updated_ms",
                [.text(uid), .text(hash), Self.ms(Date())])
            // A new password ends the sessions the old one opened.
            try c.query("DELETE FROM sessions WHERE user_id = ?", [.text(uid)])
        }
    }

    public func credentials(tenant: String, user: String) async throws -> LoginCredentials? {
        try await r { c in
            try c.query(
                """
                SELECT \(Self.userColumns), p.hash FROM users u JOIN tenants t ON t.id = u.tenant_id
                LEFT JOIN user_passwords p ON p.user_id = u.id WHERE t.name = ? AND u.name = ?
                """, [.text(tenant), .text(user)]
            ).first.map { row in
                LoginCredentials(user: Self.user(Array(row[0...4])), tenant: Self.tenant(Array(row[5...7])), passwordHash: row[8].text)
            }
        }
    }

    public func createSession(tokenHash: String, userID: String, now: Date, expires: Date) async throws {
        try await w { c in
            try c.query("DELETE FROM sessions WHERE expires_ms <= ?", [Self.ms(now)])
            guard try !c.query("SELECT 1 FROM users WHERE id = ?", [.text(userID)]).isEmpty else { throw StoreError.notFound("user") }
            try c.query("INSERT INTO sessions VALUES (?, ?, ?, ?)", [.text(tokenHash), .text(userID), Self.ms(now), Self.ms(expires)])
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await r { c in
            try c.query(
                """
                SELECT \(Self.userColumns), s.expires_ms FROM sessions s JOIN users u ON u.id = s.user_id
                JOIN tenants t ON t.id = u.tenant_id WHERE s.token_hash = ? AND s.expires_ms > ?
                """, [.text(tokenHash), Self.ms(now)]
            ).first.map { row in
                SessionRecord(user: Self.user(Array(row[0...4])), tenant: Self.tenant(Array(row[5...7])), expires: Self.date(row[8]))
            }
        }
    }

    // MARK: quotas

    public func quotas() async throws -> [String: Int64] {
        try await r { c in
            Dictionary(
                try c.query("SELECT tenant_id, CAST(bytes AS BIGINT) FROM tenant_quotas").compactMap { r in r[0].text.map { ($0, r[1].int ?? 0) } },
                uniquingKeysWith: { a, _ in a })
        }
    }

    public func setQuota(tenant: String, bytes: Int64?) async throws {
        try await w { c in
            let tid = try self.tenantID(c, tenant)
            if let bytes {
                try c.query(
                    "INSERT INTO tenant_quotas VALUES (?, ?) ON CONFLICT(tenant_id) DO UPDATE SET bytes = excluded.bytes", [.text(tid), .int(bytes)])
            } else {
                try c.query("DELETE FROM tenant_quotas WHERE tenant_id = ?", [.text(tid)])
            }
        }
    }

    public func storedBytes(tenantID: String) async throws -> Int64 {
        try await r { c in
            let current = try c.query(
                "SELECT CAST(coalesce(sum(o.size), 0) AS BIGINT) FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.tenant_id = ?",
                [.text(tenantID)]
            ).first?.first?.int ?? 0
            let older = try c.query(
                "SELECT CAST(coalesce(sum(v.size), 0) AS BIGINT) FROM object_versions v JOIN buckets b ON b.id = v.bucket_id WHERE b.tenant_id = ?",
                [.text(tenantID)]
            ).first?.first?.int ?? 0
            return current + older
        }
    }

    /// A director user as a VOSS user: its organization's tenant and the user made when missing, the
    /// role set to what the director's rights give it now.
    public func ensureUser(tenant: String, user: String, role: Role) async throws -> (TenantRecord, UserRecord) {
        try await w { c in
            var t = try c.query("SELECT id, name, created_ms FROM tenants WHERE name = ?", [.text(tenant)]).first.map(Self.tenant)
            if t == nil {
                let n = TenantRecord(id: UUID().uuidString.lowercased(), name: tenant, createdAt: Date())
                try c.query("INSERT INTO tenants VALUES (?, ?, ?)", [.text(n.id), .text(n.name), Self.ms(n.createdAt)])
                t = n
            }
            guard let t else { throw StoreError.internalError("tenant") }
            if var u = try c.query(
                "SELECT id, tenant_id, name, role, created_ms FROM users WHERE tenant_id = ? AND name = ?", [.text(t.id), .text(user)]
            ).first.map(Self.user) {
                if u.role != role {
                    try c.query("UPDATE users SET role = ? WHERE id = ?", [.text(role.rawValue), .text(u.id)])
                    u.role = role
                }
                return (t, u)
            }
            let u = UserRecord(id: UUID().uuidString.lowercased(), tenantID: t.id, name: user, role: role, createdAt: Date())
            try c.query("INSERT INTO users VALUES (?, ?, ?, ?, ?)", [.text(u.id), .text(t.id), .text(user), .text(role.rawValue), Self.ms(u.createdAt)])
            return (t, u)
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await w { c in try c.query("DELETE FROM sessions WHERE token_hash = ?", [.text(tokenHash)]) }
    }
}
