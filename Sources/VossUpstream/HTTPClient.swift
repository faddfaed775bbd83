import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import VossBase
import VossS3Core

/// How VOSS checks an upstream's certificate: the system's trust roots, a CA file, or (for test
/// clusters only) not at all.
public struct UpstreamTLSOptions: Sendable, Equatable {
    public var verify: Bool
    public var caFile: String?

    public init(verify: Bool = true, caFile: String? = nil) {
        self.verify = verify
        self.caFile = caFile
    }
}

/// What went wrong talking to an upstream, in words an operator can act on.
public enum UpstreamError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Could not connect, or the connection broke before an answer: the upstream is unavailable.
    case unreachable(String)
    /// No answer within the deadline.
    case timeout(String)
    /// The upstream answered with an error.
    case status(Int, code: String, message: String)
    /// The upstream answered something VOSS cannot use.
    case protocolError(String)

    public var description: String {
        switch self {
        case .unreachable(let why): "unreachable: \(why)"
        case .timeout(let what): "timed out: \(what)"
        case .status(let s, let code, let message): "HTTP \(s) \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .protocolError(let why): "unexpected answer: \(why)"
        }
    }

    /// The upstream could not be used at all (as opposed to refusing one request).
    public var isUnavailable: Bool {
        switch self {
        case .unreachable, .timeout: true
        case .status(let s, _, _): s == 503 || s == 502 || s == 504
        case .protocolError: false
        }
    }
}

/// A small HTTP/1.1 client for one upstream endpoint: pooled keep-alive connections (plain or TLS),
/// request bodies streamed with back-pressure, response bodies read piece by piece. Each connection
/// is a task that owns its channel (`NIOAsyncChannel.executeThenClose`) and hands response parts to
/// the exchange using it through an `AsyncPipe`.
public final class UpstreamHTTPClient: Sendable {
    public let endpoint: UpstreamEndpoint
    let group: any EventLoopGroup
    let ssl: NIOSSLContext?
    /// Idle connections by event loop: a request takes one on its own loop, so its bytes never change
    /// threads between the client's socket and the upstream's.
    let idle = Mutex<[ObjectIdentifier: [UpstreamConnection]]>([:])
    let maxIdle: Int
    let connectTimeout: TimeAmount
    /// How long a response head may take once the request is sent.
    public let responseTimeout: TimeAmount

    public init(
        endpoint: UpstreamEndpoint, tls: UpstreamTLSOptions = .init(), group: any EventLoopGroup, maxIdle: Int = 64,
        connectTimeout: TimeAmount = .seconds(5), responseTimeout: TimeAmount = .seconds(60)
    ) throws {
        self.endpoint = endpoint
        self.group = group
        self.maxIdle = maxIdle
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        if endpoint.tls {
            var c = TLSConfiguration.makeClientConfiguration()
            if !tls.verify { c.certificateVerification = .none }
            if let ca = tls.caFile { c.trustRoots = .file(ca) }
            ssl = try NIOSSLContext(configuration: c)
        } else {
            ssl = nil
        }
    }

    /// Sends a request head and returns the exchange to write the body and read the answer with.
    /// A pooled connection is used when one is idle.
    public func start(method: HTTPMethod, uri: String, headers: [(String, String)]) async throws -> UpstreamExchange {
        var h = HTTPHeaders(headers)
        if !h.contains(name: "host") { h.add(name: "Host", value: endpoint.hostHeader) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: h)
        // A reused connection may have been closed by the upstream meanwhile; the head write tells.
        for _ in 0..<2 {
            guard let c = takeIdle() else { break }
            do {
                try await c.outbound.write(.head(head))
                return UpstreamExchange(client: self, connection: c, method: method)
            } catch {
                c.close()
            }
        }
        let c = try await connect()
        do {
            try await c.outbound.write(.head(head))
        } catch {
            c.close()
            throw UpstreamError.unreachable("\(endpoint): \(error)")
        }
        return UpstreamExchange(client: self, connection: c, method: method)
    }

