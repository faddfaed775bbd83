import Crypto
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The parts of an HTTP request that SigV4 covers, as received.
public struct SignedRequest: Sendable {
    public var method: String
    /// The request target's path, still percent-encoded as the client sent it.
    public var rawPath: String
    /// The query string without `?`, as sent.
    public var rawQuery: String
    public var headers: [(String, String)]
    /// The decoded query, when the caller parsed it already (saves parsing it twice per request).
    public private(set) var parsedQuery: [String: String]?
    /// The query's decoded pairs in order (`SigV4.queryPairs`), parsed once by `parseQuery` for both
    /// the parameters and the canonical query; `nil` until then, or when an escape is malformed.
    public private(set) var queryPairs: [(name: [UInt8], value: [UInt8])]?

    public init(method: String, rawPath: String, rawQuery: String, headers: [(String, String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    public func header(_ name: String) -> String? {
        ASCII.value(of: name, in: headers)
    }

    /// Decodes the query once: fills `queryPairs` and `parsedQuery`, and returns the parameters.
    public mutating func parseQuery() -> [String: String] {
        queryPairs = SigV4.queryPairs(rawQuery)
        let q = Self.parameters(queryPairs ?? [])
        parsedQuery = q
        return q
    }

    /// Decoded query parameters (first value wins; malformed escapes are skipped).
    public var queryParameters: [String: String] {
        if let parsedQuery { return parsedQuery }
        return Self.parameters(SigV4.queryPairs(rawQuery) ?? [])
    }

    static func parameters(_ pairs: [(name: [UInt8], value: [UInt8])]) -> [String: String] {
        var out = [String: String](minimumCapacity: pairs.count)
        // Last to first, each name stored unconditionally: the first value wins, one hash per pair.
        for (k, v) in pairs.reversed() {
            out[String(decoding: k, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
        }
        return out
    }
}

/// How the body is protected, from `x-amz-content-sha256` (or `UNSIGNED-PAYLOAD` for presigned URLs).
public enum PayloadMode: Equatable, Sendable {
    /// The hex SHA-256 the body must have.
    case sha256(String)
    case unsigned
    /// `aws-chunked` with a signature per chunk (and, with `trailer`, signed trailing headers).
    case streamingSigned(trailer: Bool)
    /// `aws-chunked` without chunk signatures, with trailing headers (checksums).
    case streamingUnsignedTrailer
}

/// Why a request was not authenticated. `s3Code` is the S3 error code to answer with.
public struct AuthFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var s3Code: String
    public var message: String
    /// The extra elements AWS puts in the error body (`Region`, `AWSAccessKeyId`, `StringToSign`, …):
    /// clients read them (s3cmd retries with the `Region` of an AuthorizationHeaderMalformed).
    public var details: [(String, String)]

    public init(_ code: String, _ message: String, details: [(String, String)] = []) {
        s3Code = code
        self.message = message
        self.details = details
    }

    public static func == (a: AuthFailure, b: AuthFailure) -> Bool {
        a.s3Code == b.s3Code && a.message == b.message && a.details.map { "\($0.0)=\($0.1)" } == b.details.map { "\($0.0)=\($0.1)" }
    }

    public var description: String { "\(s3Code): \(message)" }

    static func malformed(_ m: String) -> AuthFailure { AuthFailure("AuthorizationHeaderMalformed", m) }
    static func query(_ m: String) -> AuthFailure { AuthFailure("AuthorizationQueryParametersError", m) }
}

/// A successfully verified request: who signed it and what the body must satisfy.
public struct AuthContext: Sendable {
    public var accessKey: String
    public var signingKey: SigningKey
    public var amzDate: String
    public var scope: String
    /// The request signature: the seed of the chunk signature chain.
    public var seedSignature: String
    public var payload: PayloadMode
    public var presigned: Bool
}

/// Verifies SigV4 requests against secrets looked up by access key.
public struct SigV4Verifier: Sendable {
    public var region: String
    public var service: String
    /// Other names a credential scope may give as its region (VOSS's platform names: a bucket on one
    /// answers GetBucketLocation with it, and SDKs then sign with that).
    public var otherRegions: Set<String>

    public init(region: String, service: String = "s3", otherRegions: Set<String> = []) {
        self.region = region
        self.service = service
        self.otherRegions = otherRegions
    }

    /// `nil` when the request carries no SigV4 credentials at all (anonymous).
    public func verify(
        _ r: SignedRequest, now: Date, signingKey: (_ accessKey: String, _ date: String, _ region: String) -> SigningKey?
    ) -> Result<AuthContext, AuthFailure>? {
        if let auth = r.header("authorization") {
            return verifyHeader(r, auth: auth, now: now, signingKey: signingKey)
        }
        let q = r.queryParameters
        if q["X-Amz-Algorithm"] != nil || q["X-Amz-Signature"] != nil || q["X-Amz-Credential"] != nil {
            return verifyPresigned(r, q: q, now: now, signingKey: signingKey)
        }
        return nil
    }

    struct Credential {
        var accessKey: String
        var date: String
        var region: String
        var service: String
        /// `date/region/service/aws4_request`: the credential after the access key, as sent.
        var scope: String
    }

    func parseCredential(_ s: String, failure: (String) -> AuthFailure) -> Result<Credential, AuthFailure> {
        // Five parts between slashes, found as byte offsets (no array of parts).
        let u = s.utf8
        var cuts: [String.Index] = []
        cuts.reserveCapacity(4)
        var i = u.startIndex
        while i != u.endIndex, cuts.count <= 4 {
            if u[i] == UInt8(ascii: "/") { cuts.append(i) }
            i = u.index(after: i)
        }
        func part(_ n: Int) -> Substring {
            let start = n == 0 ? s.startIndex : u.index(after: cuts[n - 1])
            return s[start..<(n < cuts.count ? cuts[n] : s.endIndex)]
        }
        guard cuts.count == 4, part(4) == "aws4_request", part(1).utf8.count == 8, !part(0).isEmpty else {
            return .failure(failure("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."))
        }
        let region = String(part(2))
        guard region == self.region || otherRegions.contains(region) else {
            var f = failure("the region '\(region)' is wrong; expecting '\(self.region)'")
            f.details = [("Region", self.region)]
            return .failure(f)
        }
        guard part(3) == service else {
            return .failure(failure("the service '\(part(3))' is wrong; expecting '\(service)'"))
        }
        return .success(
            Credential(
                accessKey: String(part(0)), date: String(part(1)), region: region, service: service,
                scope: String(s[u.index(after: cuts[0])...])))
    }

    func checkTime(amzDate: String, credentialDate: String, now: Date) -> AuthFailure? {
        guard let t = SigV4.parseAmzDate(amzDate) else {
            return AuthFailure("AccessDenied", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard amzDate.hasPrefix(credentialDate) else {
            return .malformed("the credential date \(credentialDate) does not match the request date \(amzDate)")
        }
        if abs(t.timeIntervalSince(now)) > SigV4.maxSkew {
            return AuthFailure(
                "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                details: [
                    ("RequestTime", amzDate), ("ServerTime", HTTPDate.iso(now)),
                    ("MaxAllowedSkewMilliseconds", String(Int(SigV4.maxSkew * 1000))),
                ])
        }
        return nil
    }

    func verifyHeader(
        _ r: SignedRequest, auth: String, now: Date, signingKey: (String, String, String) -> SigningKey?
    ) -> Result<AuthContext, AuthFailure> {
        guard auth.hasPrefix(SigV4.algorithm + " ") else {
            if auth.hasPrefix("AWS ") {
                return .failure(AuthFailure("InvalidRequest", "Signature Version 2 is not supported; use AWS4-HMAC-SHA256."))
            }
            return .failure(AuthFailure("InvalidArgument", "Unsupported Authorization Type"))
        }
        var fields: [String: String] = [:]
        for part in auth.dropFirst(SigV4.algorithm.count + 1).splitASCII(UInt8(ascii: ",")) {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            fields[kv[0].trimmingSpaces()] = kv[1].trimmingSpaces()
        }
        guard let credText = fields["Credential"], let signedText = fields["SignedHeaders"], let sig = fields["Signature"]
        else {
            return .failure(.malformed("the authorization header is malformed; it needs Credential, SignedHeaders and Signature"))
        }
        let cred: Credential
        switch parseCredential(credText, failure: AuthFailure.malformed) {
        case .success(let c): cred = c
        case .failure(let f): return .failure(f)
        }
        let signed = signedText.splitASCII(UInt8(ascii: ";")).map { String($0).lowercased() }
        guard signed.contains("host") else { return .failure(.malformed("SignedHeaders must include host")) }
        guard let amzDate = r.header("x-amz-date") ?? r.header("date").flatMap(parseHTTPDate).map(SigV4.amzDate) else {
            return .failure(AuthFailure("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"))
        }
        if let f = checkTime(amzDate: amzDate, credentialDate: cred.date, now: now) { return .failure(f) }
        guard let hashText = r.header("x-amz-content-sha256") else {
            return .failure(AuthFailure("InvalidRequest", "Missing required header for this request: x-amz-content-sha256"))
        }
        let payload: PayloadMode
        switch hashText {
        case SigV4.unsignedPayload: payload = .unsigned
        case SigV4.streamingSigned: payload = .streamingSigned(trailer: false)
        case SigV4.streamingSignedTrailer: payload = .streamingSigned(trailer: true)
        case SigV4.streamingUnsignedTrailer: payload = .streamingUnsignedTrailer
        default:
            guard hashText.count == 64, hashText.utf8.allSatisfy({ SigV4.hexValue($0) != nil }) else {
                return .failure(AuthFailure("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a hex SHA-256"))
            }
            payload = .sha256(hashText.lowercased())
        }
        return checkSignature(
            r, cred: cred, signed: signed, amzDate: amzDate, payloadHash: hashText, given: sig, excludingFromQuery: [],
            payload: payload, presigned: false, signingKey: signingKey)
    }

    static let presignSignature: Set<String> = ["X-Amz-Signature"]

    func verifyPresigned(
        _ r: SignedRequest, q: [String: String], now: Date, signingKey: (String, String, String) -> SigningKey?
    ) -> Result<AuthContext, AuthFailure> {
        guard q["X-Amz-Algorithm"] == SigV4.algorithm else {
            return .failure(.query("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""))
        }
        guard let credText = q["X-Amz-Credential"], let amzDate = q["X-Amz-Date"], let expiresText = q["X-Amz-Expires"],
            let signedText = q["X-Amz-SignedHeaders"], let sig = q["X-Amz-Signature"]
        else {
            return .failure(.query("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."))
        }
        let cred: Credential
        switch parseCredential(credText, failure: AuthFailure.query) {
        case .success(let c): cred = c
        case .failure(let f): return .failure(f)
        }
        guard let expires = ASCIIDecimal.int(expiresText) else {
            return .failure(.query("X-Amz-Expires should be a number"))
        }
        guard expires <= SigV4.maxExpires else {
            return .failure(.query("X-Amz-Expires must be less than a week (in seconds) that is 604800"))
        }
        guard let t = SigV4.parseAmzDate(amzDate) else {
            return .failure(.query("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""))
        }
        if t.timeIntervalSince(now) > SigV4.maxSkew {
            return .failure(AuthFailure("AccessDenied", "Request is not valid yet"))
        }
        if now.timeIntervalSince(t) > TimeInterval(expires) {
            return .failure(AuthFailure("AccessDenied", "Request has expired"))
        }
        let signed = signedText.splitASCII(UInt8(ascii: ";")).map { String($0).lowercased() }
        guard signed.contains("host") else { return .failure(.query("X-Amz-SignedHeaders must include host")) }
        let hash = r.header("x-amz-content-sha256") ?? SigV4.unsignedPayload
        let payload: PayloadMode = hash == SigV4.unsignedPayload ? .unsigned : (hash.count == 64 ? .sha256(hash.lowercased()) : .unsigned)
        return checkSignature(
            r, cred: cred, signed: signed, amzDate: amzDate, payloadHash: hash, given: sig, excludingFromQuery: Self.presignSignature,
            payload: payload, presigned: true, signingKey: signingKey)
    }

    /// The part both forms share: canonical request, signing key, signature compared in constant time.
    func checkSignature(
        _ r: SignedRequest, cred: Credential, signed: [String], amzDate: String, payloadHash: String, given: String,
        excludingFromQuery: Set<String>, payload: PayloadMode, presigned: Bool, signingKey: (String, String, String) -> SigningKey?
    ) -> Result<AuthContext, AuthFailure> {
        guard let creq = SigV4.canonicalRequestBytes(r, excludingFromQuery: excludingFromQuery, signed: signed, payloadHash: payloadHash)
        else {
            return .failure(AuthFailure("SignatureDoesNotMatch", "A signed header is missing or the request URI is malformed."))
        }
        guard let key = signingKey(cred.accessKey, cred.date, cred.region) else {
            return .failure(
                AuthFailure(
                    "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                    details: [("AWSAccessKeyId", cred.accessKey)]))
        }
        let sts = SigV4.stringToSign(amzDate: amzDate, scope: cred.scope, canonicalRequest: creq)
        let expected = SigV4.signature(key: key, stringToSign: sts)
        guard SigV4.signaturesEqual(expected, given.lowercased()) else {
            // What AWS returns, so a client's author can compare the canonical forms (nothing secret).
            return .failure(
                AuthFailure(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                    details: [
                        ("AWSAccessKeyId", cred.accessKey), ("StringToSign", String(decoding: sts, as: UTF8.self)),
                        ("SignatureProvided", given), ("CanonicalRequest", String(decoding: creq, as: UTF8.self)),
                    ]))
        }
        return .success(
            AuthContext(
                accessKey: cred.accessKey, signingKey: key, amzDate: amzDate, scope: cred.scope, seedSignature: expected,
                payload: payload, presigned: presigned))
    }

    /// `Date:` header forms (RFC 1123), for clients that sign `date` instead of `x-amz-date`.
    func parseHTTPDate(_ s: String) -> Date? { HTTPDate.parse(s) }
}

/// The signature chain of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` bodies: each chunk's
/// signature covers the previous signature and the SHA-256 of the chunk's data.
public struct ChunkSignatureChain: Sendable {
    let key: SigningKey
    let amzDate: String
    let scope: String
    public private(set) var previous: String

    public init(_ ctx: AuthContext) {
        key = ctx.signingKey
        amzDate = ctx.amzDate
        scope = ctx.scope
        previous = ctx.seedSignature
    }

    public init(key: SigningKey, amzDate: String, scope: String, seed: String) {
        self.key = key
        self.amzDate = amzDate
        self.scope = scope
        previous = seed
    }

    /// The expected signature of a chunk whose data hashes to `dataSHA256Hex`; advances the chain.
    public mutating func next(dataSHA256Hex: String) -> String {
        let sts = "AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(scope)\n\(previous)\n\(SigV4.emptySHA256)\n\(dataSHA256Hex)"
        previous = SigV4.signature(key: key, stringToSign: sts)
        return previous
    }

    /// Verifies a chunk signature and advances the chain.
    public mutating func verifyChunk(dataSHA256Hex: String, signature: String) -> Bool {
        SigV4.signaturesEqual(next(dataSHA256Hex: dataSHA256Hex), signature.lowercased())
    }

    /// The expected signature of the trailing headers (`name:value\n` each, in the order sent).
    public func trailerSignature(canonicalTrailers: String) -> String {
        let sts = "AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(scope)\n\(previous)\n\(SigV4.sha256Hex(canonicalTrailers))"
        return SigV4.signature(key: key, stringToSign: sts)
    }
}

/// Signs requests (for tests, tools and the bench): the same canonicalisation the verifier uses.
public enum SigV4Signer {
    /// Query parameters to append for a presigned URL (`X-Amz-Signature` included).
    public static func presign(
        method: String, rawPath: String, rawQuery: String = "", host: String, accessKey: String, secret: String,
        region: String, date: Date, expires: Int
    ) -> String {
        let amz = SigV4.amzDate(date)
        let d = String(amz.prefix(8))
        let scope = "\(d)/\(region)/s3/aws4_request"
        var q = rawQuery.isEmpty ? "" : rawQuery + "&"
        q += "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + SigV4.uriEncode(Array("\(accessKey)/\(scope)".utf8), encodeSlash: true)
        q += "&X-Amz-Date=\(amz)&X-Amz-Expires=\(expires)&X-Amz-SignedHeaders=host"
        let creq = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.canonicalURI(rawPath: rawPath) ?? "/",
            canonicalQuery: SigV4.canonicalQuery(rawQuery: q) ?? "", canonicalHeaders: "host:\(host)\n",
            signedHeaders: ["host"], payloadHash: SigV4.unsignedPayload)
        let key = SigV4.signingKey(secret: secret, date: d, region: region)
        let sig = SigV4.signature(key: key, stringToSign: SigV4.stringToSign(amzDate: amz, scope: scope, canonicalRequest: creq))
        return q + "&X-Amz-Signature=" + sig
    }

    /// The `Authorization` header for a request whose headers (including host, x-amz-date and
    /// x-amz-content-sha256) are all signed.
    public static func authorization(
        method: String, rawPath: String, rawQuery: String, headers: [(String, String)], payloadHash: String,
        accessKey: String, secret: String, region: String, amzDate: String, signingKey: SigningKey? = nil
    ) -> String {
        let signed = Array(Set(headers.map { $0.0.lowercased() })).sorted()
        let scope = "\(amzDate.prefix(8))/\(region)/s3/aws4_request"
        let creq = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.canonicalURI(rawPath: rawPath) ?? "/",
            canonicalQuery: SigV4.canonicalQuery(rawQuery: rawQuery) ?? "",
            canonicalHeaders: SigV4.canonicalHeaders(headers, signed: signed) ?? "", signedHeaders: signed,
            payloadHash: payloadHash)
        let key = signingKey ?? SigV4.signingKey(secret: secret, date: String(amzDate.prefix(8)), region: region)
        let sig = SigV4.signature(key: key, stringToSign: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: creq))
        return "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(sig)"
    }
}
