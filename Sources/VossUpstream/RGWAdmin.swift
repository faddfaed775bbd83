import Foundation
import NIOCore
import NIOHTTP1
import VossBase
import VossBlobStore
import VossS3Store
import VossSigV4

/// Makes the upstream identity of a tenant: a user with keys (and a quota), and the bucket that
/// holds the tenant's blobs. Every step is idempotent, so a provisioning that failed half way is
/// finished by the next attempt rather than left half made.
public protocol TenantProvisioner: Sendable {
    func provision(platform: String, tenantID: String) async throws -> PlatformAccount
    /// Checks that the admin endpoint answers and accepts the credentials.
    func check() async throws
}

/// Ceph RGW's admin operations API (`/admin/user`, `/admin/user?key`, `/admin/user?quota`), signed
/// with SigV4 like S3 requests; the caller's user needs the `users=*` capability.
public struct RGWAdmin: TenantProvisioner {
    public let s3: UpstreamS3
    public let admin: UpstreamCredentials
    /// Per-tenant quota in bytes (nil: none).
    public let quotaBytes: Int64?

    public init(s3: UpstreamS3, admin: UpstreamCredentials, quotaBytes: Int64?) {
        self.s3 = s3
        self.admin = admin
        self.quotaBytes = quotaBytes
    }

    public static func uid(_ tenantID: String) -> String { "voss-\(tenantID.lowercased())" }

    struct UserInfo: Decodable {
        struct Key: Decodable {
            var user: String?
            var access_key: String
            var secret_key: String
        }
        var user_id: String
        var keys: [Key]
    }

    /// The user, or nil when RGW has none by that id.
    func user(_ uid: String) async throws -> UserInfo? {
        let (head, body) = try await s3.call(
            .GET, path: "/admin/user", query: AdminCall.query([("format", "json"), ("uid", uid)]), credentials: admin)
        if head.status.code == 404 { return nil }
        try UpstreamS3.expect(head, body, [200])
        do { return try JSONDecoder().decode(UserInfo.self, from: Data(body)) } catch {
            throw UpstreamError.protocolError("RGW's user info could not be read: \(error)")
        }
    }

    public func check() async throws {
        // Asking for a user that does not exist needs the `users` capability and nothing else.
        _ = try await user("voss-admin-check")
    }

    public func provision(platform: String, tenantID: String) async throws -> PlatformAccount {
        let uid = Self.uid(tenantID)
        var info = try await user(uid)
        if info == nil {
            let access = Self.randomKey(20, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let secret = Self.randomKey(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            let (head, body) = try await s3.call(
                .PUT, path: "/admin/user",
                query: AdminCall.query([
                    ("access-key", access), ("display-name", "VOSS tenant \(tenantID)"), ("format", "json"), ("secret-key", secret),
                    ("uid", uid),
                ]), credentials: admin)
            // Another node may have made it meanwhile: read it back either way.
            if head.status.code != 409 { try UpstreamS3.expect(head, body, [200]) }
            info = try await user(uid)
        }
        guard var info else { throw UpstreamError.protocolError("RGW did not keep the user \(uid)") }
        if info.keys.first(where: { $0.user == nil || $0.user == uid }) == nil {
            let (head, body) = try await s3.call(
                .PUT, path: "/admin/user", query: AdminCall.query([("format", "json"), ("generate-key", "True"), ("key", ""), ("uid", uid)]),
                credentials: admin)
            try UpstreamS3.expect(head, body, [200])
            guard let again = try await user(uid) else { throw UpstreamError.protocolError("RGW lost the user \(uid)") }
            info = again
        }
        guard let key = info.keys.first(where: { $0.user == nil || $0.user == uid }) else {
            throw UpstreamError.protocolError("RGW made no key for \(uid)")
        }
        if let quotaBytes {
            let kb = (quotaBytes + 1023) / 1024
            let (head, body) = try await s3.call(
                .PUT, path: "/admin/user",
                query: AdminCall.query([
                    ("enabled", "true"), ("format", "json"), ("max-objects", "-1"), ("max-size-kb", String(kb)), ("quota", ""),
                    ("quota-type", "user"), ("uid", uid),
                ]), credentials: admin)
            try UpstreamS3.expect(head, body, [200])
        }
        let creds = UpstreamCredentials(accessKey: key.access_key, secret: key.secret_key)
        let bucket = uid
        try await s3.createBucket(bucket, credentials: creds)
        return PlatformAccount(platform: platform, tenantID: tenantID, accessKey: key.access_key, secret: key.secret_key, bucket: bucket)
    }

    static func randomKey(_ n: Int, alphabet: String) -> String {
        let a = Array(alphabet)
        var rng = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in a[Int.random(in: 0..<a.count, using: &rng)] })
    }
}
