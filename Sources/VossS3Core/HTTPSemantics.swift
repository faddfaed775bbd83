import VossBase
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A byte range of an object, resolved against its size (inclusive bounds).
public struct ByteRange: Equatable, Sendable {
    public var first: Int64
    public var last: Int64
    public var count: Int64 { last - first + 1 }

    public init(first: Int64, last: Int64) {
        self.first = first
        self.last = last
    }

    public func contentRange(size: Int64) -> String { "bytes \(first)-\(last)/\(size)" }
}

public enum RangeHeader {
    public enum Outcome: Equatable, Sendable {
        /// No range (absent, malformed or multi-range: S3 serves the whole object).
        case whole
        case range(ByteRange)
        /// 416 InvalidRange.
        case unsatisfiable
    }

    /// `bytes=0-9`, `bytes=100-`, `bytes=-500` against an object of `size` bytes.
    public static func evaluate(_ header: String?, size: Int64) -> Outcome {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst(6)
        if spec.contains(",") { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let a = parts[0].trimmingSpaces(), b = parts[1].trimmingSpaces()
        if a.isEmpty {
            guard let n = ASCIIDecimal.int64(b) else { return .whole }
            if n == 0 || size == 0 { return .unsatisfiable }
            return .range(ByteRange(first: max(0, size - n), last: size - 1))
        }
        guard let first = ASCIIDecimal.int64(a) else { return .whole }
        var last = size - 1
        if !b.isEmpty {
            guard let l = ASCIIDecimal.int64(b), l >= first else { return .whole }
            last = min(l, size - 1)
        }
        if first >= size { return .unsatisfiable }
        return .range(ByteRange(first: first, last: last))
    }
}

/// RFC 7232 preconditions as S3 evaluates them for GET/HEAD and for copy sources.
public enum Preconditions {
    public enum Outcome: Equatable, Sendable { case proceed, notModified, preconditionFailed }

    static func etagList(_ h: String) -> [String] {
        h.split(separator: ",").map { p in
            var s = p.trimmingSpaces()
            if s.hasPrefix("W/") { s = String(s.dropFirst(2)) }
            if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 { s = String(s.dropFirst().dropLast()) }
            return s
        }
    }

    static func matches(_ header: String, etag: String) -> Bool {
        let list = etagList(header)
        return list.contains("*") || list.contains(etag)
    }

    /// `etag` without quotes; dates compared at one-second resolution (HTTP dates have no more).
    public static func evaluate(
        ifMatch: String?, ifNoneMatch: String?, ifModifiedSince: String?, ifUnmodifiedSince: String?,
        etag: String, lastModified: Date, isGetOrHead: Bool = true
    ) -> Outcome {
        let lm = lastModified.timeIntervalSince1970.rounded(.down)
        if let im = ifMatch {
            if !matches(im, etag: etag) { return .preconditionFailed }
        } else if let ius = ifUnmodifiedSince, let d = HTTPDate.parse(ius), lm > d.timeIntervalSince1970 {
            return .preconditionFailed
        }
        if let inm = ifNoneMatch {
            if matches(inm, etag: etag) { return isGetOrHead ? .notModified : .preconditionFailed }
        } else if isGetOrHead, let ims = ifModifiedSince, let d = HTTPDate.parse(ims), lm <= d.timeIntervalSince1970 {
            return .notModified
        }
        return .proceed
    }
}

/// User metadata (`x-amz-meta-*`) and the content headers S3 stores with an object.
public struct ObjectHeaders: Codable, Equatable, Sendable {
    public var contentType: String?
    public var contentEncoding: String?
    public var contentDisposition: String?
    public var contentLanguage: String?
    public var cacheControl: String?
    public var expires: String?
    /// Lower-case names without the `x-amz-meta-` prefix.
    public var meta: [String: String]

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, contentDisposition: String? = nil,
        contentLanguage: String? = nil, cacheControl: String? = nil, expires: String? = nil, meta: [String: String] = [:]
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentDisposition = contentDisposition
        self.contentLanguage = contentLanguage
        self.cacheControl = cacheControl
        self.expires = expires
        self.meta = meta
    }

    /// User metadata may total at most 2 KB (names and values, as S3 counts them).
    public static let maxMetadataBytes = 2048

