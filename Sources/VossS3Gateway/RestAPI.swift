import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VossBase
import VossConfig
import VossS3Core
import VossS3Store
import VossSigV4
import VossUpstream
import VossWire

/// The tenant/provider REST API (`/api/v1/…` on the gateway's ports, docs/rest-api.md): log in with a
/// password for a session token, then manage tenants, users, keys, buckets and objects as the
/// caller's role allows (SPEC.md §3, docs/decisions.md 44). Bucket and object operations run through
/// the S3 service with the session's principal, so they obey exactly the checks S3 requests do.
final class RestAPI: Sendable {
    /// The provider session VOSS holds with the director (to read roles' rights), by settings.
    let directorToken = Mutex<(DirectorSettings, String)?>(nil)
    /// Failed logins per user (5 free) and per client address (20 free: many people behind one NAT).
    let userThrottle: LoginThrottle
    let addressThrottle: LoginThrottle
    /// scrypt checks in flight (each holds 16 MiB and a core for ~0.1 s): more are refused with 503.
    let hashing: Atomic<Int>
    static let maxHashing = 4

    init() {
        userThrottle = LoginThrottle(free: 5)
        addressThrottle = LoginThrottle(free: 20)
        hashing = Atomic(0)
    }

    /// Whether a request path belongs to the REST API (the S3 path style `/api/v1/s3/…` does not).
    static func handles(_ rawPath: String) -> Bool {
        guard rawPath == PublicRoutes.prefix || rawPath.hasPrefix(PublicRoutes.prefix + "/") else { return false }
        return !(rawPath == S3Router.apiPrefix || rawPath.hasPrefix(S3Router.apiPrefix + "/"))
    }

    /// Compared against when the user does not exist or has no password, so that a wrong user name
    /// costs as long as a wrong password.
    static let dummyHash: String = (try? Passwords.hash("voss-dummy-password")) ?? ""
}

/// A REST failure: status, stable code, translatable message.
struct RestError: Error {
    var status: HTTPResponseStatus
    var code: String
    var message: Message
    var headers: [(String, String)] = []

    static let unauthorized = RestError(status: .unauthorized, code: "unauthorized", message: Message("rest.unauthorized"))
    static let forbidden = RestError(status: .forbidden, code: "forbidden", message: Message("rest.forbidden"))
    static func notFound(_ what: String) -> RestError { RestError(status: .notFound, code: "not_found", message: Message("identity.not_found", what)) }
    static func invalid(_ m: Message) -> RestError { RestError(status: .badRequest, code: "validation", message: m) }
}

extension S3Server {
    /// Serves one REST request; returns whether the connection can carry another.
    func serveREST(_ ex: Exchange) async -> Bool {
        let rest = self.rest
        do {
            try await routeREST(ex, rest)
        } catch let e as RestError {
            if !ex.responded { await sendJSONError(ex, e) } else { ex.closeAfter = true }
        } catch let e as S3Error {
            if !ex.responded { await sendJSONError(ex, Self.restError(e)) } else { ex.closeAfter = true }
        } catch let e as StoreError {
            if !ex.responded { await sendJSONError(ex, Self.restError(e, ex)) } else { ex.closeAfter = true }
        } catch is DecodingError {
            await sendJSONError(ex, RestError(status: .badRequest, code: "bad_request", message: Message("api.bad_body", "expected JSON")))
        } catch {
            let e = S3Service.s3Error(error, state: state, ctx: ex.ctx)
            if !ex.responded { await sendJSONError(ex, Self.restError(e)) } else { ex.closeAfter = true }
        }
        return await finish(ex)
    }

    static func restError(_ e: S3Error) -> RestError {
        RestError(status: HTTPResponseStatus(statusCode: e.status), code: e.code, message: Message("rest.s3", e.code, e.message), headers: e.headers)
    }

    static func restError(_ e: StoreError, _ ex: Exchange) -> RestError {
        switch e {
        case .exists(let what): RestError(status: .conflict, code: "exists", message: Message("identity.exists", what))
        case .notFound(let what): .notFound(what)
        case .notEmpty(let what): RestError(status: .conflict, code: "not_empty", message: Message("identity.not_empty", what))
        case .unavailable(let why), .readOnly(let why):
            RestError(status: .serviceUnavailable, code: "unavailable", message: Message("store.unavailable", why), headers: [("Retry-After", "5")])
        default: RestError(status: .internalServerError, code: "internal", message: Message("rest.internal", ex.ctx.id))
        }
    }

    func sendJSONError(_ ex: Exchange, _ e: RestError) async {
        state.counters.errors.add(1, ordering: .relaxed)
        await sendJSON(ex, APIErrorBody(code: e.code, message: e.message), status: e.status, headers: e.headers)
    }

    func sendJSON<T: Encodable>(_ ex: Exchange, _ value: T, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) async {
        let body = (try? ControlJSON.encoder().encode(value)).map { Array($0) } ?? Array("{}".utf8)
        await ex.responder().send(
            status, headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")] + headers, body: body,
            headOnly: ex.ctx.isHead)
    }

    func readJSON<T: Decodable>(_ ex: Exchange, _ type: T.Type, limit: Int = 64 << 10) async throws -> T {
        // A declared length over the limit is refused at once, not after waiting for the bytes.
        if let declared = ex.contentLength, declared > Int64(limit) {
            ex.closeAfter = true
            throw RestError(status: .payloadTooLarge, code: "too_large", message: Message("rest.too_large", String(limit)))
        }
        let bytes: [UInt8]
        do {
            bytes = try await ex.reader.readAll(limit: limit)
        } catch let e as S3Error where e.code == "MaxMessageLengthExceeded" {
            ex.closeAfter = true
            throw RestError(status: .payloadTooLarge, code: "too_large", message: Message("rest.too_large", String(limit)))
        }
        return try ControlJSON.decoder().decode(T.self, from: Data(bytes.isEmpty ? Array("{}".utf8) : bytes))
    }

