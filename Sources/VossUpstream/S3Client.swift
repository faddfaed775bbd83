import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import VossBase
import VossS3Core
import VossSigV4

/// Keys VOSS signs upstream requests with.
public struct UpstreamCredentials: Sendable, Equatable {
    public var accessKey: String
    public var secret: String

    public init(accessKey: String, secret: String) {
        self.accessKey = accessKey
        self.secret = secret
    }
}

/// The S3 calls VOSS makes to an upstream (path-style, SigV4). Bodies VOSS streams are sent as
/// `UNSIGNED-PAYLOAD` with their length, and their integrity is checked by comparing the upstream's
/// ETag (the MD5 of what it stored) with the MD5 VOSS computed while streaming; small XML bodies are
/// signed with their SHA-256.
public struct UpstreamS3: Sendable {
    public let http: UpstreamHTTPClient
    public let region: String
    public let clock: @Sendable () -> Date
    let keys = SigningKeys()

    public init(http: UpstreamHTTPClient, region: String, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.http = http
        self.region = region
        self.clock = clock
    }

    /// Derived SigV4 keys per (secret, day): four HMACs saved on every request.
    final class SigningKeys: Sendable {
        let cache = Mutex<[String: SigningKey]>([:])

        func key(secret: String, date: String, region: String) -> SigningKey {
            let id = "\(date)|\(region)|\(secret)"
            if let k = cache.withLock({ $0[id] }) { return k }
            let k = SigV4.signingKey(secret: secret, date: date, region: region)
            cache.withLock { c in
                if c.count > 10_000 { c.removeAll() }
                c[id] = k
            }
            return k
        }
    }

    /// `/bucket/key` with every key byte percent-encoded as SigV4 expects.
    public static func path(_ bucket: String, _ key: String? = nil) -> String {
        var p = "/" + SigV4.uriEncode(Array(bucket.utf8), encodeSlash: true)
        if let key { p += "/" + SigV4.uriEncode(Array(key.utf8), encodeSlash: false) }
        return p
    }

