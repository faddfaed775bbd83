import VossBase
import Foundation
import Logging
import VossS3Core
import VossS3Store
import VossSigV4

/// Bucket policies: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, and the decision for a
/// request (`VossS3Core.BucketPolicy` evaluates; this gathers what the request says).
extension S3Service {
    /// What the bucket's policy says about this request (`key`: the object it addresses).
    func policyDecision(_ ex: S3Call, _ b: BucketRecord, key: String?, action: String? = nil) -> BucketPolicy.Decision {
        guard let policy = b.settings.policy else { return .none }
        let ctx = ex.ctx
        let versioned = ctx.query["versionId"] != nil
        let request = BucketPolicy.Request(
            action: action ?? ctx.operation.policyAction(versioned: versioned),
            resource: "arn:aws:s3:::" + b.name + (key.map { "/" + $0 } ?? ""),
            tenantID: ctx.principal?.tenant.id, userID: ctx.principal?.user.id, userName: ctx.principal?.user.name,
            ownerTenantID: b.tenantID, keys: conditionKeys(ctx))
        return policy.evaluate(request)
    }

    /// The condition keys of a request, lower-cased (policies compare key names case-insensitively).
    func conditionKeys(_ ctx: RequestContext) -> [String: [String]] {
        var k: [String: [String]] = [:]
        if let ip = PeerAddress.ip(ctx.remote) { k["aws:sourceip"] = [ip] }
        k["aws:securetransport"] = [ctx.tls ? "true" : "false"]
        let now = Date()
        k["aws:currenttime"] = [HTTPDate.iso(now)]
        k["aws:epochtime"] = [String(Int64(now.timeIntervalSince1970))]
        if let ua = ctx.header("user-agent") { k["aws:useragent"] = [ua] }
        if let r = ctx.header("referer") { k["aws:referer"] = [r] }
        if let p = ctx.principal {
            k["aws:principaltype"] = ["User"]
            k["aws:username"] = [p.user.name]
            k["aws:userid"] = [p.user.id]
            k["aws:principalaccount"] = [p.tenant.id]
            k["s3:signatureversion"] = [ctx.auth == nil ? "AWS" : "AWS4-HMAC-SHA256"]
            k["s3:authtype"] = [ctx.auth?.presigned == true || ctx.query["Signature"] != nil ? "REST-QUERY-STRING" : "REST-HEADER"]
        } else {
            k["aws:principaltype"] = ["Anonymous"]
        }
        for q in ["prefix", "delimiter", "max-keys"] { if let v = ctx.query[q] { k["s3:" + q] = [v] } }
        if let v = ctx.query["versionId"] { k["s3:versionid"] = [v] }
        for h in [
            "x-amz-acl", "x-amz-content-sha256", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-server-side-encryption",
            "x-amz-storage-class", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-full-control",
        ] {
            if let v = ctx.header(h) { k["s3:" + h] = [v] }
        }
        if let t = ctx.header("x-amz-tagging"), case .success(let tags) = Tags.parseHeader(t) {
            k["s3:requestobjecttagkeys"] = Array(tags.keys)
            for (tk, tv) in tags { k["s3:requestobjecttag/" + tk.lowercased()] = [tv] }
        }
        return k
    }

    func bucketPolicy(_ ex: S3Call) async throws -> S3Response {
        try await bucketSetting(
            ex, \.policy, missing: "NoSuchBucketPolicy", "The bucket policy does not exist", limit: BucketPolicy.maxBytes + 1, putStatus: 204,
            render: { S3Response(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(Array($0.text.utf8))) },
            parse: { body, b in try BucketPolicy.parse(body, bucket: b.name).get() })
    }

    func bucketPolicyStatus(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .owner)
        guard let p = b.settings.policy else {
            throw S3Error("NoSuchBucketPolicy", status: 404, message: "The bucket policy does not exist", details: [("BucketName", b.name)])
        }
        var x = XMLWriter()
        x.open("PolicyStatus", xmlns: true)
        x.element("IsPublic", p.isPublic)
        x.close("PolicyStatus")
        return .xml(x.document)
    }
}

/// The client's IP address from a peer description (`[IPv4]127.0.0.1/127.0.0.1:5000` as NIO
/// writes it, `127.0.0.1:5000`, `[::1]:5000`).
enum PeerAddress {
    static func ip(_ peer: String) -> String? {
        var s = Substring(peer)
        if s.hasPrefix("[IPv4]") || s.hasPrefix("[IPv6]") {
            s = s.dropFirst(6)
            if let slash = s.firstIndex(of: "/") { s = s[s.index(after: slash)...] }
        }
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            return String(s[s.index(after: s.startIndex)..<close])
        }
        // The port follows the last colon (IPv4 `host:port`, and NIO's IPv6 form `::1:port`).
        guard let colon = s.lastIndex(of: ":") else { return String(s) }
        return String(s[..<colon])
    }
}