    /// The caller's session: `Authorization: Bearer TOKEN`.
    func sessionPrincipal(_ ex: Exchange) async throws -> Principal {
        guard let auth = ex.ctx.header("authorization"), auth.count > 7, ASCII.equalsIgnoringCase(String(auth.prefix(7)), "bearer ") else {
            throw RestError.unauthorized
        }
        let token = auth.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard (16...128).contains(token.utf8.count) else { throw RestError.unauthorized }
        guard let s = try await state.store.session(tokenHash: Passwords.tokenHash(token), now: Date()) else { throw RestError.unauthorized }
        return Principal(accessKey: "", secret: "", user: s.user, tenant: s.tenant)
    }

    static func me(_ p: Principal) -> MeInfo {
        MeInfo(id: p.user.id, tenant: p.tenant.name, tenantID: p.tenant.id, name: p.user.name, role: p.user.role.rawValue)
    }

    // MARK: roles

    static func isProvider(_ p: Principal) -> Bool { p.user.role == .providerAdmin }

    /// Sees the tenant at all (others get 404, as if it did not exist: nothing of another tenant leaks).
    static func sees(_ p: Principal, tenant: String) -> Bool { isProvider(p) || p.tenant.name == tenant }

    /// Manages the tenant's users, keys and buckets.
    static func administers(_ p: Principal, tenant: String) -> Bool {
        isProvider(p) || (p.user.role == .tenantAdmin && p.tenant.name == tenant)
    }

    /// Acts for `user` of `tenant` (its keys, its password): itself, or an admin of its tenant — a
    /// tenant admin never for a provider admin.
    func mayActFor(_ p: Principal, tenant: String, user: String) async throws -> UserRecord {
        guard Self.sees(p, tenant: tenant) else { throw RestError.notFound("tenant \(tenant)") }
        guard let u = try await state.store.users(tenant: tenant).first(where: { $0.name == user }) else {
            throw RestError.notFound("user \(user) in tenant \(tenant)")
        }
        if u.id == p.user.id { return u }
        guard Self.administers(p, tenant: tenant) else { throw RestError.forbidden }
        if u.role == .providerAdmin && !Self.isProvider(p) { throw RestError.forbidden }
        return u
    }

    func requireAdmin(_ p: Principal, tenant: String) throws {
        guard Self.sees(p, tenant: tenant) else { throw RestError.notFound("tenant \(tenant)") }
        guard Self.administers(p, tenant: tenant) else { throw RestError.forbidden }
    }

    // MARK: routing

    func routeREST(_ ex: Exchange, _ rest: RestAPI) async throws {
        let method = ex.ctx.method == "HEAD" ? "GET" : ex.ctx.method
        let path = ex.ctx.rawPath
        // Cross-origin callers of the API: only the origins the operator listed (`s3.api_cors_origins`).
        if !PortalFiles.handles(path), let origin = ex.ctx.header("origin") {
            let allowed = state.current.apiCorsOrigins.contains(origin) || state.current.apiCorsOrigins.contains("*")
            if method == "OPTIONS" {
                guard allowed, ex.ctx.header("access-control-request-method") != nil else {
                    throw RestError(status: .forbidden, code: "cors", message: Message("rest.cors_refused", origin))
                }
                return await ex.responder().send(.noContent, headers: [
                    ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), ("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE"),
                    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-MD5"), ("Access-Control-Max-Age", "600"),
                ])
            }
            if allowed {
                ex.extraHeaders = [
                    ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                    ("Access-Control-Expose-Headers", "Retry-After, Content-Disposition, ETag, x-amz-request-id"),
                ]
            }
        }
        if PortalFiles.handles(path) { return try await servePortal(ex, method: method) }
        if let m = PublicRoutes.i18n.match(method: method, rawPath: path), let locale = m["locale"] { return try await portalStrings(ex, locale) }
        func on<B, R>(_ r: ControlRoute<B, R>) -> [String: String]? { r.match(method: method, rawPath: path) }
        if on(PublicRoutes.openapi) != nil {
            await ex.responder().send(
                .ok, headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-cache")],
                body: Array(OpenAPI.document.utf8), headOnly: ex.ctx.isHead)
            return
        }
        if on(PublicRoutes.login) != nil { return try await login(ex, rest) }
        if on(PublicRoutes.directorLogin) != nil { return try await directorLogin(ex, rest) }
        guard PublicRoutes.all.contains(where: { $0.match(method: method, rawPath: path) != nil }) else {
            let known = PublicRoutes.all.contains { r in ["GET", "POST", "PUT", "DELETE"].contains { r.match(method: $0, rawPath: path) != nil } }
            throw known
                ? RestError(status: .methodNotAllowed, code: "method_not_allowed", message: Message("rest.no_route", ex.ctx.method, path))
                : RestError(status: .notFound, code: "not_found", message: Message("rest.no_route", ex.ctx.method, path))
        }
        let p = try await sessionPrincipal(ex)
        let store = state.store
        if on(PublicRoutes.logout) != nil {
            if let auth = ex.ctx.header("authorization") {
                try await store.deleteSession(tokenHash: Passwords.tokenHash(auth.dropFirst(7).trimmingCharacters(in: .whitespaces)))
            }
            return await sendJSON(ex, NoBody())
        }
        if on(PublicRoutes.me) != nil { return await sendJSON(ex, Self.me(p)) }
        if on(PublicRoutes.myPassword) != nil {
            let body = try await readJSON(ex, PasswordRequest.self)
            // Changing one's own password needs the current one (a stolen token alone cannot lock the user out).
            guard let current = body.current, let c = try await store.credentials(tenant: p.tenant.name, user: p.user.name),
                try await checkPassword(current, c.passwordHash, rest)
            else { throw RestError(status: .forbidden, code: "wrong_password", message: Message("rest.wrong_current_password")) }
            try await setPassword(p.tenant.name, p.user.name, body, rest)
            return await sendJSON(ex, Self.me(p))
        }