    /// A complete request with a small body, its whole answer read. `headers` is asked for on each
    /// attempt (a signature carries the time); the request is retried once on a fresh connection when
    /// a pooled one turned out to be closed.
    public func send(
        _ method: HTTPMethod, uri: String, body: [UInt8] = [], headers: () -> [(String, String)]
    ) async throws -> (HTTPResponseHead, [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                var h = headers()
                if !body.isEmpty || method == .PUT || method == .POST { h.append(("content-length", String(body.count))) }
                let ex = try await start(method: method, uri: uri, headers: h)
                if !body.isEmpty { try await ex.write(ByteBuffer(bytes: body)) }
                try await ex.finishRequest()
                let head = try await ex.response()
                return (head, try await ex.readAll())
            } catch let e as UpstreamError {
                if case .unreachable = e, attempt < 2 { continue }
                throw e
            }
        }
    }

    static func loopKey(_ loop: (any EventLoop)?) -> ObjectIdentifier? { loop.map { ObjectIdentifier($0 as AnyObject) } }

    func takeIdle() -> UpstreamConnection? {
        let now = NIODeadline.now()
        let key = Self.loopKey(MultiThreadedEventLoopGroup.currentEventLoop)
        return idle.withLock { all -> UpstreamConnection? in
            let keys = key.map { [$0] } ?? Array(all.keys)
            for k in keys {
                while let c = all[k]?.popLast() {
                    if c.isUsable && now - c.idleSince < .seconds(15) { return c }
                    c.close()
                }
            }
            return nil
        }
    }

    func release(_ c: UpstreamConnection) {
        let key = ObjectIdentifier(c.channel.eventLoop as AnyObject)
        let kept = idle.withLock { all -> Bool in
            guard all.values.reduce(0, { $0 + $1.count }) < maxIdle, c.isUsable else { return false }
            c.idleSince = .now()
            all[key, default: []].append(c)
            return true
        }
        if !kept { c.close() }
    }

    /// Closes every idle connection (shutdown, or a changed configuration).
    public func closeIdle() {
        let all = idle.withLock { l -> [UpstreamConnection] in
            defer { l.removeAll() }
            return l.values.flatMap { $0 }
        }
        for c in all { c.close() }
    }

    func connect() async throws -> UpstreamConnection {
        let ssl = self.ssl
        let host = endpoint.host
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            // On the caller's event loop when it runs on one (a gateway connection's requests do).
            let loop: any EventLoop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: endpoint.port) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        if let ssl {
                            let sni = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
                            try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: sni))
                        }
                        try ch.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: ch)
                    }
                }
        } catch {
            throw UpstreamError.unreachable("cannot connect to \(endpoint): \(error)")
        }
        return await UpstreamConnection.run(channel)
    }
}

/// One connection: its writer, and a pipe of its response parts filled by the task that owns it.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    let inbound: AsyncPipe<HTTPClientResponsePart>
    private let idleAt = Mutex<NIODeadline>(.now())

    var idleSince: NIODeadline {
        get { idleAt.withLock { $0 } }
        set { idleAt.withLock { $0 = newValue } }
    }

    init(channel: any Channel, outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, inbound: AsyncPipe<HTTPClientResponsePart>) {
        self.channel = channel
        self.outbound = outbound
        self.inbound = inbound
    }

    static func run(_ ch: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) async -> UpstreamConnection {
        let pipe = AsyncPipe<HTTPClientResponsePart>(capacity: 8)
        let raw = ch.channel
        let owner = ChannelOwner(eventLoop: raw.eventLoop)
        return await withCheckedContinuation { (cont: CheckedContinuation<UpstreamConnection, Never>) in
            Task { await owner.run(ch, pipe: pipe, ready: cont) }
        }
    }

    var isUsable: Bool { channel.isActive }

    func close() {
        inbound.cancel()
        channel.close(promise: nil)
    }
}