    /// The headers of a signed request (host, date, payload hash and `Authorization` added to `headers`).
    /// `payloadHash` is the hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    func signed(_ method: HTTPMethod, path: String, query: String, headers: [(String, String)], payloadHash: String,
                credentials: UpstreamCredentials) -> [(String, String)]
    {
        let amz = SigV4.amzDate(clock())
        var h = headers
        h.append(("host", http.endpoint.hostHeader))
        h.append(("x-amz-date", amz))
        h.append(("x-amz-content-sha256", payloadHash))
        let auth = SigV4Signer.authorization(
            method: method.rawValue, rawPath: path, rawQuery: query, headers: h, payloadHash: payloadHash,
            accessKey: credentials.accessKey, secret: credentials.secret, region: region, amzDate: amz,
            signingKey: keys.key(secret: credentials.secret, date: String(amz.prefix(8)), region: region))
        h.append(("Authorization", auth))
        return h
    }

    /// Starts a signed request whose body the caller streams.
    public func start(
        _ method: HTTPMethod, path: String, query: String = "", headers: [(String, String)] = [], payloadHash: String,
        credentials: UpstreamCredentials
    ) async throws -> UpstreamExchange {
        let h = signed(method, path: path, query: query, headers: headers, payloadHash: payloadHash, credentials: credentials)
        return try await http.start(method: method, uri: query.isEmpty ? path : path + "?" + query, headers: h)
    }

    /// A complete signed request with a small body, its whole answer read (retried once on a fresh
    /// connection when a pooled one turned out to be closed).
    public func call(
        _ method: HTTPMethod, path: String, query: String = "", headers: [(String, String)] = [], body: [UInt8] = [],
        credentials: UpstreamCredentials
    ) async throws -> (HTTPResponseHead, [UInt8]) {
        let hash = SigV4.hex(SHA256.hash(data: body))
        // Signed again on a retry (the signature carries the time); `send` adds the content length.
        return try await http.send(method, uri: query.isEmpty ? path : path + "?" + query, body: body) {
            signed(method, path: path, query: query, headers: headers, payloadHash: hash, credentials: credentials)
        }
    }

    /// An error answer as `UpstreamError.status` (with S3's `Code` and `Message` when the body has them).
    public static func failure(_ head: HTTPResponseHead, _ body: [UInt8]) -> UpstreamError {
        let e = UpstreamAnswers.error(body)
        return .status(Int(head.status.code), code: e?.code ?? head.status.reasonPhrase, message: e?.message ?? "")
    }

    /// The ETag of a copy or completion answer; an `<Error>` in a 200 answer is an error.
    static func etag(of body: [UInt8], _ operation: String) throws -> String {
        switch UpstreamAnswers.result(body) {
        case .etag(let e): return e
        case .error(let code, let message): throw UpstreamError.status(500, code: code, message: message)
        case .unreadable: throw UpstreamError.protocolError("\(operation) answered without an ETag")
        }
    }

    static func expect(_ head: HTTPResponseHead, _ body: [UInt8], _ ok: Set<Int>) throws {
        guard ok.contains(Int(head.status.code)) else { throw failure(head, body) }
    }

    static func etag(_ head: HTTPResponseHead) -> String? {
        head.headers.first(name: "etag").map(UpstreamAnswers.etag)
    }

    // MARK: buckets

    /// Creates a bucket; one that already exists and is ours is fine.
    public func createBucket(_ bucket: String, credentials: UpstreamCredentials) async throws {
        let (head, body) = try await call(.PUT, path: Self.path(bucket), credentials: credentials)
        if head.status.code == 409, case .status(_, let code, _) = Self.failure(head, body), code == "BucketAlreadyOwnedByYou" { return }
        try Self.expect(head, body, [200])
    }

    public func headBucket(_ bucket: String, credentials: UpstreamCredentials) async throws -> Bool {
        let (head, body) = try await call(.HEAD, path: Self.path(bucket), credentials: credentials)
        if head.status.code == 404 { return false }
        try Self.expect(head, body, [200])
        return true
    }

    /// ListBuckets: the cheapest signed call, used to check an endpoint and its keys.
    public func listBuckets(credentials: UpstreamCredentials) async throws -> [String] {
        let (head, body) = try await call(.GET, path: "/", credentials: credentials)
        try Self.expect(head, body, [200])
        guard let names = UpstreamAnswers.bucketNames(body) else { throw UpstreamError.protocolError("ListBuckets answered no XML") }
        return names
    }

    // MARK: objects

    /// Starts a PUT of `length` bytes; the caller writes exactly that many and calls `finishPut`.
    public func startPut(_ bucket: String, _ key: String, length: Int64, credentials: UpstreamCredentials) async throws -> UpstreamExchange {
        try await start(
            .PUT, path: Self.path(bucket, key), headers: [("content-length", String(length))], payloadHash: SigV4.unsignedPayload,
            credentials: credentials)
    }

    /// Ends a PUT (or UploadPart) and returns the upstream's ETag.
    public static func finishPut(_ ex: UpstreamExchange) async throws -> String {
        try await ex.finishRequest()
        let head = try await ex.response()
        let body = try await ex.readAll()
        try expect(head, body, [200])
        guard let e = etag(head) else { throw UpstreamError.protocolError("a PUT answered without an ETag") }
        return e
    }

    /// GET, whole or `first…last`; the caller reads the body from the exchange.
    public func get(_ bucket: String, _ key: String, range: ClosedRange<Int64>?, credentials: UpstreamCredentials) async throws
        -> UpstreamExchange
    {
        var h: [(String, String)] = []
        if let range { h.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let ex = try await start(.GET, path: Self.path(bucket, key), headers: h, payloadHash: SigV4.sha256Hex(""), credentials: credentials)
        try await ex.finishRequest()
        let head = try await ex.response()
        guard head.status.code == (range == nil ? 200 : 206) else {
            let body = (try? await ex.readAll(limit: 64 << 10)) ?? []
            throw Self.failure(head, body)
        }
        return ex
    }

    /// HEAD: the object's size, or nil when it does not exist.
    public func head(_ bucket: String, _ key: String, credentials: UpstreamCredentials) async throws -> Int64? {
        let (head, body) = try await call(.HEAD, path: Self.path(bucket, key), credentials: credentials)
        if head.status.code == 404 { return nil }
        try Self.expect(head, body, [200])
        return head.headers.first(name: "content-length").flatMap { ASCIIDecimal.int64($0) }
    }

    /// DELETE; an object already gone is fine.
    public func delete(_ bucket: String, _ key: String, credentials: UpstreamCredentials) async throws {
        let (head, body) = try await call(.DELETE, path: Self.path(bucket, key), credentials: credentials)
        try Self.expect(head, body, [200, 204, 404])
    }

    /// Server-side copy (the upstream moves the bytes); returns the new object's ETag.
    public func copy(from src: (bucket: String, key: String), to dst: (bucket: String, key: String), credentials: UpstreamCredentials)
        async throws -> String
    {
        let source = Self.path(src.bucket, src.key)
        let (head, body) = try await call(
            .PUT, path: Self.path(dst.bucket, dst.key), headers: [("x-amz-copy-source", source)], credentials: credentials)
        try Self.expect(head, body, [200])
        // A copy can fail after its 200 head: the error is then in the body.
        return try Self.etag(of: body, "CopyObject")
    }

    // MARK: multipart

    public func createMultipart(_ bucket: String, _ key: String, credentials: UpstreamCredentials) async throws -> String {
        let (head, body) = try await call(.POST, path: Self.path(bucket, key), query: "uploads=", credentials: credentials)
        try Self.expect(head, body, [200])
        guard let id = UpstreamAnswers.uploadID(body) else {
            throw UpstreamError.protocolError("CreateMultipartUpload answered without an UploadId")
        }
        return id
    }

    static func uploadQuery(_ uploadID: String, part: Int? = nil) -> String {
        let id = SigV4.uriEncode(Array(uploadID.utf8), encodeSlash: true)
        return part.map { "partNumber=\($0)&uploadId=\(id)" } ?? "uploadId=\(id)"
    }

    public func startUploadPart(_ bucket: String, _ key: String, uploadID: String, part: Int, length: Int64, credentials: UpstreamCredentials)
        async throws -> UpstreamExchange
    {
        try await start(
            .PUT, path: Self.path(bucket, key), query: Self.uploadQuery(uploadID, part: part),
            headers: [("content-length", String(length))], payloadHash: SigV4.unsignedPayload, credentials: credentials)
    }

    /// UploadPartCopy of `range` of another upstream object; returns the part's ETag.
    public func uploadPartCopy(
        _ bucket: String, _ key: String, uploadID: String, part: Int, from src: (bucket: String, key: String), range: ClosedRange<Int64>?,
        credentials: UpstreamCredentials
    ) async throws -> String {
        var h = [("x-amz-copy-source", Self.path(src.bucket, src.key))]
        if let range { h.append(("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let (head, body) = try await call(
            .PUT, path: Self.path(bucket, key), query: Self.uploadQuery(uploadID, part: part), headers: h, credentials: credentials)
        try Self.expect(head, body, [200])
        return try Self.etag(of: body, "UploadPartCopy")
    }

    /// The parts the upstream holds for an upload: `(number, ETag, size)` in order.
    public func listParts(_ bucket: String, _ key: String, uploadID: String, credentials: UpstreamCredentials) async throws
        -> [(number: Int, etag: String, size: Int64)]
    {
        var out: [(Int, String, Int64)] = []
        var marker = 0
        while true {
            let (head, body) = try await call(
                .GET, path: Self.path(bucket, key), query: "max-parts=1000&part-number-marker=\(marker)&" + Self.uploadQuery(uploadID),
                credentials: credentials)
            try Self.expect(head, body, [200])
            guard let page = UpstreamAnswers.parts(body) else { throw UpstreamError.protocolError("ListParts answered what VOSS cannot read") }
            out += page.parts
            guard let next = page.next, next > marker else { break }
            marker = next
        }
        return out
    }

    /// The uploads in progress for one key (to abort those VOSS lost track of in a crash).
    public func uploads(_ bucket: String, key: String, credentials: UpstreamCredentials) async throws -> [String] {
        let prefix = SigV4.uriEncode(Array(key.utf8), encodeSlash: true)
        let (head, body) = try await call(.GET, path: Self.path(bucket), query: "prefix=\(prefix)&uploads=", credentials: credentials)
        try Self.expect(head, body, [200])
        guard let ids = UpstreamAnswers.uploads(body, key: key) else { throw UpstreamError.protocolError("ListMultipartUploads answered no XML") }
        return ids
    }

    /// Completes an upload from `(part number, ETag)` in order; returns the object's ETag.
    public func completeMultipart(_ bucket: String, _ key: String, uploadID: String, parts: [(Int, String)], credentials: UpstreamCredentials)
        async throws -> String
    {
        var x = XMLWriter()
        x.open("CompleteMultipartUpload", xmlns: true)
        for (n, etag) in parts {
            x.open("Part")
            x.element("PartNumber", String(n))
            x.element("ETag", "\"\(etag)\"")
            x.close("Part")
        }
        x.close("CompleteMultipartUpload")
        let (head, body) = try await call(
            .POST, path: Self.path(bucket, key), query: Self.uploadQuery(uploadID), body: Array(x.document.utf8), credentials: credentials)
        try Self.expect(head, body, [200])
        return try Self.etag(of: body, "CompleteMultipartUpload")
    }

    /// Aborts an upload; one already gone is fine.
    public func abortMultipart(_ bucket: String, _ key: String, uploadID: String, credentials: UpstreamCredentials) async throws {
        let (head, body) = try await call(.DELETE, path: Self.path(bucket, key), query: Self.uploadQuery(uploadID), credentials: credentials)
        try Self.expect(head, body, [200, 204, 404])
    }
}