        // Tenants (provider admins).
        if on(PublicRoutes.tenantList) != nil {
            let tenants = Self.isProvider(p) ? try await store.tenants() : [p.tenant]
            return await sendJSON(ex, TenantList(tenants: tenants.map { TenantInfo(id: $0.id, name: $0.name, createdAt: $0.createdAt) }))
        }
        if on(PublicRoutes.tenantCreate) != nil {
            guard Self.isProvider(p) else { throw RestError.forbidden }
            let body = try await readJSON(ex, NameRequest.self)
            guard AdminAPI.validName(body.name) else { throw RestError.invalid(Message("identity.bad_name", body.name)) }
            let t = try await store.createTenant(name: body.name)
            audit(ex, p, "tenant created", ["tenant": t.name])
            return await sendJSON(ex, TenantInfo(id: t.id, name: t.name, createdAt: t.createdAt), status: .created)
        }
        if let m = on(PublicRoutes.tenantDelete), let tenant = m["tenant"] {
            guard Self.sees(p, tenant: tenant) else { throw RestError.notFound("tenant \(tenant)") }
            guard Self.isProvider(p) else { throw RestError.forbidden }
            try await store.deleteTenant(named: tenant)
            audit(ex, p, "tenant deleted", ["tenant": tenant])
            return await sendJSON(ex, Deleted(deleted: tenant))
        }

        // Quotas.
        if let m = on(PublicRoutes.quotaShow), let tenant = m["tenant"] {
            try requireAdmin(p, tenant: tenant)
            return await sendJSON(ex, try await quotaInfo(tenant))
        }
        if let m = on(PublicRoutes.quotaSet), let tenant = m["tenant"] {
            guard Self.sees(p, tenant: tenant) else { throw RestError.notFound("tenant \(tenant)") }
            guard Self.isProvider(p) else { throw RestError.forbidden }
            let body = try await readJSON(ex, QuotaRequest.self)
            if let b = body.bytes, b < 0 || b > 1 << 62 { throw RestError.invalid(Message("rest.bad_quota", String(b))) }
            try await store.setQuota(tenant: tenant, bytes: body.bytes)
            state.quotas.forget()
            audit(ex, p, "quota set", ["tenant": tenant, "bytes": body.bytes.map(String.init) ?? "none"])
            return await sendJSON(ex, try await quotaInfo(tenant))
        }

        // Users.
        if let m = on(PublicRoutes.userList), let tenant = m["tenant"] {
            try requireAdmin(p, tenant: tenant)
            let users = try await store.users(tenant: tenant)
            return await sendJSON(ex, UserList(users: users.map { AdminAPI.userInfo($0, tenant: tenant) }))
        }
        if let m = on(PublicRoutes.userCreate), let tenant = m["tenant"] {
            try requireAdmin(p, tenant: tenant)
            let body = try await readJSON(ex, UserCreateRequest.self)
            guard AdminAPI.validName(body.name) else { throw RestError.invalid(Message("identity.bad_name", body.name)) }
            guard let role = Role(rawValue: body.role ?? Role.tenantUser.rawValue) else {
                throw RestError.invalid(Message("identity.bad_role", body.role ?? ""))
            }
            if role == .providerAdmin && !Self.isProvider(p) { throw RestError.forbidden }
            if let pw = body.password { try Self.checkPolicy(pw, force: false) }
            let u = try await store.createUser(tenant: tenant, name: body.name, role: role)
            if let pw = body.password { try await setPassword(tenant, u.name, PasswordRequest(password: pw), rest) }
            audit(ex, p, "user created", ["tenant": tenant, "user": u.name, "role": role.rawValue])
            return await sendJSON(ex, AdminAPI.userInfo(u, tenant: tenant), status: .created)
        }
        if let m = on(PublicRoutes.userDelete), let tenant = m["tenant"], let user = m["user"] {
            try requireAdmin(p, tenant: tenant)
            let u = try await mayActFor(p, tenant: tenant, user: user)
            guard u.id != p.user.id else {
                throw RestError(status: .conflict, code: "refused", message: Message("rest.delete_self"))
            }
            for k in try await store.keys(tenant: tenant, user: user) { state.identity.forget(k.accessKey) }
            try await store.deleteUser(tenant: tenant, name: user)
            audit(ex, p, "user deleted", ["tenant": tenant, "user": user])
            return await sendJSON(ex, Deleted(deleted: user))
        }
        if let m = on(PublicRoutes.userPassword), let tenant = m["tenant"], let user = m["user"] {
            let u = try await mayActFor(p, tenant: tenant, user: user)
            // Its own password goes through /me/password (which asks for the current one).
            guard u.id != p.user.id else { throw RestError.forbidden }
            let body = try await readJSON(ex, PasswordRequest.self)
            try await setPassword(tenant, user, body, rest)
            audit(ex, p, "password set", ["tenant": tenant, "user": user])
            return await sendJSON(ex, AdminAPI.userInfo(u, tenant: tenant))
        }

        // Access keys.
        if let m = on(PublicRoutes.keyList), let tenant = m["tenant"], let user = m["user"] {
            _ = try await mayActFor(p, tenant: tenant, user: user)
            let keys = try await store.keys(tenant: tenant, user: user)
            return await sendJSON(ex, KeyList(keys: keys.map { KeyInfo(accessKey: $0.accessKey, secret: nil, tenant: tenant, user: user, createdAt: $0.createdAt) }))
        }
        if let m = on(PublicRoutes.keyCreate), let tenant = m["tenant"], let user = m["user"] {
            _ = try await mayActFor(p, tenant: tenant, user: user)
            let k = try await store.createKey(tenant: tenant, user: user)
            audit(ex, p, "access key created", ["tenant": tenant, "user": user, "key": k.accessKey])
            return await sendJSON(ex, KeyInfo(accessKey: k.accessKey, secret: k.secret, tenant: tenant, user: user, createdAt: k.createdAt), status: .created)
        }
        if let m = on(PublicRoutes.keyDelete), let key = m["key"] {
            // A key the caller may not manage is "not found", whoever holds it.
            guard let owner = try await store.principal(accessKey: key), Self.sees(p, tenant: owner.tenant.name) else {
                throw RestError.notFound("access key \(key)")
            }
            _ = try await mayActFor(p, tenant: owner.tenant.name, user: owner.user.name)
            try await store.deleteKey(accessKey: key)
            state.identity.forget(key)
            audit(ex, p, "access key deleted", ["key": key])
            return await sendJSON(ex, Deleted(deleted: key))
        }

