import NIOCore
import NIOHTTP1
import VossBase
import VossS3Core
import VossBlobStore
import VossConfig
import VossS3Store

/// Upstream platforms from their configuration (`platforms.s3.NAME.*`), and the check `ose platforms
/// s3 set` runs before it saves one.
public enum PlatformFactory {
    struct Parts {
        var s3: UpstreamS3
        var credentials: UpstreamCredentials
        var tenancy: UpstreamTenancy
        var provisioner: (any TenantProvisioner)?
    }

    static func parts(_ c: UpstreamPlatformConfig, group: any EventLoopGroup, connectTimeout: TimeAmount = .seconds(5),
                      responseTimeout: TimeAmount = .seconds(60)) throws -> Parts
    {
        guard let endpoint = UpstreamEndpoint.parse(c.url) else { throw UpstreamError.protocolError("'\(c.url)' is not an http(s) URL") }
        let http = try UpstreamHTTPClient(
            endpoint: endpoint, tls: UpstreamTLSOptions(verify: c.verifyTLS, caFile: c.caFile), group: group,
            connectTimeout: connectTimeout, responseTimeout: responseTimeout)
        let s3 = UpstreamS3(http: http, region: c.region)
        let creds = UpstreamCredentials(accessKey: c.accessKey, secret: c.secret)
        let shared = c.tenancy == "shared"
        let quota = c.quotaGB.map { Int64($0) << 30 }
        let provisioner: (any TenantProvisioner)?
        switch c.kind {
        case "cloudian", "ecs":
            guard let url = c.adminURL, let adminEndpoint = UpstreamEndpoint.parse(url) else {
                throw UpstreamError.protocolError("the \(c.kind) admin URL is missing or not an http(s) URL")
            }
            let admin = try UpstreamHTTPClient(
                endpoint: adminEndpoint, tls: UpstreamTLSOptions(verify: c.verifyTLS, caFile: c.caFile), group: group,
                connectTimeout: connectTimeout, responseTimeout: responseTimeout)
            let user = c.adminUser ?? "", password = c.adminSecret ?? ""
            provisioner = c.kind == "cloudian"
                ? HyperStoreAdmin(http: admin, user: user, password: password, s3: s3, quotaBytes: quota)
                : ECSAdmin(http: admin, user: user, password: password, s3: s3, quotaBytes: quota)
        default:
            provisioner = shared ? nil : RGWAdmin(s3: s3, admin: creds, quotaBytes: quota)
        }
        return Parts(s3: s3, credentials: creds, tenancy: shared ? .shared(bucket: c.bucket) : .provisioned, provisioner: provisioner)
    }

    /// Whether an S3 service answers at all (any HTTP answer to an anonymous ListBuckets).
    public static func reachable(_ url: String, verifyTLS: Bool = true, caFile: String? = nil, group: any EventLoopGroup) async -> String? {
        guard let endpoint = UpstreamEndpoint.parse(url) else { return "'\(url)' is not an http(s) URL" }
        do {
            let http = try UpstreamHTTPClient(
                endpoint: endpoint, tls: UpstreamTLSOptions(verify: verifyTLS, caFile: caFile), group: group, connectTimeout: .seconds(3),
                responseTimeout: .seconds(10))
            defer { http.closeIdle() }
            let ex = try await http.start(method: .GET, uri: "/", headers: [])
            try await ex.finishRequest()
            _ = try await ex.response()
            _ = try? await ex.readAll(limit: 1 << 20)
            return nil
        } catch {
            return "the service at \(url) is not usable: \(error)"
        }
    }

    public static func make(_ c: UpstreamPlatformConfig, store: any MetadataStore, group: any EventLoopGroup) throws -> S3UpstreamPlatform {
        let p = try parts(c, group: group)
        return S3UpstreamPlatform(
            name: c.name, s3: p.s3, credentials: p.credentials, tenancy: p.tenancy, provisioner: p.provisioner, store: store)
    }

    /// What is wrong with a vendor platform's admin API settings, in words (empty: it accepts them).
    public static func checkAdmin(_ c: UpstreamPlatformConfig, group: any EventLoopGroup) async -> [String] {
        do {
            let p = try parts(c, group: group, connectTimeout: .seconds(3), responseTimeout: .seconds(10))
            try await p.provisioner?.check()
            return []
        } catch {
            return ["the \(c.kind) admin API at \(c.adminURL ?? "") is not usable: \(error)"]
        }
    }

    /// What is wrong with a platform's configuration, in words (empty: it answers and accepts the keys).
    public static func check(_ c: UpstreamPlatformConfig, group: any EventLoopGroup) async -> [String] {
        let p: Parts
        do { p = try parts(c, group: group, connectTimeout: .seconds(3), responseTimeout: .seconds(10)) } catch {
            return ["\(error)"]
        }
        defer { p.s3.http.closeIdle() }
        if c.kind == "cloudian" || c.kind == "ecs" {
            if let problem = await reachable(c.url, verifyTLS: c.verifyTLS, caFile: c.caFile, group: group) { return [problem] }
            do { try await p.provisioner?.check() } catch { return ["the \(c.kind) admin API at \(c.adminURL ?? "") is not usable: \(error)"] }
            return []
        }
        do {
            _ = try await p.s3.listBuckets(credentials: p.credentials)
        } catch let e as UpstreamError {
            switch e {
            case .status(let s, let code, let message) where s == 403 || s == 401:
                return ["the S3 service at \(c.url) refused the access key: \(code) \(message)".trimmingWhitespace()]
            default: return ["the S3 service at \(c.url) is not usable: \(e)"]
            }
        } catch {
            return ["the S3 service at \(c.url) is not usable: \(error)"]
        }
        switch p.tenancy {
        case .shared(let bucket):
            do {
                if try await !p.s3.headBucket(bucket, credentials: p.credentials) { try await p.s3.createBucket(bucket, credentials: p.credentials) }
            } catch {
                return ["the bucket '\(bucket)' cannot be used with these keys: \(error)"]
            }
        case .provisioned:
            do { try await p.provisioner?.check() } catch {
                return ["the admin API at \(c.url)/admin refused to manage users with these keys (the user needs the users=* capability): \(error)"]
            }
        }
        return []
    }
}
