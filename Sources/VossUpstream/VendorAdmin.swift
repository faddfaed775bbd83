import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import VossBase
import VossS3Core
import VossS3Store
import VossSigV4

/// A request to an admin API that authenticates with a user name and password (HTTP Basic) or a
/// session token, its whole answer read. Retried once on a fresh connection when a pooled one turned
/// out to be closed.
struct AdminCall {
    let http: UpstreamHTTPClient

    func callAsFunction(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: [UInt8] = [])
        async throws -> (HTTPResponseHead, [UInt8])
    {
        try await http.send(method, uri: uri, body: body) { headers }
    }

    static func basic(_ user: String, _ password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }

    static func query(_ pairs: [(String, String)]) -> String {
        pairs.map { SigV4.uriEncode(Array($0.0.utf8), encodeSlash: true) + "=" + SigV4.uriEncode(Array($0.1.utf8), encodeSlash: true) }
            .joined(separator: "&")
    }

    static func failure(_ what: String, _ head: HTTPResponseHead, _ body: [UInt8]) -> UpstreamError {
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingWhitespace()
        return .status(Int(head.status.code), code: what, message: text)
    }
}

/// Cloudian HyperStore's Admin API (port 19443, HTTP Basic as the system admin), from Cloudian's
/// published HyperStore Admin API reference: a group per tenant (`PUT /group`), a user in it
/// (`PUT /user`), S3 credentials for that user (`PUT /user/credentials`, listed with
/// `GET /user/credentials/list`), and a group quota (`POST /qos/limits`). `GET /group` and `GET /user`
/// answer 204 when there is none. No HyperStore runs here: the tests use a server written from that
/// reference (Tests/fakes/hyperstore_admin.py) with a real Ceph RGW as the S3 service.
public struct HyperStoreAdmin: TenantProvisioner {
    let call: AdminCall
    let auth: (String, String)
    let s3: UpstreamS3
    let quotaBytes: Int64?

    public init(http: UpstreamHTTPClient, user: String, password: String, s3: UpstreamS3, quotaBytes: Int64?) {
        call = AdminCall(http: http)
        auth = AdminCall.basic(user, password)
        self.s3 = s3
        self.quotaBytes = quotaBytes
    }

    public static func group(_ tenantID: String) -> String { "voss-\(tenantID.lowercased())" }
    public static let user = "voss"

