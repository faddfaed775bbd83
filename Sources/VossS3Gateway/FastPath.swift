import Foundation
import Logging
import Synchronization
import NIOCore
import NIOHTTP1
import VossBase
import VossBlobStore
import VossS3Core
import VossS3Store
import VossSigV4

/// GET and HEAD of small local objects answered inside the channel pipeline, synchronously on the
/// connection's event loop: no task resumed, no hand-over through NIO's async stream, no copy of the
/// request into the service's types (issue 15, decision 48).
///
/// It answers only what it is sure to answer exactly as `S3Service.getObject` would, with the same
/// functions (signature check, access check, headers): a signed GET or HEAD of an object of at most
/// 64 KiB, unencrypted, in a local file, in a bucket without a policy, read from a store that answers
/// without waiting (SQLite), with no header or query parameter beyond the plain ones. Everything
/// else — another method or header, an anonymous or SigV2 caller, a key not cached yet, a missing
/// object, any error — is passed on untouched and the async path answers (errors included).
///
/// Answers keep the order of the requests: while a request passed on is unanswered (its response's
/// end has not gone out through this handler), every later one is passed on too. A connection whose
/// client is not reading (the channel is not writable) is also passed on, where writes are awaited.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let server: S3Server
    let origin: ClientOrigin
    /// The raw front of the same connection (it passes on what it cannot answer).
    let front: RawFastPath?
    /// A candidate request's head, held until its end arrives.
    private var held: HTTPRequestHead?
    /// Requests passed on whose response has not ended yet.
    private var passedOn = 0
    /// The current request's parts go to the async path.
    private var passing = false
    private var unflushed = false
    /// An answer said `Connection: close`: whatever the client sent after it is not read.
    private var closing = false

    init(server: S3Server, origin: ClientOrigin, front: RawFastPath?) {
        self.server = server
        self.origin = origin
        self.front = front
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let tried = front?.takeTried() ?? false
            if !tried && passedOn == 0 && !passing && (head.method == .GET || head.method == .HEAD) {
                held = head
                return
            }
            passOn(head, context)
        case .body:
            // A GET with a body: not one for this path.
            if let head = held {
                held = nil
                passOn(head, context)
            }
            context.fireChannelRead(data)
        case .end:
            if let head = held {
                held = nil
                if context.channel.isWritable,
                    let answer = server.fastAnswer(FastRequest(head), remote: origin.address, channel: context.channel)
                {
                    write(answer, head: head, context)
                    return
                }
                passOn(head, context)
            }
            passing = false
            context.fireChannelRead(data)
        }
    }

    private func passOn(_ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        passing = true
        passedOn += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Passed-on requests' answers go through here: their end lets this path answer again. An
    /// answer that says `Connection: close` ends the connection: nothing after it is answered here
    /// (NIO's pipelining helper holds the next request until that answer ends, so without this the
    /// next one would be answered just before the close).
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let h) where !h.isKeepAlive:
            closing = true
        case .end where passedOn > 0:
            passedOn -= 1
            context.write(data, promise: promise)
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }

    private func write(_ a: S3Server.FastAnswer, head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: HTTPHeaders(a.headers)))), promise: nil)
        if let body = a.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        if a.keepAlive {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            unflushed = true
        } else {
            closing = true
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }

    /// Pipelined requests that arrived together are answered with one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }
}

