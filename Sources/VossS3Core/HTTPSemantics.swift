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
            guard let n = Int64(b), n >= 0 else { return .whole }
            if n == 0 || size == 0 { return .unsatisfiable }
            return .range(ByteRange(first: max(0, size - n), last: size - 1))
        }
        guard let first = Int64(a), first >= 0 else { return .whole }
        var last = size - 1
        if !b.isEmpty {
            guard let l = Int64(b), l >= first else { return .whole }
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
        } else if let ius = ifUnmodifiedSince, let d = HTTPDates.parse(ius), lm > d.timeIntervalSince1970 {
            return .preconditionFailed
        }
        if let inm = ifNoneMatch {
            if matches(inm, etag: etag) { return isGetOrHead ? .notModified : .preconditionFailed }
        } else if isGetOrHead, let ims = ifModifiedSince, let d = HTTPDates.parse(ims), lm <= d.timeIntervalSince1970 {
            return .notModified
        }
        return .proceed
    }
}

/// RFC 1123 dates (duplicated from VossSigV4's HTTPDate so this core does not depend on Crypto).
public enum HTTPDates {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ date: Date) -> String {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let dn = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - dn * 86400
        let (y, m, d) = civil(dn)
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[((dn % 7) + 7) % 7]), \(p2(d)) \(months[m - 1]) \(y) \(p2(secs / 3600)):\(p2(secs % 3600 / 60)):\(p2(secs % 60)) GMT"
    }

    /// ISO 8601 with milliseconds, as S3 lists it: `2013-05-24T00:00:00.000Z`.
    public static func iso(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let t = Int(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let dn = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - dn * 86400
        let (y, m, d) = civil(dn)
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(secs / 3600, 2)):\(p(secs % 3600 / 60, 2)):\(p(secs % 60, 2)).\(p(Int(ms - Int64(t) * 1000), 3))Z"
    }

    public static func parse(_ s: String) -> Date? {
        let parts = s.split(separator: " ")
        if parts.count == 6, let d = Int(parts[1]), let mi = months.firstIndex(of: String(parts[2])), let y = Int(parts[3]) {
            let hms = parts[4].split(separator: ":").compactMap { Int($0) }
            guard hms.count == 3 else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(days(y, mi + 1, d) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]))
        }
        // ISO 8601: 2013-05-24T00:00:00Z / .000Z
        let digits = s.filter { $0.isNumber }
        if s.contains("T"), digits.count >= 14 {
            let u = Array(digits)
            func n(_ r: Range<Int>) -> Int { Int(String(u[r]))! }
            return Date(timeIntervalSince1970: TimeInterval(days(n(0..<4), n(4..<6), n(6..<8)) * 86400 + n(8..<10) * 3600 + n(10..<12) * 60 + n(12..<14)))
        }
        return nil
    }

    static func days(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468
    }

    static func civil(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
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

    /// Response headers for GET/HEAD, with `response-*` query overrides applied.
    public func responseHeaders(overrides: [String: String]) -> [(String, String)] {
        var out: [(String, String)] = []
        out.append(("Content-Type", overrides["response-content-type"] ?? contentType ?? "binary/octet-stream"))
        if let v = overrides["response-content-encoding"] ?? contentEncoding { out.append(("Content-Encoding", v)) }
        if let v = overrides["response-content-disposition"] ?? contentDisposition { out.append(("Content-Disposition", v)) }
        if let v = overrides["response-content-language"] ?? contentLanguage { out.append(("Content-Language", v)) }
        if let v = overrides["response-cache-control"] ?? cacheControl { out.append(("Cache-Control", v)) }
        if let v = overrides["response-expires"] ?? expires { out.append(("Expires", v)) }
        for (k, v) in meta.sorted(by: { $0.key < $1.key }) { out.append(("x-amz-meta-" + k, v)) }
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

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension String {
    func trimmingSpaces() -> String { Substring(self).trimmingSpaces() }
}
