import Synchronization
import Foundation
import Logging
import NIOHTTP1
import VossBase
import VossHTTP
import VossS3Store
import VossWire

/// The gateway's admin API on its Unix socket (`run/s3-admin.sock`, reachable by the keeper only):
/// tenants, users and access keys. The keeper's control API forwards `/v1/tenants…` here.
struct AdminAPI: Sendable {
    let store: any MetadataStore
    let logger: Logger
    /// This gateway's identity cache: a key deleted here stops working at once on this node (other
    /// nodes drop it when their cache entry expires, within `IdentityCache.ttl`).
    var identity: IdentityCache?

    static func validName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), let f = u.first, (f >= 0x30 && f <= 0x39) || (f | 0x20 >= 0x61 && f | 0x20 <= 0x7A) else {
            return false
        }
        return u.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    func fail(_ status: HTTPResponseStatus, _ code: String, _ m: Message) -> HTTPResponse {
        .json(APIErrorBody(code: code, message: m), status: status)
    }

    func handle(_ r: HTTPRequest) async -> HTTPResponse {
        let parts = r.path.split(separator: "/").map(String.init)
        guard parts.first == "admin" else { return fail(.notFound, "not_found", Message("api.no_route", r.method.rawValue, r.path)) }
        let p = Array(parts.dropFirst())
        do {
            switch (r.method, p.count) {
            case (.GET, 1) where p[0] == "status":
                let c = try await store.counts()
                return .json(StoreStatus(tenants: try await store.tenants().count, buckets: c.buckets, objects: c.objects, bytes: c.bytes))
            case (.GET, 1) where p[0] == "tenants":
                return .json(TenantList(tenants: try await store.tenants().map { TenantInfo(id: $0.id, name: $0.name, createdAt: $0.createdAt) }))
            case (.POST, 1) where p[0] == "tenants":
                let body = try r.decodeJSON(NameRequest.self)
                guard Self.validName(body.name) else { return fail(.badRequest, "validation", Message("identity.bad_name", body.name)) }
                let t = try await store.createTenant(name: body.name)
                logger.info("tenant created", metadata: ["tenant": "\(t.name)"])
                return .json(TenantInfo(id: t.id, name: t.name, createdAt: t.createdAt), status: .created)
            case (.DELETE, 2) where p[0] == "tenants":
                try await store.deleteTenant(named: p[1])
                logger.info("tenant deleted", metadata: ["tenant": "\(p[1])"])
                return .json(["deleted": p[1]])
            case (.GET, 3) where p[0] == "tenants" && p[2] == "users":
                return .json(UserList(users: try await store.users(tenant: p[1]).map { user($0, tenant: p[1]) }))
            case (.POST, 3) where p[0] == "tenants" && p[2] == "users":
                let body = try r.decodeJSON(NameRequest.self)
                guard Self.validName(body.name) else { return fail(.badRequest, "validation", Message("identity.bad_name", body.name)) }
                guard let role = Role(rawValue: body.role ?? Role.tenantUser.rawValue) else {
                    return fail(.badRequest, "validation", Message("identity.bad_role", body.role ?? ""))
                }
                let u = try await store.createUser(tenant: p[1], name: body.name, role: role)
                logger.info("user created", metadata: ["tenant": "\(p[1])", "user": "\(u.name)", "role": "\(role.rawValue)"])
                return .json(user(u, tenant: p[1]), status: .created)
            case (.DELETE, 4) where p[0] == "tenants" && p[2] == "users":
                try await store.deleteUser(tenant: p[1], name: p[3])
                return .json(["deleted": p[3]])
            case (.GET, 5) where p[0] == "tenants" && p[2] == "users" && p[4] == "keys":
                let keys = try await store.keys(tenant: p[1], user: p[3])
                return .json(KeyList(keys: keys.map { KeyInfo(accessKey: $0.accessKey, secret: nil, tenant: p[1], user: p[3], createdAt: $0.createdAt) }))
            case (.POST, 5) where p[0] == "tenants" && p[2] == "users" && p[4] == "keys":
                let k = try await store.createKey(tenant: p[1], user: p[3])
                logger.info("access key created", metadata: ["tenant": "\(p[1])", "user": "\(p[3])", "key": "\(k.accessKey)"])
                return .json(KeyInfo(accessKey: k.accessKey, secret: k.secret, tenant: p[1], user: p[3], createdAt: k.createdAt), status: .created)
            case (.DELETE, 2) where p[0] == "keys":
                try await store.deleteKey(accessKey: p[1])
                identity?.forget(p[1])
                logger.info("access key deleted", metadata: ["key": "\(p[1])"])
                return .json(["deleted": p[1]])
            default:
                return fail(.notFound, "not_found", Message("api.no_route", r.method.rawValue, r.path))
            }
        } catch let e as StoreError {
            switch e {
            case .exists(let what): return fail(.conflict, "exists", Message("identity.exists", what))
            case .notFound(let what): return fail(.notFound, "not_found", Message("identity.not_found", what))
            case .notEmpty(let what): return fail(.conflict, "not_empty", Message("identity.not_empty", what))
            case .unavailable(let why), .readOnly(let why): return fail(.serviceUnavailable, "unavailable", Message("store.unavailable", why))
            default: return fail(.internalServerError, "internal", Message("api.internal", "\(e)"))
            }
        } catch is DecodingError {
            return fail(.badRequest, "bad_request", Message("api.bad_body", "expected JSON"))
        } catch {
            return fail(.internalServerError, "internal", Message("api.internal", "\(error)"))
        }
    }

    func user(_ u: UserRecord, tenant: String) -> UserInfo {
        UserInfo(id: u.id, tenant: tenant, name: u.name, role: u.role.rawValue, createdAt: u.createdAt)
    }
}