    /// Reads the headers of a PUT/CopyObject/CreateMultipartUpload. `aws-chunked` is removed from
    /// Content-Encoding (it describes the transfer, not the object).
    public static func from(_ headers: [(String, String)]) -> Result<ObjectHeaders, S3Error> {
        var h = ObjectHeaders()
        var metaBytes = 0
        for (rawName, value) in headers {
            let name = rawName.lowercased()
            // What is stored is sent back as a header: a value with a line break (a form field can
            // carry one) or a name outside the token characters would make every later GET fail.
            let stored: Bool
            switch name {
            case "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires": stored = true
            default: stored = name.hasPrefix("x-amz-meta-")
            }
            if stored {
                guard isValidHeaderValue(value) else {
                    return .failure(.invalidArgument("The value of \(rawName) holds a character not allowed in a header.", name: rawName))
                }
                guard name.utf8.allSatisfy(StrictRequestHead.tokenByte) else {
                    return .failure(.invalidArgument("\(rawName) is not a valid header name.", name: rawName))
                }
            }
            switch name {
            case "content-type": h.contentType = value
            case "content-encoding":
                let encodings = value.split(separator: ",").map { $0.trimmingSpaces() }.filter { $0 != "aws-chunked" && !$0.isEmpty }
                h.contentEncoding = encodings.isEmpty ? nil : encodings.joined(separator: ",")
            case "content-disposition": h.contentDisposition = value
            case "content-language": h.contentLanguage = value
            case "cache-control": h.cacheControl = value
            case "expires": h.expires = value
            default:
                if name.hasPrefix("x-amz-meta-") {
                    let key = String(name.dropFirst("x-amz-meta-".count))
                    guard !key.isEmpty else { continue }
                    let value = MIMEWords.decode(value)
                    metaBytes += key.utf8.count + value.utf8.count
                    h.meta[key] = h.meta[key].map { $0 + "," + value } ?? value
                }
            }
        }
        if metaBytes > maxMetadataBytes {
            return .failure(S3Error("MetadataTooLarge", details: [("Size", String(metaBytes)), ("MaxSizeAllowed", "2048")]))
        }
        return .success(h)
    }

    /// Whether a value can go into a response header as it is: no CR, LF, NUL or other control
    /// characters (tab allowed). A `response-*` override that fails this is refused, not written.
    public static func isValidHeaderValue(_ v: String) -> Bool {
        v.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    /// Response headers for GET/HEAD, with `response-*` query overrides applied.
    public func responseHeaders(overrides: [String: String]) -> [(String, String)] {
        var out: [(String, String)] = []
        out.append(("Content-Type", overrides["response-content-type"] ?? contentType ?? "binary/octet-stream"))
        if let v = overrides["response-content-encoding"] ?? contentEncoding { out.append(("Content-Encoding", v)) }
        if let v = overrides["response-content-disposition"] ?? contentDisposition { out.append(("Content-Disposition", v)) }
        if let v = overrides["response-content-language"] ?? contentLanguage { out.append(("Content-Language", v)) }
        if let v = overrides["response-cache-control"] ?? cacheControl { out.append(("Cache-Control", v)) }
        if let v = overrides["response-expires"] ?? expires { out.append(("Expires", v)) }
        // Values outside printable US-ASCII go out as RFC 2047 words, as S3 sends them.
        for (k, v) in meta.sorted(by: { $0.key < $1.key }) { out.append(("x-amz-meta-" + k, MIMEWords.encode(v))) }
        return out
    }
}

/// Tags (`x-amz-tagging` header or Tagging XML): at most 10 on an object, 50 on a bucket; keys up to
/// 128 characters, values up to 256.
public enum Tags {
    public static func parseHeader(_ s: String) -> Result<[String: String], S3Error> {
        var out: [String: String] = [:]
        for pair in s.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = S3Router.decodePath(String(kv[0]).replacingPlus()),
                let v = S3Router.decodePath(kv.count > 1 ? String(kv[1]).replacingPlus() : "")
            else { return .failure(S3Error("InvalidTag", message: "The tag header is not valid URL-encoding.")) }
            if out[k] != nil { return .failure(S3Error("InvalidTag", message: "Cannot provide multiple Tags with the same key")) }
            out[k] = v
        }
        return validate(out, max: 10)
    }

    public static func parseXML(_ bytes: [UInt8], max: Int) -> Result<[String: String], S3Error> {
        guard let root = try? XMLParser.parse(bytes), root.name == "Tagging", let set = root.child("TagSet") else {
            return .failure(S3Error("MalformedXML"))
        }
        var out: [String: String] = [:]
        for t in set.all("Tag") {
            guard let k = t.childText("Key") else { return .failure(S3Error("MalformedXML")) }
            if out[k] != nil { return .failure(S3Error("InvalidTag", message: "Cannot provide multiple Tags with the same key")) }
            out[k] = t.childText("Value") ?? ""
        }
        return validate(out, max: max)
    }

    static func validate(_ tags: [String: String], max: Int) -> Result<[String: String], S3Error> {
        if tags.count > max { return .failure(S3Error("BadRequest", status: 400, message: "Object tags cannot be greater than \(max)")) }
        for (k, v) in tags {
            if k.isEmpty || k.count > 128 { return .failure(S3Error("InvalidTag", message: "The TagKey you have provided is invalid")) }
            if v.count > 256 { return .failure(S3Error("InvalidTag", message: "The TagValue you have provided is too long, max length is 256.")) }
        }
        return .success(tags)
    }

    public static func xml(_ tags: [String: String]) -> String {
        var x = XMLWriter()
        x.open("Tagging", xmlns: true)
        x.open("TagSet")
        for (k, v) in tags.sorted(by: { $0.key < $1.key }) {
            x.open("Tag")
            x.element("Key", k)
            x.element("Value", v)
            x.close("Tag")
        }
        x.close("TagSet")
        x.close("Tagging")
        return x.document
    }
}

extension String {
    func replacingPlus() -> String { String(map { $0 == "+" ? " " : $0 }) }
}
