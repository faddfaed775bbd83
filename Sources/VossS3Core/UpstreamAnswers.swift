import VossBase

/// Where an upstream service listens: `http(s)://HOST[:PORT]` (a path, if any, is ignored).
public struct UpstreamEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int

    public init(tls: Bool, host: String, port: Int) {
        self.tls = tls
        self.host = host
        self.port = port
    }

    /// `nil` for anything but an http(s) URL with a host and a valid port.
    public static func parse(_ url: String) -> UpstreamEndpoint? {
        let tls: Bool
        var rest: Substring
        if url.lowercased().hasPrefix("https://") {
            tls = true
            rest = url.dropFirst(8)
        } else if url.lowercased().hasPrefix("http://") {
            tls = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard !rest.isEmpty, !rest.contains("@") else { return nil }
        let host: Substring
        var port = tls ? 443 : 80
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = ASCIIDecimal.int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = ASCIIDecimal.int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" }) else { return nil }
        return UpstreamEndpoint(tls: tls, host: String(host), port: port)
    }

    /// The `Host` header value.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (tls ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var description: String { "\(tls ? "https" : "http")://\(hostHeader)" }
}

/// What an S3 upstream answers, read from its bytes: pure, so the fuzzer feeds it anything (the
/// answers come over the network). XML goes through `XMLParser`; numbers through `ASCIIDecimal`.
public enum UpstreamAnswers {
    /// `"abc"` → `abc`, lower-cased (ETags are hex).
    public static func etag(_ s: String) -> String {
        var u = Substring(s)
        while u.first == "\"" { u = u.dropFirst() }
        while u.last == "\"" { u = u.dropLast() }
        return u.lowercased()
    }

    /// `Code` and `Message` of an `<Error>` body (nil when it is not one).
    public static func error(_ body: [UInt8]) -> (code: String, message: String)? {
        guard let x = try? XMLParser.parse(body), x.name == "Error" else { return nil }
        return (x.childText("Code") ?? "", x.childText("Message") ?? "")
    }

    /// ListBuckets: the names.
    public static func bucketNames(_ body: [UInt8]) -> [String]? {
        guard let x = try? XMLParser.parse(body) else { return nil }
        return x.child("Buckets")?.children.compactMap { $0.childText("Name") } ?? []
    }

    /// CreateMultipartUpload: the upload id.
    public static func uploadID(_ body: [UInt8]) -> String? {
        guard let id = (try? XMLParser.parse(body))?.childText("UploadId"), !id.isEmpty else { return nil }
        return id
    }

    /// CopyObject / UploadPartCopy / CompleteMultipartUpload: the ETag, or the error a 200 answer can
    /// still carry in its body.
    public enum Result: Equatable, Sendable {
        case etag(String)
        case error(code: String, message: String)
        case unreadable
    }

    public static func result(_ body: [UInt8]) -> Result {
        guard let x = try? XMLParser.parse(body) else { return .unreadable }
        if x.name == "Error" { return .error(code: x.childText("Code") ?? "", message: x.childText("Message") ?? "") }
        guard let e = x.childText("ETag") else { return .unreadable }
        return .etag(etag(e))
    }

    /// One page of ListParts: the parts `(number, ETag, size)` and the next marker when truncated.
    public static func parts(_ body: [UInt8]) -> (parts: [(number: Int, etag: String, size: Int64)], next: Int?)? {
        guard let x = try? XMLParser.parse(body) else { return nil }
        var out: [(Int, String, Int64)] = []
        for p in x.children where p.name == "Part" {
            guard let n = p.childText("PartNumber").flatMap({ ASCIIDecimal.int($0) }), let e = p.childText("ETag"),
                let size = p.childText("Size").flatMap({ ASCIIDecimal.int64($0) }), size >= 0
            else { return nil }
            out.append((n, etag(e), size))
        }
        let next = x.childText("IsTruncated") == "true" ? x.childText("NextPartNumberMarker").flatMap { ASCIIDecimal.int($0) } : nil
        return (out, next)
    }

    /// ListMultipartUploads: the upload ids of exactly `key`.
    public static func uploads(_ body: [UInt8], key: String) -> [String]? {
        guard let x = try? XMLParser.parse(body) else { return nil }
        return x.children.filter { $0.name == "Upload" && $0.childText("Key") == key }.compactMap { $0.childText("UploadId") }
    }
}