        // Platforms and usage.
        if on(PublicRoutes.platforms) != nil {
            let d = state.platforms.defaultName
            var entries = state.platforms.names.map { PlatformEntry(name: $0, isDefault: $0 == d) }
            if Self.isProvider(p) {
                // What each platform holds (buckets on a platform no longer configured are listed too).
                var held: [String: (Int, Int, Int64)] = [:]
                for b in try await store.allBuckets() {
                    let c = try await store.objectCount(bucketID: b.id)
                    let h = held[b.platform] ?? (0, 0, 0)
                    held[b.platform] = (h.0 + 1, h.1 + c.objects, h.2 + c.bytes)
                }
                for name in held.keys where !entries.contains(where: { $0.name == name }) { entries.append(PlatformEntry(name: name, isDefault: false)) }
                for i in entries.indices {
                    let h = held[entries[i].name] ?? (0, 0, 0)
                    (entries[i].buckets, entries[i].objects, entries[i].bytes) = (h.0, h.1, h.2)
                }
            }
            return await sendJSON(ex, PlatformList(platforms: entries))
        }
        if on(PublicRoutes.usage) != nil {
            guard p.user.role != .tenantUser else { throw RestError.forbidden }
            let tenants = Self.isProvider(p) ? try await store.tenants() : [p.tenant]
            var out: [TenantUsage] = []
            for t in tenants {
                var u = TenantUsage(tenant: t.name, buckets: 0, objects: 0, bytes: 0)
                for b in try await store.buckets(tenantID: t.id) {
                    let c = try await store.objectCount(bucketID: b.id)
                    u.buckets += 1
                    u.objects += c.objects
                    u.bytes += c.bytes
                }
                out.append(u)
            }
            return await sendJSON(ex, UsageReport(tenants: out))
        }

