import Crypto
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS Signature Version 4 for S3, as pure functions: canonical request, string to sign, signing key,
/// and the verification of `Authorization` headers, presigned URLs, and the chunk/trailer signatures
/// of `aws-chunked` bodies. Nothing here reads a clock: every check takes `now`.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let streamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    public static let streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    public static let streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    /// Requests may be this far from the server's clock (S3: 15 minutes).
    public static let maxSkew: TimeInterval = 15 * 60
    /// Presigned URLs may live at most 7 days.
    public static let maxExpires = 604_800

    // MARK: encoding

    /// Lower-case hex (every request makes two of these).
    @inlinable
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 { Percent.hex(bytes) }

    /// AWS's URI encoding: every byte except `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case hex); `/` kept
    /// as is when `encodeSlash` is false (paths).
    public static func uriEncode<S: Sequence>(_ bytes: S, encodeSlash: Bool) -> String where S.Element == UInt8 {
        Percent.encode(bytes, keepSlash: !encodeSlash)
    }

    /// Percent-decodes a URI component (`+` stays `+`). `nil` for a malformed escape.
    public static func percentDecode<S: StringProtocol>(_ s: S) -> [UInt8]? { Percent.decode(s) }

    public static func hexValue(_ c: UInt8) -> UInt8? { Percent.hexValue(c) }

    // MARK: canonical request

    /// The path as S3 canonicalises it: decoded once, then encoded once (no normalisation of `.`/`..`).
    public static func canonicalURI(rawPath: String) -> String? {
        guard let decoded = percentDecode(rawPath) else { return nil }
        let encoded = uriEncode(decoded, encodeSlash: false)
        return encoded.isEmpty ? "/" : encoded
    }

    /// The query's parameters, percent-decoded (`+` stays `+`), as bytes; `nil` for a malformed escape.
    public static func queryPairs(_ rawQuery: String) -> [(name: [UInt8], value: [UInt8])]? {
        var raw = rawQuery
        return raw.withUTF8 { q -> [(name: [UInt8], value: [UInt8])]? in
            var out: [(name: [UInt8], value: [UInt8])] = []
            out.reserveCapacity(8)
            var start = 0
            while start < q.count {
                // One `name[=value]` between `&`s; empty ones (`a&&b`) are skipped.
                let end = q[start...].firstIndex(of: UInt8(ascii: "&")) ?? q.count
                if end > start {
                    let eq = q[start..<end].firstIndex(of: UInt8(ascii: "=")) ?? end
                    guard let name = Percent.decode(UnsafeBufferPointer(rebasing: q[start..<eq])) else { return nil }
                    var value: [UInt8] = []
                    if eq < end {
                        guard let v = Percent.decode(UnsafeBufferPointer(rebasing: q[(eq + 1)..<end])) else { return nil }
                        value = v
                    }
                    out.append((name, value))
                }
                start = end + 1
            }
            return out
        }
    }

    /// Query parameters decoded, re-encoded, sorted by name then value (`excluding` e.g. X-Amz-Signature).
    public static func canonicalQuery(rawQuery: String, excluding: Set<String> = []) -> String? {
        guard let decoded = queryPairs(rawQuery) else { return nil }
        var out = [UInt8]()
        appendCanonicalQuery(decoded, excluding: excluding, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalQuery(_ decoded: [(name: [UInt8], value: [UInt8])], excluding: Set<String>, to out: inout [UInt8]) {
        // Every pair encoded into one buffer, then sorted as spans of it (by encoded name, then
        // encoded value): no array per name and per value.
        var buf = [UInt8]()
        buf.reserveCapacity(decoded.reduce(0) { $0 + $1.name.count + $1.value.count } * 3 / 2 + 16)
        var spans: [(start: Int, mid: Int, end: Int)] = []
        spans.reserveCapacity(decoded.count)
        for (k, v) in decoded where !excluding.contains(where: { $0.utf8.elementsEqual(k) }) {
            let start = buf.count
            Percent.append(k, keepSlash: false, to: &buf)
            let mid = buf.count
            Percent.append(v, keepSlash: false, to: &buf)
            spans.append((start, mid, buf.count))
        }
        buf.withUnsafeBufferPointer { b in
            spans.sort { x, y in
                let xn = b[x.start..<x.mid], yn = b[y.start..<y.mid]
                if !xn.elementsEqual(yn) { return xn.lexicographicallyPrecedes(yn) }
                return b[x.mid..<x.end].lexicographicallyPrecedes(b[y.mid..<y.end])
            }
            for (i, p) in spans.enumerated() {
                if i > 0 { out.append(UInt8(ascii: "&")) }
                out.append(contentsOf: b[p.start..<p.mid])
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: b[p.mid..<p.end])
            }
        }
    }

    /// `name:value\n` for each signed header (values trimmed, inner runs of spaces collapsed, repeated
    /// headers joined with `,`). `nil` when a signed header is missing from the request.
    public static func canonicalHeaders(_ headers: [(String, String)], signed: [String]) -> String? {
        var out = [UInt8]()
        guard appendCanonicalHeaders(headers, signed: signed, to: &out) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalHeaders(_ headers: [(String, String)], signed: [String], to out: inout [UInt8]) -> Bool {
        for name in signed {
            var found = false
            for (n, v) in headers where ASCII.equalsIgnoringCase(n, name) {
                if found {
                    out.append(UInt8(ascii: ","))
                } else {
                    out += name.utf8
                    out.append(UInt8(ascii: ":"))
                    found = true
                }
                appendCollapsingSpaces(v, to: &out)
            }
            guard found else { return false }
            out.append(UInt8(ascii: "\n"))
        }
        return true
    }

    /// The value trimmed of spaces and tabs, inner runs of them as one space.
    static func appendCollapsingSpaces(_ v: String, to out: inout [UInt8]) {
        var pendingSpace = false
        var started = false
        for b in v.utf8 {
            if b == 0x20 || b == 0x09 {
                pendingSpace = started
                continue
            }
            if pendingSpace { out.append(0x20) }
            pendingSpace = false
            started = true
            out.append(b)
        }
    }

    /// The canonical request of `r` as bytes, built in one buffer: what `canonicalRequest` makes of
    /// `canonicalURI`, `canonicalQuery` and `canonicalHeaders`. `nil` when the URI is malformed or a
    /// signed header is missing.
    public static func canonicalRequestBytes(
        _ r: SignedRequest, excludingFromQuery: Set<String>, signed: [String], payloadHash: String
    ) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(r.rawPath.utf8.count + r.rawQuery.utf8.count + 256)
        out += r.method.utf8
        out.append(UInt8(ascii: "\n"))
        guard let path = percentDecode(r.rawPath) else { return nil }
        if path.isEmpty { out.append(UInt8(ascii: "/")) } else { Percent.append(path, keepSlash: true, to: &out) }
        out.append(UInt8(ascii: "\n"))
        guard let pairs = r.queryPairs ?? queryPairs(r.rawQuery) else { return nil }
        appendCanonicalQuery(pairs, excluding: excludingFromQuery, to: &out)
        out.append(UInt8(ascii: "\n"))
        guard appendCanonicalHeaders(r.headers, signed: signed, to: &out) else { return nil }
        out.append(UInt8(ascii: "\n"))
        for (i, s) in signed.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ";")) }
            out += s.utf8
        }
        out.append(UInt8(ascii: "\n"))
        out += payloadHash.utf8
        return out
    }

    /// The string to sign for a canonical request given as bytes.
    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(algorithm.utf8.count + amzDate.utf8.count + scope.utf8.count + 67)
        out += algorithm.utf8
        out.append(UInt8(ascii: "\n"))
        out += amzDate.utf8
        out.append(UInt8(ascii: "\n"))
        out += scope.utf8
        out.append(UInt8(ascii: "\n"))
        out += hex(SHA256.hash(data: canonicalRequest)).utf8
        return out
    }

    public static func canonicalRequest(
        method: String, canonicalURI: String, canonicalQuery: String, canonicalHeaders: String,
        signedHeaders: [String], payloadHash: String
    ) -> String {
        [method, canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders.joined(separator: ";"), payloadHash]
            .joined(separator: "\n")
    }

    public static func sha256Hex(_ s: String) -> String { hex(SHA256.hash(data: Array(s.utf8))) }

    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope)\n\(sha256Hex(canonicalRequest))"
    }

    public static func signingKey(secret: String, date: String, region: String, service: String = "s3") -> SigningKey {
        func mac(_ key: SymmetricKey, _ s: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(s.utf8), using: key))
        }
        let k = mac(SymmetricKey(data: Array(("AWS4" + secret).utf8)), date)
        return SigningKey(mac(mac(mac(k, region), service), "aws4_request"))
    }

    public static func signature(key: SigningKey, stringToSign: String) -> String {
        signature(key: key, stringToSign: Array(stringToSign.utf8))
    }

    public static func signature(key: SigningKey, stringToSign: [UInt8]) -> String {
        var mac = key.prepared  // a copy of the keyed state: no key schedule per signature
        mac.update(data: stringToSign)
        return hex(mac.finalize())
    }

    /// Compares two lower-case hex signatures in constant time.
    public static func signaturesEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }

    // MARK: dates

    /// Parses `20130524T000000Z`.
    public static func parseAmzDate(_ s: String) -> Date? { HTTPDate.parseAmz(s) }

    /// Formats a date as `20130524T000000Z`.
    public static func amzDate(_ date: Date) -> String { HTTPDate.amz(date) }
}

/// A derived SigV4 key (secret, day, region, service) with its HMAC state already keyed: signing
/// and verifying copy that state instead of padding and hashing the key again for every request
/// and every chunk.
public struct SigningKey: Sendable {
    public let key: SymmetricKey
    let prepared: HMAC<SHA256>

    public init(_ key: SymmetricKey) {
        self.key = key
        prepared = HMAC<SHA256>(key: key)
    }
}
