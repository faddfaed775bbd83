import Synchronization
import Foundation
import Logging
import NIOHTTP1
import VossBase
import VossConfig
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
    /// Moves buckets between platforms (`ose migration bucket`).
    var mover: BucketMover?
    /// SSE-S3's keys (`ose encryption`), and the gateway's settings (the rotation period).
    var state: GatewayState?

    func encryptionInfo(_ st: GatewayState) async throws -> EncryptionInfo {
        let days = st.current.sseRotationDays
        let keys = try await st.keyRing.keys()
        return EncryptionInfo(
            keys: keys.map { EncryptionKeyInfo(id: $0.record.id, createdAt: $0.record.created, current: $0.current, dataKeys: $0.dataKeys) },
            rotationDays: days, nextRotation: keys.last.map { $0.record.created.addingTimeInterval(Double(days) * 86_400) })
    }

    static func validName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), let f = u.first, (f >= 0x30 && f <= 0x39) || (f | 0x20 >= 0x61 && f | 0x20 <= 0x7A) else {
            return false
        }
        return u.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    static func info(_ m: PlatformMove) -> BucketMoveInfo {
        BucketMoveInfo(
            bucket: m.bucket, from: m.from, to: m.to, node: m.node, status: m.status.rawValue, progress: m.progress, total: m.total,
            totalBytes: m.totalBytes, moved: m.moved, movedBytes: m.movedBytes, skipped: m.skipped, remaining: m.remaining, error: m.error,
            startedAt: m.startedAt, updatedAt: m.updatedAt)
    }

    func fail(_ status: HTTPResponseStatus, _ code: String, _ m: Message) -> HTTPResponse {
        .json(APIErrorBody(code: code, message: m), status: status)
    }

    func handle(_ r: HTTPRequest) async -> HTTPResponse {
        guard r.uri.hasPrefix("/admin/") else { return fail(.notFound, "not_found", Message("api.no_route", r.method.rawValue, r.path)) }
        // The keeper forwards the identity routes of the control API's table under /admin.
        let path = "/" + VossVersion.controlAPI + r.uri.dropFirst("/admin".count)
        func on<B, R>(_ route: ControlRoute<B, R>) -> [String: String]? { route.match(method: r.method.rawValue, rawPath: path) }
        do {
            if r.method == .GET && r.path == "/admin/status" {
                let c = try await store.counts()
                return .json(StoreStatus(tenants: try await store.tenants().count, buckets: c.buckets, objects: c.objects, bytes: c.bytes))
            } else if on(Routes.bucketMoveList) != nil, let mover {
                return .json(BucketMoveList(moves: try await mover.state.store.moves().map(Self.info)))
            } else if on(Routes.bucketMoveStart) != nil, let mover {
                let body = try r.decodeJSON(BucketMoveRequest.self)
                do {
                    return .json(Self.info(try await mover.start(bucket: body.bucket, to: body.to, force: body.force)), status: .created)
                } catch let f as BucketMover.Failure {
                    return fail(.conflict, "refused", Message("move.refused", f.description))
                }
            } else if on(Routes.encryptionShow) != nil, let state {
                return .json(try await encryptionInfo(state))
            } else if on(Routes.encryptionRotate) != nil, let state {
                // A new key now (even before the first SSE-S3 write), and every data key rewrapped to it;
                // the old keys are deleted by a later run, a day on (a PUT may still hold one).
                var r = try await state.keyRing.rotate(now: Date(), period: Double(state.current.sseRotationDays) * 86_400, force: true)
                if try await state.store.sseKeys().isEmpty { r.added = try await state.keyRing.current(now: Date()).id }
                logger.notice("SSE-S3 key rotated by ose", metadata: ["new_key": "\(r.added ?? "-")", "data_keys_rewrapped": "\(r.rewrapped)"])
                return .json(EncryptionRotation(added: r.added, rewrapped: r.rewrapped, retired: r.retired, info: try await encryptionInfo(state)))
            } else if on(Routes.tenantList) != nil {
                return .json(TenantList(tenants: try await store.tenants().map { TenantInfo(id: $0.id, name: $0.name, createdAt: $0.createdAt) }))
            } else if on(Routes.tenantCreate) != nil {
                let body = try r.decodeJSON(NameRequest.self)
                guard Self.validName(body.name) else { return fail(.badRequest, "validation", Message("identity.bad_name", body.name)) }
                let t = try await store.createTenant(name: body.name)
                logger.info("tenant created", metadata: ["tenant": "\(t.name)"])
                return .json(TenantInfo(id: t.id, name: t.name, createdAt: t.createdAt), status: .created)
            } else if let p = on(Routes.tenantDelete), let tenant = p["tenant"] {
                try await store.deleteTenant(named: tenant)
                logger.info("tenant deleted", metadata: ["tenant": "\(tenant)"])
                return .json(Deleted(deleted: tenant))
            } else if let p = on(Routes.userList), let tenant = p["tenant"] {
                return .json(UserList(users: try await store.users(tenant: tenant).map { user($0, tenant: tenant) }))
            } else if let p = on(Routes.userCreate), let tenant = p["tenant"] {
                let body = try r.decodeJSON(NameRequest.self)
                guard Self.validName(body.name) else { return fail(.badRequest, "validation", Message("identity.bad_name", body.name)) }
                guard let role = Role(rawValue: body.role ?? Role.tenantUser.rawValue) else {
                    return fail(.badRequest, "validation", Message("identity.bad_role", body.role ?? ""))
                }
                let u = try await store.createUser(tenant: tenant, name: body.name, role: role)
                logger.info("user created", metadata: ["tenant": "\(tenant)", "user": "\(u.name)", "role": "\(role.rawValue)"])
                return .json(user(u, tenant: tenant), status: .created)
            } else if let p = on(Routes.userDelete), let tenant = p["tenant"], let name = p["user"] {
                try await store.deleteUser(tenant: tenant, name: name)
                return .json(Deleted(deleted: name))
            } else if let p = on(Routes.userPassword), let tenant = p["tenant"], let name = p["user"] {
                let body = try r.decodeJSON(PasswordRequest.self)
                guard body.password.utf8.count <= 1024 else { return fail(.badRequest, "validation", Message("rest.password_too_long")) }
                if !(body.force ?? false) {
                    let v = PasswordPolicy.evaluate(body.password)
                    if !v.isEmpty {
                        return .json(
                            APIErrorBody(
                                code: "validation", message: Message("api.invalid"),
                                issues: v.map { APIErrorBody.Issue(key: "secret", message: $0.message) }, hint: Message("password.hint_force")),
                            status: .badRequest)
                    }
                }
                guard let u = try await store.users(tenant: tenant).first(where: { $0.name == name }) else {
                    return fail(.notFound, "not_found", Message("identity.not_found", "user \(name) in tenant \(tenant)"))
                }
                let password = body.password
                let hash = try await (state?.blocking { try Passwords.hash(password) } ?? Passwords.hash(password))
                try await store.setPassword(tenant: tenant, user: name, hash: hash)
                logger.info("password set by ose", metadata: ["tenant": "\(tenant)", "user": "\(name)"])
                return .json(user(u, tenant: tenant))
            } else if let p = on(Routes.keyList), let tenant = p["tenant"], let name = p["user"] {
                let keys = try await store.keys(tenant: tenant, user: name)
                return .json(KeyList(keys: keys.map { KeyInfo(accessKey: $0.accessKey, secret: nil, tenant: tenant, user: name, createdAt: $0.createdAt) }))
            } else if let p = on(Routes.keyCreate), let tenant = p["tenant"], let name = p["user"] {
                let k = try await store.createKey(tenant: tenant, user: name)
                logger.info("access key created", metadata: ["tenant": "\(tenant)", "user": "\(name)", "key": "\(k.accessKey)"])
                return .json(KeyInfo(accessKey: k.accessKey, secret: k.secret, tenant: tenant, user: name, createdAt: k.createdAt), status: .created)
            } else if let p = on(Routes.keyDelete), let key = p["key"] {
                try await store.deleteKey(accessKey: key)
                identity?.forget(key)
                logger.info("access key deleted", metadata: ["key": "\(key)"])
                return .json(Deleted(deleted: key))
            }
            return fail(.notFound, "not_found", Message("api.no_route", r.method.rawValue, r.path))
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

    func user(_ u: UserRecord, tenant: String) -> UserInfo { Self.userInfo(u, tenant: tenant) }

    static func userInfo(_ u: UserRecord, tenant: String) -> UserInfo {
        UserInfo(id: u.id, tenant: tenant, name: u.name, role: u.role.rawValue, createdAt: u.createdAt)
    }
}