        // Buckets.
        if on(PublicRoutes.bucketList) != nil {
            let filter = ex.ctx.query["tenant"]
            var buckets: [BucketRecord]
            if Self.isProvider(p) {
                if let f = filter {
                    guard let t = try await store.tenant(named: f) else { throw RestError.notFound("tenant \(f)") }
                    buckets = try await store.buckets(tenantID: t.id)
                } else {
                    buckets = try await store.allBuckets()
                }
            } else {
                if let f = filter, f != p.tenant.name { throw RestError.notFound("tenant \(f)") }
                buckets = try await store.buckets(tenantID: p.tenant.id).filter { Access.lists(bucket: $0, principal: p) }
            }
            let names = Dictionary(try await store.tenants().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            return await sendJSON(ex, BucketList(buckets: buckets.map { bucketInfo($0, names) }))
        }
        if on(PublicRoutes.bucketCreate) != nil {
            let body = try await readJSON(ex, BucketCreateRequest.self)
            var xml: [UInt8] = []
            if let platform = body.platform, !platform.isEmpty {
                xml = Array(
                    "<CreateBucketConfiguration><LocationConstraint>\(XMLWriter.escape(platform))</LocationConstraint></CreateBucketConfiguration>".utf8)
            }
            _ = try await s3(ex, p, method: "PUT", bucket: body.name, key: nil, operation: .createBucket, body: BytesBody(xml))
            guard let b = try await store.bucket(named: body.name) else { throw RestError.notFound("bucket \(body.name)") }
            audit(ex, p, "bucket created", ["bucket": b.name, "platform": b.platform])
            return await sendJSON(ex, bucketInfo(b, [p.tenant.id: p.tenant.name]), status: .created)
        }
        if let m = on(PublicRoutes.bucketDelete), let bucket = m["bucket"] {
            _ = try await s3(ex, p, method: "DELETE", bucket: bucket, key: nil, operation: .deleteBucket, body: BytesBody([]))
            audit(ex, p, "bucket deleted", ["bucket": bucket])
            return await sendJSON(ex, Deleted(deleted: bucket))
        }
        if let m = on(PublicRoutes.bucketUsage), let bucket = m["bucket"] {
            let call = S3Call(ctx: subContext(ex, p, method: "GET", bucket: bucket, key: nil, operation: .listObjectsV2), body: BytesBody([]))
            let b = try await service.bucket(call, access: .read)
            let c = try await store.objectCount(bucketID: b.id)
            return await sendJSON(ex, BucketUsage(bucket: b.name, objects: c.objects, bytes: c.bytes))
        }

        // Objects.
        if let m = on(PublicRoutes.objectList), let bucket = m["bucket"] {
            let q = ex.ctx.query
            let call = S3Call(ctx: subContext(ex, p, method: "GET", bucket: bucket, key: nil, operation: .listObjectsV2), body: BytesBody([]))
            let b = try await service.bucket(call, access: .read)
            let prefix = q["prefix"] ?? ""
            let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
            let limit = min(max(Int(q["limit"] ?? "") ?? 1000, 1), 1000)
            let (acc, summaries) = try await service.collect(bucketID: b.id, prefix: prefix, delimiter: delimiter, start: q["after"] ?? "", maxKeys: limit)
            var objects: [ObjectEntry] = []
            var prefixes: [String] = []
            for e in acc.entries {
                switch e {
                case .key(let k):
                    if let s = summaries[k] { objects.append(ObjectEntry(key: k, size: s.size, etag: s.etag, lastModified: s.lastModified)) }
                case .commonPrefix(let cp): prefixes.append(cp)
                }
            }
            return await sendJSON(
                ex, ObjectList(bucket: b.name, prefix: prefix, delimiter: delimiter, objects: objects, prefixes: prefixes, next: acc.truncated ? acc.nextMarker : nil))
        }
        if let m = on(PublicRoutes.objectGet), let bucket = m["bucket"], let key = m["key"] {
            let sub = subExchange(ex, subContext(ex, p, method: ex.ctx.method, bucket: bucket, key: key,
                                                 operation: ex.ctx.isHead ? .headObject : .getObject, pass: ["range", "if-none-match", "if-match"]))
            let r = try await service.handle(S3Call(ctx: sub.ctx, body: sub))
            var response = r
            // A browser saves it under the key's last segment.
            let file = key.split(separator: "/").last.map(String.init) ?? key
            response.headers.append(("Content-Disposition", "attachment; filename*=UTF-8''" + Percent.encode(file.utf8)))
            try await write(response, sub)
            ex.responded = true
            if sub.closeAfter { ex.closeAfter = true }
            return
        }
        if let m = on(PublicRoutes.objectPut), let bucket = m["bucket"], let key = m["key"] {
            let sub = subExchange(ex, subContext(ex, p, method: "PUT", bucket: bucket, key: key, operation: .putObject,
                                                 pass: ["content-length", "content-type", "content-md5", "expect", "transfer-encoding"]))
            let r = try await service.handle(S3Call(ctx: sub.ctx, body: sub))
            if sub.closeAfter { ex.closeAfter = true }
            let etag = Self.etag(r)
            await sendJSON(ex, ObjectStored(bucket: bucket, key: key, etag: etag), status: .created)
            if let after = r.after { await after() }
            return
        }
        if let m = on(PublicRoutes.objectDelete), let bucket = m["bucket"], let key = m["key"] {
            let r = try await s3(ex, p, method: "DELETE", bucket: bucket, key: key, operation: .deleteObject, body: BytesBody([]))
            await sendJSON(ex, Deleted(deleted: key))
            if let after = r.after { await after() }
            return
        }
        if let m = on(PublicRoutes.share), let bucket = m["bucket"] {
            return try await share(ex, p, bucket: bucket)
        }
        if let m = on(PublicRoutes.bucketTags), let bucket = m["bucket"] {
            do {
                let r = try await s3(ex, p, method: "GET", bucket: bucket, key: nil, operation: .getBucketTagging, body: BytesBody([]))
                guard case .bytes(let xml) = r.body else { return await sendJSON(ex, TagSet(tags: [:])) }
                return await sendJSON(ex, TagSet(tags: (try? Tags.parseXML(xml, max: 50).get()) ?? [:]))
            } catch let e as S3Error where e.code == "NoSuchTagSet" {
                return await sendJSON(ex, TagSet(tags: [:]))
            }
        }
        if let m = on(PublicRoutes.bucketTagsSet), let bucket = m["bucket"] {
            let body = try await readJSON(ex, TagSet.self)
            if body.tags.isEmpty {
                _ = try await s3(ex, p, method: "DELETE", bucket: bucket, key: nil, operation: .deleteBucketTagging, body: BytesBody([]))
            } else {
                _ = try await s3(ex, p, method: "PUT", bucket: bucket, key: nil, operation: .putBucketTagging, body: BytesBody(Array(Tags.xml(body.tags).utf8)))
            }
            audit(ex, p, "bucket tags set", ["bucket": bucket, "tags": String(body.tags.count)])
            return await sendJSON(ex, body)
        }
        if let m = on(PublicRoutes.uploadStart), let bucket = m["bucket"] { return try await uploadStart(ex, p, bucket) }
        if let m = on(PublicRoutes.uploadParts), let bucket = m["bucket"], let id = m["upload"] { return try await uploadParts(ex, p, bucket, id) }
        if let m = on(PublicRoutes.uploadPart), let bucket = m["bucket"], let id = m["upload"], let part = m["part"] {
            return try await uploadPart(ex, p, bucket, id, part)
        }
        if let m = on(PublicRoutes.uploadComplete), let bucket = m["bucket"], let id = m["upload"] { return try await uploadComplete(ex, p, bucket, id) }
        if let m = on(PublicRoutes.uploadAbort), let bucket = m["bucket"], let id = m["upload"] {
            let key = try await uploadKey(bucket, id)
            _ = try await service.handle(S3Call(ctx: subContext(ex, p, method: "DELETE", bucket: bucket, key: key, operation: .abortMultipartUpload,
                                                                query: ["uploadId": id]), body: BytesBody([])))
            return await sendJSON(ex, Deleted(deleted: id))
        }
        throw RestError(status: .notFound, code: "not_found", message: Message("rest.no_route", ex.ctx.method, path))
    }

    func quotaInfo(_ tenant: String) async throws -> QuotaInfo {
        guard let t = try await state.store.tenant(named: tenant) else { throw RestError.notFound("tenant \(tenant)") }
        return QuotaInfo(tenant: tenant, bytes: try await state.store.quotas()[t.id], used: try await state.store.storedBytes(tenantID: t.id))
    }

    /// An ETag without its quotes, as the JSON answers carry it.
    static func unquoted(_ etag: String) -> String { etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }

    /// The ETag an S3 answer carries in its headers, unquoted.
    static func etag(_ r: S3Response) -> String {
        r.headers.first { ASCII.equalsIgnoringCase($0.0, "etag") }.map { unquoted($0.1) } ?? ""
    }

    func bucketInfo(_ b: BucketRecord, _ tenants: [String: String]) -> BucketInfo {
        BucketInfo(name: b.name, tenant: tenants[b.tenantID] ?? b.tenantID, owner: b.ownerID, platform: b.platform, region: b.region, createdAt: b.createdAt)
    }

