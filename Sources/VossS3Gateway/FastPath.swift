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
    /// A candidate request's head, held until its end arrives.
    private var held: HTTPRequestHead?
    /// Requests passed on whose response has not ended yet.
    private var passedOn = 0
    /// The current request's parts go to the async path.
    private var passing = false
    private var unflushed = false
    /// An answer said `Connection: close`: whatever the client sent after it is not read.
    private var closing = false

    init(server: S3Server, origin: ClientOrigin) {
        self.server = server
        self.origin = origin
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if passedOn == 0 && !passing && (head.method == .GET || head.method == .HEAD) {
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
                if context.channel.isWritable, let answer = server.fastAnswer(head, remote: origin.address, channel: context.channel) {
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

    /// Passed-on requests' answers go through here: their end lets this path answer again.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    private func write(_ a: S3Server.FastAnswer, head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: a.headers))), promise: nil)
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

extension S3Server {
    struct FastAnswer {
        var headers: HTTPHeaders
        var body: ByteBuffer?
        var keepAlive: Bool
    }

    /// The headers a request may carry and still take the synchronous path (lower case). Any other
    /// (conditions, ranges, SSE-C keys, an expected owner, CORS, a session token …) takes the async one.
    static let fastHeaders: Set<String> = [
        "host", "user-agent", "accept", "accept-encoding", "connection", "keep-alive", "authorization", "date",
        "x-amz-date", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent",
        "x-amz-checksum-mode", "content-length",
    ]
    /// The query parameters it may carry: a presigned URL's (SigV4 or SigV2), and the operation name
    /// some SDKs add.
    static let fastQuery: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "x-id",
        "AWSAccessKeyId", "Signature", "Expires",
    ]
    static let fastMaxSize: Int64 = 64 << 10

    /// The answer to `head` (a GET or HEAD whose request has ended) when this path can give it; nil
    /// to leave the request to the async path.
    func fastAnswer(_ head: HTTPRequestHead, remote: String?, channel: any Channel) -> FastAnswer? {
        let settings = state.current
        guard settings.fastPath, !draining() else { return nil }
        var checksums = false
        for (name, value) in head.headers {
            let n = name.lowercased()
            guard Self.fastHeaders.contains(n) else { return nil }
            if n == "content-length" && value != "0" { return nil }
            if n == "x-amz-checksum-mode" { checksums = S3Service.checksumMode(value) }
        }
        let uri = head.uri
        let qIndex = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = qIndex.map { String(uri[..<$0]) } ?? uri
        let rawQuery = qIndex.map { String(uri[uri.utf8.index(after: $0)...]) } ?? ""
        guard !RestAPI.handles(rawPath), !PortalFiles.handles(rawPath) else { return nil }
        var signed = SignedRequest(
            method: head.method.rawValue, rawPath: rawPath, rawQuery: rawQuery, headers: head.headers.map { ($0.name, $0.value) })
        let query = signed.parseQuery()
        guard query.keys.allSatisfy({ Self.fastQuery.contains($0) }) else { return nil }
        guard case .success(let target) = S3Router.target(host: head.headers.first(name: "host"), rawPath: rawPath, serviceHost: settings.serviceHost),
            let bucketName = target.bucket, let key = target.key,
            case .success(let op) = S3Router.operation(method: head.method.rawValue, target: target, query: query, headers: { head.headers.first(name: $0) }),
            op == .getObject || op == .headObject
        else { return nil }

        // The caller, verified as `handle` does, with a key whose principal is cached (the async path
        // fills the cache): SigV4 (header or presigned URL), or SigV2 (boto3's presigned URLs by default).
        let claim = CallerClaim(authorization: head.headers.first(name: "authorization"), query: query)
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
            metadata: ["request": "\(id)", "client": "\(remote ?? channel.remoteAddress?.description ?? "?")", "method": "\(head.method.rawValue)", "uri": "\(head.uri)"])
        let keepAlive = head.isKeepAlive
        let responder = Responder(channel: channel, requestID: id, version: head.version, keepAlive: keepAlive, counters: state.counters)
        let headers = responder.baseHeaders(service.objectHeaders(b, o, overrides: [:], checksums: checksums, range: nil), contentLength: o.size)
        if let body { state.counters.bytesOut.add(Int64(body.readableBytes), ordering: .relaxed) }
        return FastAnswer(headers: headers, body: body, keepAlive: keepAlive)
    }

    /// All of a small object's bytes from its local files; nil when a piece is not a local file or
    /// cannot be read whole (the async path then answers, with the right error).
    func readLocal(_ o: ObjectRecord, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let segments = o.storage.segments(first: 0, count: o.size)
        // An object of one piece (nearly all small ones) is one blob, kept whole in the cache.
        let whole = segments.count == 1 && segments[0].offset == 0 ? segments[0].blob : nil
        if let whole, let hit = state.smallBlobs.get(whole), hit.readableBytes == Int(o.size) { return hit }
        var out = allocator.buffer(capacity: Int(o.size))
        for seg in segments {
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
