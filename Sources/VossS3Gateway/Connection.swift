import VossBase
import Synchronization
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VossHTTP
import VossS3Core
import VossS3Store
import VossSigV4

/// Reads request parts off a connection: heads, then each request's body.
final class PartReader {
    var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    /// The current request's body has been read to its end.
    private(set) var bodyDone = true
    /// The body came too slowly and was cut: the connection cannot carry another request.
    private(set) var failed = false
    var bytesRead: Int64 = 0

    init(_ it: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator) { iterator = it }

    func nextHead() async throws -> HTTPRequestHead? {
        while let part = try await iterator.next(isolation: #isolation) {
            if case .head(let h) = part {
                bodyDone = false
                bytesRead = 0
                return h
            }
        }
        return nil
    }

    /// The next piece of the body, `nil` at its end.
    func nextBody() async throws -> ByteBuffer? {
        guard !bodyDone else { return nil }
        guard !failed else { throw S3Error.requestTimeout }
        while let part = try await nextPart() {
            switch part {
            case .body(let b):
                bytesRead += Int64(b.readableBytes)
                return b
            case .end:
                bodyDone = true
                return nil
            case .head:
                throw GatewayFailure.protocolError
            }
        }
        bodyDone = true
        throw GatewayFailure.connectionClosed
    }

    private func nextPart() async throws -> HTTPServerRequestPart? {
        do {
            return try await iterator.next(isolation: #isolation)
        } catch is RequestBodyTimeout {
            failed = true
            throw S3Error.requestTimeout
        }
    }

    /// Reads and discards the rest of the body, up to `limit` bytes; `false` when it was longer.
    func drain(limit: Int64) async -> Bool {
        var seen: Int64 = 0
        while !bodyDone {
            guard let b = try? await nextBody() else { return bodyDone }
            seen += Int64(b.readableBytes)
            if seen > limit { return false }
        }
        return true
    }

    /// The whole body (for XML requests), at most `limit` bytes.
    func readAll(limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let b = try await nextBody() {
            guard out.count + b.readableBytes <= limit else { throw S3Error("MaxMessageLengthExceeded") }
            out.append(contentsOf: b.readableBytesView)
        }
        return out
    }
}

enum GatewayFailure: Error {
    case protocolError
    case connectionClosed
}

/// One S3 request being served: what the transport read and verified, without the transport.
/// A class: the exchange and the service's call share one (copying a struct of this many references
/// per hand-over cost a tenth of a small GET's CPU in a profile). Used by one request's task only.
final class RequestContext: @unchecked Sendable {
    let id: String
    let method: String
    let headers: [(String, String)]
    let rawPath: String
    let rawQuery: String
    let query: [String: String]
    let target: S3Target
    let operation: S3Operation
    var principal: Principal?
    var auth: AuthContext?
    let tls: Bool
    let remote: String
    /// The bucket's policy allowed this request (the ACL checks are then passed).
    var policyAllowed = false

    init(
        id: String, method: String, headers: [(String, String)], rawPath: String, rawQuery: String, query: [String: String],
        target: S3Target, operation: S3Operation, principal: Principal?, auth: AuthContext?, tls: Bool, remote: String
    ) {
        self.id = id
        self.method = method
        self.headers = headers
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.query = query
        self.target = target
        self.operation = operation
        self.principal = principal
        self.auth = auth
        self.tls = tls
        self.remote = remote
    }

    /// The first value of a header (names compare case-insensitively).
    func header(_ name: String) -> String? {
        ASCII.value(of: name, in: headers)
    }
    var headerPairs: [(String, String)] { headers }
    var isHead: Bool { method == "HEAD" }
    var bucket: String { target.bucket ?? "" }
    var key: String { target.key ?? "" }
}

/// Writes responses straight to the channel, awaiting completion (a sendfile'd file may only be
/// closed once its write finished).
struct Responder: Sendable {
    let channel: any Channel
    let requestID: String
    let version: HTTPVersion
    let keepAlive: Bool
    let counters: GatewayCounters
    /// Added to every answer (the REST API's CORS headers).
    var extra: [(String, String)] = []

    static let serverName = "VOSS"

    func baseHeaders(_ extra: [(String, String)], contentLength: Int64?) -> HTTPHeaders {
        HTTPHeaders(baseHeaderList(extra, contentLength: contentLength))
    }