    func audit(_ ex: Exchange, _ p: Principal, _ what: Logger.Message, _ meta: [String: String]) {
        var m: Logger.Metadata = ["request": "\(ex.ctx.id)", "by": "\(p.tenant.name)/\(p.user.name)", "client": "\(ex.ctx.remote)"]
        for (k, v) in meta { m[k] = "\(v)" }
        state.logger.info(what, metadata: m)
    }

    // MARK: S3 operations on the session's behalf

    func subContext(
        _ ex: Exchange, _ p: Principal, method: String, bucket: String, key: String?, operation: S3Operation, pass: [String] = [],
        query: [String: String] = [:]
    ) -> RequestContext {
        let headers = ex.ctx.headers.filter { h in pass.contains { ASCII.equalsIgnoringCase($0, h.0) } }
        return RequestContext(
            id: ex.ctx.id, method: method, headers: headers, rawPath: ex.ctx.rawPath, rawQuery: "", query: query,
            target: S3Target(bucket: bucket, key: key, virtualHosted: false), operation: operation, principal: p, auth: nil, tls: ex.ctx.tls,
            remote: ex.ctx.remote)
    }

    func subExchange(_ ex: Exchange, _ ctx: RequestContext) -> Exchange {
        let sub = Exchange(ctx: ctx, head: ex.head, reader: ex.reader, channel: ex.channel, state: state, draining: draining)
        sub.extraHeaders = ex.extraHeaders
        return sub
    }

    func s3(_ ex: Exchange, _ p: Principal, method: String, bucket: String, key: String?, operation: S3Operation, body: BytesBody) async throws
        -> S3Response
    {
        try await service.handle(S3Call(ctx: subContext(ex, p, method: method, bucket: bucket, key: key, operation: operation), body: body))
    }

    // MARK: multipart uploads

    /// The key of an upload in `bucket` (an upload of another bucket, or none, is not found).
    func uploadKey(_ bucket: String, _ id: String) async throws -> String {
        guard let b = try await state.store.bucket(named: bucket), let u = try await state.store.upload(id: id), u.bucketID == b.id else {
            throw RestError(status: .notFound, code: "NoSuchUpload", message: Message("rest.s3", "NoSuchUpload", "The specified upload does not exist."))
        }
        return u.key
    }

    func uploadStart(_ ex: Exchange, _ p: Principal, _ bucket: String) async throws {
        let body = try await readJSON(ex, UploadStartRequest.self)
        guard !body.key.isEmpty, body.key.utf8.count <= 1024 else { throw RestError.invalid(Message("rest.no_key")) }
        let r = try await service.handle(S3Call(
            ctx: subContext(ex, p, method: "POST", bucket: bucket, key: body.key, operation: .createMultipartUpload, query: ["uploads": ""]),
            body: BytesBody([])))
        guard case .bytes(let xml) = r.body, let id = (try? VossS3Core.XMLParser.parse(xml))?.childText("UploadId") else {
            throw RestError(status: .internalServerError, code: "internal", message: Message("rest.internal", ex.ctx.id))
        }
        await sendJSON(ex, UploadInfo(bucket: bucket, key: body.key, uploadId: id, parts: []), status: .created)
    }

    func uploadParts(_ ex: Exchange, _ p: Principal, _ bucket: String, _ id: String) async throws {
        let key = try await uploadKey(bucket, id)
        var parts: [UploadedPart] = []
        var marker = 0
        while true {
            let r = try await service.handle(S3Call(
                ctx: subContext(ex, p, method: "GET", bucket: bucket, key: key, operation: .listParts,
                                query: ["uploadId": id, "part-number-marker": String(marker)]),
                body: BytesBody([])))
            guard case .bytes(let xml) = r.body, let root = try? VossS3Core.XMLParser.parse(xml) else { break }
            for e in root.all("Part") {
                guard let n = e.childText("PartNumber").flatMap({ Int($0) }), let etag = e.childText("ETag") else { continue }
                parts.append(UploadedPart(partNumber: n, etag: Self.unquoted(etag), size: e.childText("Size").flatMap { Int64($0) }))
            }
            guard root.childText("IsTruncated") == "true", let next = root.childText("NextPartNumberMarker").flatMap({ Int($0) }), next > marker else { break }
            marker = next
        }
        await sendJSON(ex, UploadInfo(bucket: bucket, key: key, uploadId: id, parts: parts))
    }

    func uploadPart(_ ex: Exchange, _ p: Principal, _ bucket: String, _ id: String, _ part: String) async throws {
        guard let n = Int(part), (1...10_000).contains(n) else { throw RestError.invalid(Message("rest.bad_part", part)) }
        let key = try await uploadKey(bucket, id)
        let sub = subExchange(ex, subContext(ex, p, method: "PUT", bucket: bucket, key: key, operation: .uploadPart,
                                             pass: ["content-length", "content-md5", "expect", "transfer-encoding"],
                                             query: ["uploadId": id, "partNumber": String(n)]))
        let r = try await service.handle(S3Call(ctx: sub.ctx, body: sub))
        if sub.closeAfter { ex.closeAfter = true }
        let etag = Self.etag(r)
        await sendJSON(ex, UploadedPart(partNumber: n, etag: etag, size: sub.reader.bytesRead))
    }