    func json(_ method: HTTPMethod, _ path: String, _ query: [(String, String)] = [], body: [String: String]? = nil) async throws
        -> (Int, [UInt8])
    {
        var headers = [auth, ("Accept", "application/json")]
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        }
        let uri = query.isEmpty ? path : path + "?" + AdminCall.query(query)
        let (head, out) = try await call(method, uri, headers: headers, body: bytes)
        let code = Int(head.status.code)
        if code == 401 || code == 403 { throw AdminCall.failure("the HyperStore Admin API refused the system admin's user name or password", head, out) }
        return (code, out)
    }

    public func check() async throws {
        // Any answer but an authentication failure proves the endpoint and the credentials.
        let (code, body) = try await json(.GET, "/group", [("groupId", "voss-admin-check")])
        guard code == 200 || code == 204 else {
            throw UpstreamError.status(code, code: "AdminAPI", message: String(decoding: body.prefix(200), as: UTF8.self))
        }
    }

    public func provision(platform: String, tenantID: String) async throws -> PlatformAccount {
        let group = Self.group(tenantID)
        var (code, body) = try await json(.GET, "/group", [("groupId", group)])
        if code == 204 {
            (code, body) = try await json(.PUT, "/group", body: ["groupId": group, "groupName": "VOSS tenant \(tenantID)", "active": "true"])
            guard code == 200 || code == 409 else { throw UpstreamError.status(code, code: "PUT /group", message: String(decoding: body.prefix(200), as: UTF8.self)) }
        } else if code != 200 {
            throw UpstreamError.status(code, code: "GET /group", message: String(decoding: body.prefix(200), as: UTF8.self))
        }
        (code, body) = try await json(.GET, "/user", [("userId", Self.user), ("groupId", group)])
        if code == 204 {
            (code, body) = try await json(
                .PUT, "/user", body: ["userId": Self.user, "groupId": group, "userType": "User", "active": "true", "fullName": "VOSS"])
            guard code == 200 || code == 409 else { throw UpstreamError.status(code, code: "PUT /user", message: String(decoding: body.prefix(200), as: UTF8.self)) }
        } else if code != 200 {
            throw UpstreamError.status(code, code: "GET /user", message: String(decoding: body.prefix(200), as: UTF8.self))
        }
        struct Credential: Decodable {
            var accessKey: String
            var secretKey: String
            var active: Bool?
        }
        (code, body) = try await json(.GET, "/user/credentials/list", [("userId", Self.user), ("groupId", group)])
        var credential = code == 200 ? (try? JSONDecoder().decode([Credential].self, from: Data(body)))?.first { $0.active != false } : nil
        if credential == nil {
            (code, body) = try await json(.PUT, "/user/credentials", [("userId", Self.user), ("groupId", group)])
            guard code == 200, let made = try? JSONDecoder().decode(Credential.self, from: Data(body)) else {
                throw UpstreamError.status(code, code: "PUT /user/credentials", message: String(decoding: body.prefix(200), as: UTF8.self))
            }
            credential = made
        }
        guard let credential else { throw UpstreamError.protocolError("HyperStore made no S3 credentials for \(group)") }
        if let quotaBytes {
            (code, body) = try await json(
                .POST, "/qos/limits",
                [("groupId", group), ("userId", "*"), ("hlStorageQuotaKBytes", String((quotaBytes + 1023) / 1024)), ("wlStorageQuotaKBytes", "-1")])
            guard code == 200 || code == 204 else { throw UpstreamError.status(code, code: "POST /qos/limits", message: String(decoding: body.prefix(200), as: UTF8.self)) }
        }
        let creds = UpstreamCredentials(accessKey: credential.accessKey, secret: credential.secretKey)
        try await s3.createBucket(group, credentials: creds)
        return PlatformAccount(platform: platform, tenantID: tenantID, accessKey: credential.accessKey, secret: credential.secretKey, bucket: group)
    }
}

/// Dell ECS's Management REST API (port 4443), from Dell's published ECS REST API reference: a session
/// token from `GET /login` (HTTP Basic) sent as `X-SDS-AUTH-TOKEN`; a namespace per tenant
/// (`POST /object/namespaces/namespace`, on the first replication group of
/// `GET /vdc/data-service/vpools`), an object user in it (`POST /object/users`), its secret key
/// (`POST /object/user-secret-keys/{uid}`; the S3 access key is the user id), and a namespace quota
/// (`PUT /object/namespaces/namespace/{ns}/quota`). No ECS runs here: the tests use a server written
/// from that reference (Tests/fakes/ecs_mgmt.py) with a real Ceph RGW as the S3 service.
public final class ECSAdmin: TenantProvisioner, Sendable {
    let call: AdminCall
    let user: String
    let password: String
    let s3: UpstreamS3
    let quotaBytes: Int64?
    let token = Mutex<String?>(nil)

    public init(http: UpstreamHTTPClient, user: String, password: String, s3: UpstreamS3, quotaBytes: Int64?) {
        call = AdminCall(http: http)
        self.user = user
        self.password = password
        self.s3 = s3
        self.quotaBytes = quotaBytes
    }

    public static func namespace(_ tenantID: String) -> String { "voss-\(tenantID.lowercased())" }
    public static func objectUser(_ tenantID: String) -> String { "voss-\(tenantID.lowercased())" }

    func login() async throws -> String {
        if let t = token.withLock({ $0 }) { return t }
        let (head, body) = try await call(.GET, "/login", headers: [AdminCall.basic(user, password)])
        guard head.status.code == 200, let t = head.headers.first(name: "x-sds-auth-token"), !t.isEmpty else {
            if head.status.code == 401 || head.status.code == 403 {
                throw AdminCall.failure("the ECS Management API refused the user name or password", head, body)
            }
            throw AdminCall.failure("ECS login", head, body)
        }
        token.withLock { $0 = t }
        return t
    }

