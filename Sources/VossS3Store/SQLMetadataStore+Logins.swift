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