    func uploadComplete(_ ex: Exchange, _ p: Principal, _ bucket: String, _ id: String) async throws {
        // 10,000 parts with their ETags: well under 1 MiB.
        let body = try await readJSON(ex, UploadCompleteRequest.self, limit: 1 << 20)
        let key = try await uploadKey(bucket, id)
        var x = XMLWriter()
        x.open("CompleteMultipartUpload")
        for part in body.parts {
            x.open("Part")
            x.element("PartNumber", part.partNumber)
            x.element("ETag", "\"" + part.etag + "\"")
            x.close("Part")
        }
        x.close("CompleteMultipartUpload")
        let r = try await service.handle(S3Call(
            ctx: subContext(ex, p, method: "POST", bucket: bucket, key: key, operation: .completeMultipartUpload, query: ["uploadId": id]),
            body: BytesBody(Array(x.document.utf8))))
        var etag = ""
        if case .bytes(let xml) = r.body, let root = try? VossS3Core.XMLParser.parse(xml) {
            if root.name == "Error" {
                throw Self.restError(S3Error(root.childText("Code") ?? "InternalError", status: 400, message: root.childText("Message")))
            }
            etag = root.childText("ETag").map(Self.unquoted) ?? ""
        }
        audit(ex, p, "multipart upload completed", ["bucket": bucket, "key": key, "parts": String(body.parts.count)])
        await sendJSON(ex, ObjectStored(bucket: bucket, key: key, etag: etag), status: .created)
        if let after = r.after { await after() }
    }

    /// A presigned GET URL for an object, signed with one of the caller's access keys.
    func share(_ ex: Exchange, _ p: Principal, bucket: String) async throws {
        let body = try await readJSON(ex, ShareRequest.self)
        guard (1...604_800).contains(body.expiresIn) else { throw RestError.invalid(Message("rest.bad_expiry")) }
        guard !body.key.isEmpty else { throw RestError.invalid(Message("rest.no_key")) }
        // Read access to the object, decided as a GET of it would be.
        let sub = subExchange(ex, subContext(ex, p, method: "HEAD", bucket: bucket, key: body.key, operation: .headObject))
        _ = try await service.handle(S3Call(ctx: sub.ctx, body: sub))
        guard let key = try await state.store.keys(tenant: p.tenant.name, user: p.user.name).first,
            let signer = try await state.store.principal(accessKey: key.accessKey)
        else { throw RestError(status: .conflict, code: "no_access_key", message: Message("rest.share_needs_key")) }
        let host = ex.ctx.header("host") ?? "localhost"
        let rawPath = "/" + SigV4.uriEncode(Array(bucket.utf8), encodeSlash: true) + "/" + SigV4.uriEncode(Array(body.key.utf8), encodeSlash: false)
        let now = Date()
        let q = SigV4Signer.presign(
            method: "GET", rawPath: rawPath, host: host, accessKey: signer.accessKey, secret: signer.secret, region: state.current.region,
            date: now, expires: body.expiresIn)
        let url = (ex.ctx.tls ? "https://" : "http://") + host + rawPath + "?" + q
        audit(ex, p, "share link made", ["bucket": bucket, "key": body.key, "expires_in": String(body.expiresIn)])
        await sendJSON(ex, ShareLink(url: url, expiresAt: now.addingTimeInterval(Double(body.expiresIn)), accessKey: signer.accessKey), status: .created)
    }

    // MARK: passwords

    static func checkPolicy(_ password: String, force: Bool) throws {
        guard password.utf8.count <= 1024 else { throw RestError.invalid(Message("rest.password_too_long")) }
        if force { return }
        let v = PasswordPolicy.evaluate(password)
        guard v.isEmpty else {
            throw RestError(
                status: .badRequest, code: "validation", message: Message("rest.weak_password", v.map { $0.message.english }.joined(separator: " ")))
        }
    }

    func setPassword(_ tenant: String, _ user: String, _ body: PasswordRequest, _ rest: RestAPI) async throws {
        try Self.checkPolicy(body.password, force: body.force ?? false)
        let hash = try await hashing(rest) { try Passwords.hash(body.password) }
        try await state.store.setPassword(tenant: tenant, user: user, hash: hash)
    }

    /// Runs scrypt off the event loop, a few at a time.
    func hashing<T: Sendable>(_ rest: RestAPI, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard rest.hashing.wrappingAdd(1, ordering: .relaxed).newValue <= RestAPI.maxHashing else {
            rest.hashing.subtract(1, ordering: .relaxed)
            throw RestError(status: .serviceUnavailable, code: "busy", message: Message("rest.busy"), headers: [("Retry-After", "1")])
        }
        defer { rest.hashing.subtract(1, ordering: .relaxed) }
        return try await state.blocking(work)
    }

    func checkPassword(_ password: String, _ hash: String?, _ rest: RestAPI) async throws -> Bool {
        // The dummy hash is made (once) off the event loop too: it costs as much as a check.
        let ok = try await hashing(rest) { Passwords.verify(password, against: hash ?? RestAPI.dummyHash) }
        return ok && hash != nil
    }

    func login(_ ex: Exchange, _ rest: RestAPI) async throws {
        let body = try await readJSON(ex, LoginRequest.self)
        let userKey = [LoginThrottle.userKey(tenant: body.tenant, user: body.user)]
        let addressKey = [LoginThrottle.addressKey(Self.clientAddress(ex))]
        let now = Date()
        let t = now.timeIntervalSince1970
        let wait = max(rest.userThrottle.wait(keys: userKey, now: t), rest.addressThrottle.wait(keys: addressKey, now: t))
        if wait > 0 {
            let secs = String(Int(wait.rounded(.up)))
            state.logger.notice("login refused: too many failures", metadata: ["tenant": "\(body.tenant)", "user": "\(body.user)", "client": "\(ex.ctx.remote)"])
            throw RestError(status: .tooManyRequests, code: "too_many_attempts", message: Message("rest.throttled", secs), headers: [("Retry-After", secs)])
        }
        guard body.password.utf8.count <= 1024, body.tenant.utf8.count <= 64, body.user.utf8.count <= 64 else {
            throw RestError(status: .unauthorized, code: "bad_login", message: Message("rest.bad_login"))
        }
        let c = try await state.store.credentials(tenant: body.tenant, user: body.user)
        guard try await checkPassword(body.password, c?.passwordHash, rest), let c else {
            let failedAt = Date().timeIntervalSince1970
            rest.userThrottle.failed(keys: userKey, now: failedAt)
            rest.addressThrottle.failed(keys: addressKey, now: failedAt)
            state.logger.notice("login failed", metadata: ["tenant": "\(body.tenant)", "user": "\(body.user)", "client": "\(ex.ctx.remote)"])
            throw RestError(status: .unauthorized, code: "bad_login", message: Message("rest.bad_login"))
        }
        rest.userThrottle.succeeded(keys: userKey)
        rest.addressThrottle.succeeded(keys: addressKey)
        let token = Passwords.newToken()
        let expires = now.addingTimeInterval(Double(state.current.sessionHours) * 3600)
        try await state.store.createSession(tokenHash: Passwords.tokenHash(token), userID: c.user.id, now: now, expires: expires)
        state.logger.info("login", metadata: ["tenant": "\(c.tenant.name)", "user": "\(c.user.name)", "client": "\(ex.ctx.remote)"])
        let p = Principal(accessKey: "", secret: "", user: c.user, tenant: c.tenant)
        await sendJSON(ex, LoginResponse(token: token, expiresAt: expires, me: Self.me(p)))
    }

