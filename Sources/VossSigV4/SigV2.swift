import Crypto
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS Signature Version 2 (HMAC-SHA1), still what boto3 uses for presigned URLs to non-AWS endpoints
/// (`?AWSAccessKeyId=…&Expires=…&Signature=…`) and what older tools send as `Authorization: AWS AK:SIG`.
/// Verification only; the payload is not signed (Content-MD5 is, when sent).
public enum SigV2 {
    /// Query parameters that are part of the signed resource (the sub-resources S3 defines).
    static let subresources: Set<String> = [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy", "requestPayment",
        "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId", "response-content-type",
        "response-content-language", "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "delete", "lifecycle", "tagging", "restore", "storageClass", "notification",
        "replication", "analytics", "metrics", "inventory", "select", "select-type", "object-lock",
    ]

    /// The access key a SigV2 request names, if it is one.
    public static func claimedAccessKey(authorization: String?, query: [String: String]) -> String? {
        if let a = authorization, a.hasPrefix("AWS "), let colon = a.lastIndex(of: ":") {
            return String(a[a.index(a.startIndex, offsetBy: 4)..<colon])
        }
        return query["AWSAccessKeyId"]
    }

    public static func isSigV2(authorization: String?, query: [String: String]) -> Bool {
        if let a = authorization { return a.hasPrefix("AWS ") }
        return query["AWSAccessKeyId"] != nil && query["Signature"] != nil
    }

    /// `/bucket/key?subresources`: the raw path as sent (with the bucket prepended for virtual-hosted
    /// requests), then the signed sub-resources sorted, values decoded.
    public static func canonicalResource(rawPath: String, rawQuery: String, virtualHostBucket: String?) -> String {
        var buf = virtualHostBucket.map { "/" + $0 + (rawPath.isEmpty ? "/" : rawPath) } ?? rawPath
        var pairs: [(String, String?)] = []
        for item in rawQuery.split(separator: "&") {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0])
            guard subresources.contains(name) else { continue }
            let value = kv.count > 1 ? SigV4.percentDecode(kv[1]).map { String(decoding: $0, as: UTF8.self) } : nil
            pairs.append((name, value))
        }
        if !pairs.isEmpty {
            pairs.sort { $0.0 < $1.0 }
            buf += "?" + pairs.map { p in p.1.map { v in "\(p.0)=\(v)" } ?? p.0 }.joined(separator: "&")
        }
        return buf
    }

    static func amzHeaders(_ r: SignedRequest) -> String {
        var byName: [String: [String]] = [:]
        for (n, v) in r.headers {
            let l = n.lowercased()
            if l.hasPrefix("x-amz-") { byName[l, default: []].append(Substring(v).trimmingSpaces()) }
        }
        return byName.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.joined(separator: ","))\n" }.joined()
    }

    public static func stringToSign(_ r: SignedRequest, dateOrExpires: String, virtualHostBucket: String?) -> String {
        [
            r.method, r.header("content-md5") ?? "", r.header("content-type") ?? "", dateOrExpires,
        ].joined(separator: "\n") + "\n" + amzHeaders(r)
            + canonicalResource(rawPath: r.rawPath, rawQuery: r.rawQuery, virtualHostBucket: virtualHostBucket)
    }

    public static func signature(secret: String, stringToSign: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Verifies a SigV2 request; `secret` looks the secret up by access key.
    public static func verify(
        _ r: SignedRequest, virtualHostBucket: String?, now: Date, secret: (String) -> String?
    ) -> Result<String, AuthFailure> {
        let q = r.queryParameters
        let accessKey: String
        let given: String
        let dateField: String
        if let auth = r.header("authorization") {
            guard auth.hasPrefix("AWS "), let colon = auth.lastIndex(of: ":") else {
                return .failure(AuthFailure("InvalidArgument", "Unsupported Authorization Type"))
            }
            accessKey = String(auth[auth.index(auth.startIndex, offsetBy: 4)..<colon])
            given = String(auth[auth.index(after: colon)...])
            let stamp = r.header("x-amz-date") ?? r.header("date")
            guard let stamp, let t = HTTPDate.parse(stamp) ?? SigV4.parseAmzDate(stamp) else {
                return .failure(AuthFailure("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"))
            }
            if abs(t.timeIntervalSince(now)) > SigV4.maxSkew {
                return .failure(AuthFailure("RequestTimeTooSkewed", "The difference between the request time and the current time is too large."))
            }
            dateField = r.header("x-amz-date") != nil ? "" : (r.header("date") ?? "")
        } else {
            guard let ak = q["AWSAccessKeyId"], let sig = q["Signature"], let exp = q["Expires"], let e = ASCIIDecimal.int64(exp) else {
                return .failure(AuthFailure("AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"))
            }
            if now.timeIntervalSince1970 > TimeInterval(e) {
                return .failure(AuthFailure("AccessDenied", "Request has expired"))
            }
            accessKey = ak
            given = sig
            dateField = exp
        }
        guard let s = secret(accessKey) else {
            return .failure(AuthFailure("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."))
        }
        let expected = signature(secret: s, stringToSign: stringToSign(r, dateOrExpires: dateField, virtualHostBucket: virtualHostBucket))
        // A bucket addressed path-style without a trailing slash (`/bucket?list-type=2`): botocore
        // signs it as `/bucket/`, other clients as sent. Either names the same resource.
        var bucketOnly = r
        bucketOnly.rawPath += "/"
        let isBucketPath = virtualHostBucket == nil && r.rawPath.count > 1 && !r.rawPath.dropFirst().contains("/")
        guard SigV4.signaturesEqual(expected, given)
            || (isBucketPath
                && SigV4.signaturesEqual(
                    signature(secret: s, stringToSign: stringToSign(bucketOnly, dateOrExpires: dateField, virtualHostBucket: nil)), given))
        else {
            return .failure(AuthFailure("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."))
        }
        return .success(accessKey)
    }
}