/// The raw front of the fast path (decision 48): next to the socket, before NIO's HTTP codec, it
/// reads each request head itself (`StrictRequestHead`) and answers the ones `fastAnswer` can answer
/// with bytes it writes itself — no HTTP decoder, no pipeline of request and response parts, no
/// encoder. NIO's codec and the handlers behind it see only what this handler passes on:
///
/// - the first request it cannot answer (a missing key, a large object, a key not cached yet, another
///   method, a body, a head split across reads, HTTP/1.0, an `Upgrade` …) goes on with everything
///   after it, and the connection stays with the codec (where `FastPathHandler` still answers small
///   GETs). Handing the connection back and forth after each such request saved little and made the
///   hand-over's timing part of every browser connection (each carries headers this path does not
///   take).
///
/// The codec therefore always starts at the first byte of a request.
final class RawFastPath: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode { case reading, passing, closing }

    let server: S3Server
    let origin: ClientOrigin
    private(set) var mode = Mode.reading
    private var pending: ByteBuffer?
    private var unflushed = false
    /// Requests tried here and passed on: the handler after the codec does not try them again.
    private var tried = 0

    init(server: S3Server, origin: ClientOrigin) {
        self.server = server
        self.origin = origin
    }

    func handlerRemoved(context: ChannelHandlerContext) { pending = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .passing:
            context.fireChannelRead(data)
        case .closing:
            return
        case .reading:
            var bytes = unwrapInboundIn(data)
            pending.setOrWriteBuffer(&bytes)
            readRequests(context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context)
        context.fireChannelReadComplete()
    }

    /// Whether the request the codec is about to read was tried here already (called by the
    /// handler after the codec for each request head it sees).
    func takeTried() -> Bool {
        guard tried > 0 else { return false }
        tried -= 1
        return true
    }

    /// Answers the complete heads at the front of `pending` until one must be passed on.
    private func readRequests(_ context: ChannelHandlerContext) {
        while mode == .reading, var buffer = pending {
            guard buffer.readableBytes > 0 else {
                pending = nil
                return
            }
            let parsed = buffer.withUnsafeReadableBytes { StrictRequestHead.parse($0) }
            guard case .request(let head) = parsed else {
                passAll(context)
                return
            }
            if context.channel.isWritable,
                let answer = server.fastAnswer(FastRequest(head), remote: origin.address, channel: context.channel),
                let bytes = Self.bytes(of: answer, allocator: context.channel.allocator)
            {
                buffer.moveReaderIndex(forwardBy: head.length)
                pending = buffer.readableBytes > 0 ? buffer : nil
                server.state.counters.fastPathRaw.add(1, ordering: .relaxed)
                write(bytes, keepAlive: answer.keepAlive, context)
                continue
            }
            // Tried here: the handler after the codec does not try it again.
            tried += 1
            passAll(context)
            return
        }
    }

    /// From here on the codec reads everything (starting with what is pending).
    private func passAll(_ context: ChannelHandlerContext) {
        mode = .passing
        flushIfNeeded(context)
        if let bytes = pending {
            pending = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
    }

    private func flushIfNeeded(_ context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
    }

    /// Bodies up to this size go out in the same buffer as the head (one piece to write).
    static let inlineBody = 16 << 10

    /// The answer as one buffer (head and a small body) or two (head, then a larger body).
    static func bytes(of a: S3Server.FastAnswer, allocator: ByteBufferAllocator) -> (ByteBuffer, ByteBuffer?)? {
        let inline = a.body.map { $0.readableBytes <= inlineBody } ?? true
        guard var out = RawResponse.head(a.headers, allocator: allocator, reserving: inline ? (a.body?.readableBytes ?? 0) : 0)
        else { return nil }
        if inline, var body = a.body {
            out.writeBuffer(&body)
            return (out, nil)
        }
        return (out, a.body)
    }

    private func write(_ bytes: (ByteBuffer, ByteBuffer?), keepAlive: Bool, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(bytes.0), promise: nil)
        if let body = bytes.1 { context.write(wrapOutboundOut(body), promise: nil) }
        if keepAlive {
            unflushed = true
        } else {
            mode = .closing
            pending = nil
            unflushed = false
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        }
    }
}

/// A 200 response head written as bytes, in one buffer (with room for the body after it); nil when
/// a name or value holds a CR, LF or NUL (the async path's encoder then refuses it as before, instead
/// of this one splitting the response).
enum RawResponse {
    static func head(_ headers: [(String, String)], allocator: ByteBufferAllocator, reserving extra: Int) -> ByteBuffer? {
        let status: StaticString = "HTTP/1.1 200 OK\r\n"
        var size = status.utf8CodeUnitCount + 2
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var out = allocator.buffer(capacity: size + extra)
        let written = out.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw -> Int in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count >= size else { return 0 }
            var w = Writer(at: base, end: base + size)
            w.put(status)
            for (name, value) in headers {
                guard w.put(name), w.put(": " as StaticString), w.put(value), w.put("\r\n" as StaticString) else { return 0 }
            }
            guard w.put("\r\n" as StaticString), w.at == base + size else { return 0 }
            return size
        }
        return written == size ? out : nil
    }

    /// Copies bytes into a buffer sized beforehand; a copy that would run past it, or a string with
    /// a CR, LF or NUL, fails.
    struct Writer {
        var at: UnsafeMutablePointer<UInt8>
        let end: UnsafeMutablePointer<UInt8>

        @discardableResult
        mutating func put(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard end - at >= n else { return false }
            at.update(from: s.utf8Start, count: n)
            at += n
            return true
        }

        mutating func put(_ s: String) -> Bool {
            var s = s
            return s.withUTF8 { u in
                guard let src = u.baseAddress, end - at >= u.count else { return u.isEmpty }
                for c in u where c == 0x0D || c == 0x0A || c == 0 { return false }
                at.update(from: src, count: u.count)
                at += u.count
                return true
            }
        }
    }
}