    /// A director user's login: the token is checked with the director (whose session is it?), the
    /// rights of its roles give the VOSS role (SPEC.md §3), its organization is the tenant.
    func directorLogin(_ ex: Exchange, _ rest: RestAPI) async throws {
        let body = try await readJSON(ex, DirectorLoginRequest.self)
        let addressKey = [LoginThrottle.addressKey(Self.clientAddress(ex))]
        let now = Date()
        let wait = rest.addressThrottle.wait(keys: addressKey, now: now.timeIntervalSince1970)
        if wait > 0 {
            let secs = String(Int(wait.rounded(.up)))
            throw RestError(status: .tooManyRequests, code: "too_many_attempts", message: Message("rest.throttled", secs), headers: [("Retry-After", secs)])
        }
        guard let d = state.current.director else {
            throw RestError(status: .conflict, code: "director_disabled", message: Message("rest.director_disabled"))
        }
        guard (8...4096).contains(body.token.utf8.count) else { throw RestError(status: .unauthorized, code: "bad_login", message: Message("rest.director_token")) }
        let client: DirectorClient
        do { client = try DirectorClient(url: d.url, tls: UpstreamTLSOptions(verify: d.tlsVerify), group: ex.channel.eventLoop) } catch {
            throw RestError(status: .serviceUnavailable, code: "unavailable", message: Message("rest.director_unavailable", "\(error)"))
        }
        defer { client.close() }
        let session: DirectorSession?
        let rights: Set<String>
        do {
            session = try await client.currentSession(token: body.token, version: d.apiVersion)
            guard let session else {
                rest.addressThrottle.failed(keys: addressKey, now: Date().timeIntervalSince1970)
                throw RestError(status: .unauthorized, code: "bad_login", message: Message("rest.director_token"))
            }
            rights = try await directorRights(session, client, d, rest)
        } catch let e as RestError {
            throw e
        } catch {
            state.logger.warning("cloud director unreachable", metadata: ["url": "\(d.url)", "error": "\(error)"])
            throw RestError(status: .serviceUnavailable, code: "unavailable", message: Message("rest.director_unavailable", "\(error)"), headers: [("Retry-After", "5")])
        }
        guard let session, let role = DirectorRights.role(rights) else {
            throw RestError(status: .forbidden, code: "no_access", message: Message("rest.director_no_access"))
        }
        guard AdminAPI.validName(session.org), !session.user.isEmpty, session.user.utf8.count <= 128,
            session.user.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else { throw RestError.invalid(Message("identity.bad_name", session.org + "/" + session.user)) }
        let (tenant, user) = try await state.store.ensureUser(tenant: session.org, user: session.user, role: role)
        let token = Passwords.newToken()
        let expires = now.addingTimeInterval(Double(state.current.sessionHours) * 3600)
        try await state.store.createSession(tokenHash: Passwords.tokenHash(token), userID: user.id, now: now, expires: expires)
        state.logger.info("login through the director", metadata: ["tenant": "\(tenant.name)", "user": "\(user.name)", "role": "\(role.rawValue)", "client": "\(ex.ctx.remote)"])
        let p = Principal(accessKey: "", secret: "", user: user, tenant: tenant)
        await sendJSON(ex, LoginResponse(token: token, expiresAt: expires, me: Self.me(p)))
    }

    /// The rights of the session's roles, read with VOSS's own provider session (renewed once when the
    /// director no longer accepts it).
    func directorRights(_ s: DirectorSession, _ client: DirectorClient, _ d: DirectorSettings, _ rest: RestAPI) async throws -> Set<String> {
        for attempt in 0..<2 {
            let token: String
            if attempt == 0, let (settings, t) = rest.directorToken.withLock({ $0 }), settings == d {
                token = t
            } else {
                token = try await client.providerLogin(user: d.user, password: d.secret, version: d.apiVersion)
                rest.directorToken.withLock { $0 = (d, token) }
            }
            do {
                var rights = Set<String>()
                for id in s.roleIDs { rights.formUnion(try await client.roleRights(roleID: id, token: token, version: d.apiVersion)) }
                return rights
            } catch let e as UpstreamError {
                if case .status(let code, _, _) = e, code == 401, attempt == 0 {
                    rest.directorToken.withLock { $0 = nil }
                    continue
                }
                throw e
            }
        }
        return []
    }

    /// The client's address without its port (the PROXY header's, behind the translator).
    static func clientAddress(_ ex: Exchange) -> String {
        if let a = ex.channel.remoteAddress, a.description == ex.ctx.remote, let ip = a.ipAddress { return ip }
        let remote = ex.ctx.remote
        if let i = remote.range(of: "]:", options: .backwards) { return String(remote[..<i.lowerBound]) + "]" }
        if remote.filter({ $0 == ":" }).count == 1, let i = remote.lastIndex(of: ":") { return String(remote[..<i]) }
        return remote
    }
}