    /// Every answer's headers around `extra`: request ids, server, date, then `extra` and the
    /// connection's own, and one `Content-Length` and one `Connection` (replacing any in `extra`).
    func baseHeaderList(_ extra: [(String, String)], contentLength: Int64?) -> [(String, String)] {
        var h: [(String, String)] = []
        h.reserveCapacity(extra.count + self.extra.count + 6)
        h.append(("x-amz-request-id", requestID))
        h.append(("x-amz-id-2", requestID))
        h.append(("Server", Self.serverName))
        h.append(("Date", HTTPDate.now()))
        for (k, v) in extra where !Self.replaced(k, contentLength != nil) { h.append((k, v)) }
        for (k, v) in self.extra where !Self.replaced(k, contentLength != nil) { h.append((k, v)) }
        if let contentLength { h.append(("Content-Length", String(contentLength))) }
        h.append(("Connection", keepAlive ? "keep-alive" : "close"))
        return h
    }

    private static func replaced(_ name: String, _ length: Bool) -> Bool {
        ASCII.equalsIgnoringCase(name, "Connection") || (length && ASCII.equalsIgnoringCase(name, "Content-Length"))
    }

    func sendContinue() {
        channel.writeAndFlush(
            HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: .continue)), promise: nil)
    }

    /// A complete response with an in-memory body.
    func send(_ status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = [], headOnly: Bool = false) async {
        let h = baseHeaders(headers, contentLength: Int64(body.count))
        let channel = self.channel
        let version = self.version
        counters.bytesOut.add(Int64(body.count), ordering: .relaxed)
        if channel.eventLoop.inEventLoop {
            // The usual case (the request runs on its connection's loop): write at once instead of
            // submitting a closure. The flush is still awaited: the connection may be closed next
            // (Connection: close, draining), and a close drops writes still pending.
            if ParseErrorFlag.isSet(channel) {
                channel.close(promise: nil)
                return
            }
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: h)), promise: nil)
            if !body.isEmpty && !headOnly {
                channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            }
            try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            return
        }
        let f = channel.eventLoop.flatSubmit {
            // NIO already answered a request whose bytes did not parse (400): no second answer.
            if ParseErrorFlag.isSet(channel) { return channel.close() }
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: h)), promise: nil)
            if !body.isEmpty && !headOnly {
                channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            }
            return channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        }
        try? await f.get()
    }

    func sendXML(_ xml: String, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) async {
        await send(status, headers: [("Content-Type", "application/xml")] + headers, body: Array(xml.utf8))
    }

    func sendError(_ e: S3Error, resource: String, headOnly: Bool = false) async {
        counters.errors.add(1, ordering: .relaxed)
        let status = HTTPResponseStatus(statusCode: e.status)
        if headOnly || status == .notModified {
            await send(status, headers: (status == .notModified ? [] : [("Content-Type", "application/xml")]) + e.headers, headOnly: true)
            return
        }
        var extra: [(String, String)] = [("Content-Type", "application/xml")] + e.headers
        if e.status == 503 { extra.append(("Retry-After", "5")) }
        await send(status, headers: extra, body: Array(e.xml(resource: resource, requestID: requestID).utf8))
    }

    /// The head of a streamed response; follow with `body`/`file` and `end`.
    /// Queues the head (it goes out with the first flushed body write; awaiting an unflushed write
    /// would wait for ever).
    func head(_ status: HTTPResponseStatus, headers: [(String, String)], contentLength: Int64) async throws {
        let h = baseHeaders(headers, contentLength: contentLength)
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: h)), promise: nil)
    }

    func body(_ buffer: ByteBuffer) async throws {
        counters.bytesOut.add(Int64(buffer.readableBytes), ordering: .relaxed)
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    /// A piece of a streamed body: waits for it to be written only while the client's socket is full,
    /// so reading the next piece (from an upstream) overlaps with sending this one. A failed write
    /// closes the channel, and `end` then fails.
    func bodyStreamed(_ buffer: ByteBuffer) async throws {
        counters.bytesOut.add(Int64(buffer.readableBytes), ordering: .relaxed)
        let f: EventLoopFuture<Void> = channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)))
        if !channel.isWritable { try await f.get() }
    }

    /// Sends `count` bytes of an open file from `offset` with sendfile (plain HTTP only).
    func file(_ handle: NIOFileHandle, offset: Int64, count: Int64) async throws {
        counters.bytesOut.add(count, ordering: .relaxed)
        let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + count))
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.fileRegion(region))).get()
    }

    func end() async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
    }
}

/// Remembers that the HTTP decoder met bytes it could not parse. NIO's protocol error handler then
/// answers 400 and closes; a handler still working on that request must not answer as well.
final class ParseErrorFlag: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    private(set) var failed = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError { failed = true }
        context.fireErrorCaught(error)
    }

    /// On `channel`'s event loop only.
    static func isSet(_ channel: any Channel) -> Bool {
        (try? channel.pipeline.syncOperations.handler(type: ParseErrorFlag.self))?.failed ?? false
    }
}