/// Owns one upstream connection: reads its response parts on the channel's own event loop (the
/// actor's executor is the loop) and hands them to the request using it.
actor ChannelOwner {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }

    func run(
        _ ch: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, pipe: AsyncPipe<HTTPClientResponsePart>,
        ready: CheckedContinuation<UpstreamConnection, Never>
    ) async {
        let raw = ch.channel
        do {
            try await ch.executeThenClose(isolation: self) { inbound, outbound in
                ready.resume(returning: UpstreamConnection(channel: raw, outbound: outbound, inbound: pipe))
                for try await part in inbound { try await pipe.send(part) }
                pipe.finish(throwing: UpstreamError.unreachable("the upstream closed the connection"))
            }
        } catch {
            pipe.finish(throwing: UpstreamError.unreachable("connection lost: \(error)"))
        }
    }
}

/// One request/response on a connection. Write the body (if any) with `write`, then `finishRequest`;
/// read the head with `response()` and the body with `nextBody()` until `nil`. The connection goes
/// back to the pool once the whole response was read; `cancel()` (or a failure) closes it instead.
public final class UpstreamExchange: @unchecked Sendable {  // used by one task at a time
    let client: UpstreamHTTPClient
    let connection: UpstreamConnection
    let method: HTTPMethod
    private var head: HTTPResponseHead?
    private var done = false
    private var timer: Scheduled<Void>?

    init(client: UpstreamHTTPClient, connection: UpstreamConnection, method: HTTPMethod) {
        self.client = client
        self.connection = connection
        self.method = method
    }

    public func write(_ buffer: ByteBuffer) async throws {
        do { try await connection.outbound.write(.body(.byteBuffer(buffer))) } catch {
            cancel()
            throw UpstreamError.unreachable("sending to \(client.endpoint): \(error)")
        }
    }

    /// Ends the request; the response deadline starts.
    public func finishRequest() async throws {
        do { try await connection.outbound.write(.end(nil)) } catch {
            cancel()
            throw UpstreamError.unreachable("sending to \(client.endpoint): \(error)")
        }
        let ch = connection.channel
        timer = ch.eventLoop.scheduleTask(in: client.responseTimeout) { ch.close(promise: nil) }
    }

    /// The response head (waits for it).
    public func response() async throws -> HTTPResponseHead {
        if let head { return head }
        do {
            while let part = try await connection.inbound.next() {
                switch part {
                case .head(let h) where h.status == .continue:
                    continue
                case .head(let h):
                    timer?.cancel()
                    head = h
                    return h
                default:
                    throw UpstreamError.protocolError("body before the response head")
                }
            }
            throw UpstreamError.unreachable("no answer from \(client.endpoint)")
        } catch let e as UpstreamError {
            cancel()
            throw e
        } catch {
            cancel()
            throw UpstreamError.unreachable("no answer from \(client.endpoint): \(error)")
        }
    }

    /// The next piece of the response body; `nil` at its end (the connection is then reused).
    public func nextBody() async throws -> ByteBuffer? {
        if done { return nil }
        if head == nil { _ = try await response() }
        do {
            while let part = try await connection.inbound.next() {
                switch part {
                case .body(let b): return b
                case .end:
                    done = true
                    if head?.isKeepAlive ?? false { client.release(connection) } else { connection.close() }
                    return nil
                case .head: throw UpstreamError.protocolError("a second response head")
                }
            }
            throw UpstreamError.unreachable("\(client.endpoint) closed the connection mid-answer")
        } catch let e as UpstreamError {
            cancel()
            throw e
        } catch {
            cancel()
            throw UpstreamError.unreachable("reading from \(client.endpoint): \(error)")
        }
    }

    /// The whole (small) response body; more than `limit` bytes is an error.
    public func readAll(limit: Int = 4 << 20) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let b = try await nextBody() {
            guard out.count + b.readableBytes <= limit else {
                cancel()
                throw UpstreamError.protocolError("an answer larger than \(limit) bytes")
            }
            out += b.readableBytesView
        }
        return out
    }

    /// Abandons the exchange and closes its connection (an unfinished request body is never completed).
    public func cancel() {
        timer?.cancel()
        if !done {
            done = true
            connection.close()
        }
    }

    deinit {
        if !done { connection.close() }
    }
}