    /// An XML request with the session token; a token that expired is renewed once.
    func xml(_ method: HTTPMethod, _ uri: String, _ body: String? = nil) async throws -> (Int, VossS3Core.XMLElement?, [UInt8]) {
        for attempt in 0..<2 {
            let t = try await login()
            var headers = [("X-SDS-AUTH-TOKEN", t), ("Accept", "application/xml")]
            if body != nil { headers.append(("Content-Type", "application/xml")) }
            let (head, out) = try await call(method, uri, headers: headers, body: Array((body ?? "").utf8))
            if head.status.code == 401 && attempt == 0 {
                token.withLock { $0 = nil }
                continue
            }
            return (Int(head.status.code), try? VossS3Core.XMLParser.parse(out), out)
        }
        throw UpstreamError.protocolError("ECS keeps refusing a fresh session token")
    }

    public func check() async throws {
        token.withLock { $0 = nil }
        _ = try await login()
    }

    static func x(_ s: String) -> String { XMLWriter.escape(s) }

    public func provision(platform: String, tenantID: String) async throws -> PlatformAccount {
        let ns = Self.namespace(tenantID), uid = Self.objectUser(tenantID)
        var (code, x, raw) = try await xml(.GET, "/object/namespaces/namespace/\(ns)")
        if code != 200 {
            let (vcode, vpools, vraw) = try await xml(.GET, "/vdc/data-service/vpools")
            guard vcode == 200, let vpool = vpools?.child("data_service_vpool")?.childText("id") else {
                throw UpstreamError.status(vcode, code: "GET /vdc/data-service/vpools", message: String(decoding: vraw.prefix(200), as: UTF8.self))
            }
            (code, x, raw) = try await xml(
                .POST, "/object/namespaces/namespace",
                "<namespace_create><namespace>\(Self.x(ns))</namespace><default_data_services_vpool>\(Self.x(vpool))</default_data_services_vpool></namespace_create>")
            guard code == 200 || code == 409 else {
                throw UpstreamError.status(code, code: "POST /object/namespaces/namespace", message: String(decoding: raw.prefix(200), as: UTF8.self))
            }
        }
        (code, x, raw) = try await xml(.GET, "/object/users/\(uid)/info?namespace=\(ns)")
        if code != 200 {
            (code, x, raw) = try await xml(
                .POST, "/object/users", "<user_create_param><user>\(Self.x(uid))</user><namespace>\(Self.x(ns))</namespace></user_create_param>")
            guard code == 200 || code == 409 else {
                throw UpstreamError.status(code, code: "POST /object/users", message: String(decoding: raw.prefix(200), as: UTF8.self))
            }
        }
        (code, x, raw) = try await xml(.GET, "/object/user-secret-keys/\(uid)/\(ns)")
        var secret = code == 200 ? x?.childText("secret_key_1").flatMap { $0.isEmpty ? nil : $0 } : nil
        if secret == nil {
            (code, x, raw) = try await xml(
                .POST, "/object/user-secret-keys/\(uid)", "<user_secret_key_create><namespace>\(Self.x(ns))</namespace></user_secret_key_create>")
            guard code == 200, let s = x?.childText("secret_key"), !s.isEmpty else {
                throw UpstreamError.status(code, code: "POST /object/user-secret-keys", message: String(decoding: raw.prefix(200), as: UTF8.self))
            }
            secret = s
        }
        if let quotaBytes {
            let gb = max(1, (quotaBytes + (1 << 30) - 1) >> 30)
            (code, x, raw) = try await xml(
                .PUT, "/object/namespaces/namespace/\(ns)/quota",
                "<namespace_quota_details><blockSize>\(gb)</blockSize><notificationSize>\(max(1, gb * 9 / 10))</notificationSize></namespace_quota_details>")
            guard code == 200 else { throw UpstreamError.status(code, code: "PUT quota", message: String(decoding: raw.prefix(200), as: UTF8.self)) }
        }
        guard let secret else { throw UpstreamError.protocolError("ECS made no secret key for \(uid)") }
        let creds = UpstreamCredentials(accessKey: uid, secret: secret)
        try await s3.createBucket(ns, credentials: creds)
        return PlatformAccount(platform: platform, tenantID: tenantID, accessKey: uid, secret: secret, bucket: ns)
    }
}