/// A request as both fast paths see it: from NIO's decoded head, or from the raw front's strict
/// reading of the bytes.
struct FastRequest {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var keepAlive: Bool

    init(_ head: HTTPRequestHead) {
        method = head.method.rawValue
        uri = head.uri
        headers = head.headers.map { ($0.name, $0.value) }
        keepAlive = head.isKeepAlive
    }

    init(_ head: StrictRequestHead) {
        method = head.method == .get ? "GET" : "HEAD"
        uri = head.target
        headers = head.headers
        keepAlive = head.keepAlive
    }

    func header(_ name: String) -> String? {
        ASCII.value(of: name, in: headers)
    }
}

extension S3Server {
    struct FastAnswer {
        var headers: [(String, String)]
        var body: ByteBuffer?
        var keepAlive: Bool
    }

    /// The headers a request may carry and still take the synchronous path (lower case). Any other
    /// (conditions, ranges, SSE-C keys, an expected owner, CORS, a session token …) takes the async one.
    static let fastHeaders: [StaticString] = [
        "host", "user-agent", "accept", "accept-encoding", "connection", "keep-alive", "authorization", "date",
        "x-amz-date", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent",
        "x-amz-checksum-mode", "content-length",
    ]

    /// Whether `name` is one of `fastHeaders` (compared without regard to case, with no allocation).
    static func isFastHeader(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { u in
            for known in fastHeaders where known.utf8CodeUnitCount == u.count {
                var same = true
                for k in 0..<u.count where ASCII.lower(u[k]) != known.utf8Start[k] {
                    same = false
                    break
                }
                if same { return true }
            }
            return false
        }
    }
    /// The query parameters it may carry: a presigned URL's (SigV4 or SigV2), and the operation name
    /// some SDKs add.
    static let fastQuery: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "x-id",
        "AWSAccessKeyId", "Signature", "Expires",
    ]
    static let fastMaxSize: Int64 = 64 << 10

    /// The answer to `head` (a GET or HEAD whose request has ended) when this path can give it; nil
    /// to leave the request to the async path.
    func fastAnswer(_ head: FastRequest, remote: String?, channel: any Channel) -> FastAnswer? {
        let settings = state.current
        // A store that cannot answer without waiting (PostgreSQL) would make every attempt a
        // signature check the async path then repeats.
        guard settings.fastPath, state.store.answersNow, !draining() else { return nil }
        var checksums = false
        for (name, value) in head.headers {
            guard Self.isFastHeader(name) else { return nil }
            if ASCII.equalsIgnoringCase(name, "content-length") && value != "0" { return nil }
            if ASCII.equalsIgnoringCase(name, "x-amz-checksum-mode") { checksums = S3Service.checksumMode(value) }
        }
        let uri = head.uri
        let qIndex = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = qIndex.map { String(uri[..<$0]) } ?? uri
        let rawQuery = qIndex.map { String(uri[uri.utf8.index(after: $0)...]) } ?? ""
        guard !RestAPI.handles(rawPath), !PortalFiles.handles(rawPath) else { return nil }
        var signed = SignedRequest(method: head.method, rawPath: rawPath, rawQuery: rawQuery, headers: head.headers)
        let query = signed.parseQuery()
        guard query.keys.allSatisfy({ Self.fastQuery.contains($0) }) else { return nil }
        // A GET or HEAD of a key whose query holds only `fastQuery` parameters (the signature's and
        // `x-id`, never a subresource) is GetObject or HeadObject: the router's operation table is
        // not consulted (a dozen dictionary lookups per request).
        guard head.method == "GET" || head.method == "HEAD",
            case .success(let target) = S3Router.target(host: head.header("host"), rawPath: rawPath, serviceHost: settings.serviceHost),
            let bucketName = target.bucket, !bucketName.isEmpty, let key = target.key
        else { return nil }
        let op: S3Operation = head.method == "HEAD" ? .headObject : .getObject

        // The caller, verified as `handle` does, with a key whose principal is cached (the async path
        // fills the cache): SigV4 (header or presigned URL), or SigV2 (boto3's presigned URLs by default).
        let claim = CallerClaim(authorization: head.header("authorization"), query: query)
        guard let accessKey = claim.accessKey, case .some(let principal?) = state.identity.cachedPrincipal(accessKey),
            case .success(let verified) = verify(claim, signed, principal: principal, target: target, settings: settings), verified.signed
        else { return nil }
        switch verified.auth?.payload {
        case nil, .unsigned?: break
        case .sha256(let h)? where h == SigV4.emptySHA256: break
        default: return nil
        }

        // The bucket and object, and the same access decision as `getObject` without a policy.
        guard let found = try? state.store.bucketAndObjectNow(named: bucketName, key: key), let o = found.object else { return nil }
        let b = found.bucket
        guard b.settings.policy == nil, Access.canRead(object: o, in: b, principal: principal),
            o.storage.encryption == nil, o.size <= Self.fastMaxSize
        else { return nil }

        let isHead = op == .headObject
        var body: ByteBuffer?
        if !isHead {
            guard let bytes = readLocal(o, allocator: channel.allocator) else { return nil }
            body = bytes
        }
        let id = Self.requestID()
        state.counters.requests.add(1, ordering: .relaxed)
        state.counters.fastPath.add(1, ordering: .relaxed)
        state.logger.debug(
            "request",
            metadata: ["request": "\(id)", "client": "\(remote ?? channel.remoteAddress?.description ?? "?")", "method": "\(head.method)", "uri": "\(head.uri)"])
        let keepAlive = head.keepAlive
        let responder = Responder(channel: channel, requestID: id, version: .http1_1, keepAlive: keepAlive, counters: state.counters)
        let headers = responder.baseHeaderList(service.objectHeaders(b, o, overrides: [:], checksums: checksums, range: nil), contentLength: o.size)
        if let body { state.counters.bytesOut.add(Int64(body.readableBytes), ordering: .relaxed) }
        return FastAnswer(headers: headers, body: body, keepAlive: keepAlive)
    }

    /// All of a small object's bytes from its local files or the database (an inline blob); nil when a
    /// piece is neither or cannot be read whole (the async path then answers, with the right error).
    func readLocal(_ o: ObjectRecord, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let segments = o.storage.segments(first: 0, count: o.size)
        // An object of one piece (nearly all small ones) is one blob, kept whole in the cache.
        let whole = segments.count == 1 && segments[0].offset == 0 ? segments[0].blob : nil
        if let whole, let hit = state.smallBlobs.get(whole), hit.readableBytes == Int(o.size) { return hit }
        var out = allocator.buffer(capacity: Int(o.size))
        for seg in segments {
            if BlobID.platform(of: seg.blob) == BlobID.inline {
                guard case .some(let stored?) = try? state.store.inlineBlobNow(seg.blob),
                    seg.offset >= 0, seg.length >= 0, seg.length <= Int64(stored.count) - seg.offset
                else { return nil }
                out.writeBytes(stored[Int(seg.offset)..<Int(seg.offset + seg.length)])
                continue
            }
            guard let platform = try? state.platforms.platform(of: seg.blob), let fd = try? platform.openFile(seg.blob)
            else { return nil }
            defer { close(fd) }
            let length = Int(seg.length)
            let got = out.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { p in
                S3Server.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: p[..<length]), at: seg.offset) ? length : 0
            }
            guard got == length else { return nil }
        }
        guard out.readableBytes == Int(o.size) else { return nil }
        if let whole { state.smallBlobs.put(whole, out) }
        return out
    }

    /// Fills `buffer` from `fd` at `offset` (pread until done); false on an error or an early end.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Bool {
        guard let base = buffer.baseAddress else { return buffer.isEmpty }
        var got = 0
        while got < buffer.count {
            let n = pread(fd, base + got, buffer.count - got, off_t(offset) + off_t(got))
            guard n > 0 else { return false }
            got += n
        }
        return true
    }
}
