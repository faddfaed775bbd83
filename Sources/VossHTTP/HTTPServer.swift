import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server for the JSON APIs (control API, i18n, test worker): whole bodies up to
/// `maxBodySize`, keep-alive, an idle timeout, and a graceful drain that lets requests in flight finish.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var maxBodySize: Int
        public var idleTimeout: TimeAmount
        public var serverName: String
        /// Decides from the head alone whether the caller is authenticated. Bodies of callers it
        /// refuses are read at most `unauthenticatedBodyLimit` bytes (and discarded): a caller
        /// without the token cannot make the server hold a large body.
        public var authorize: (@Sendable (HTTPRequestHead) -> Bool)?
        public var unauthenticatedBodyLimit: Int
        public var deadlines: DeadlineSettings
        public var connectionLimits: ConnectionLimiter.Limits

        public init(
            maxBodySize: Int = 1 << 20, idleTimeout: TimeAmount = .seconds(60), serverName: String = "VOSS",
            authorize: (@Sendable (HTTPRequestHead) -> Bool)? = nil, unauthenticatedBodyLimit: Int = 4096,
            deadlines: DeadlineSettings = .init(), connectionLimits: ConnectionLimiter.Limits = .init(total: 1024, perAddress: 256)
        ) {
            self.maxBodySize = maxBodySize
            self.idleTimeout = idleTimeout
            self.serverName = serverName
            self.authorize = authorize
            self.unauthenticatedBodyLimit = unauthenticatedBodyLimit
            self.deadlines = deadlines
            self.connectionLimits = connectionLimits
        }
    }

    private let group: any EventLoopGroup
    private let configuration: Configuration
    private let handler: HTTPHandler
    private let connections = ConnectionTracker()
    private let limiter: ConnectionLimiter
    private let listeners = Mutex<[any Channel]>([])
    public let counters = ServerCounters()

    public init(group: any EventLoopGroup, configuration: Configuration = .init(), handler: @escaping HTTPHandler) {
        self.group = group
        self.configuration = configuration
        self.handler = handler
        limiter = ConnectionLimiter(configuration.connectionLimits)
    }

    /// Connections refused because a cap was reached.
    public var refusedConnections: Int64 { limiter.refused }

    private func bootstrap() -> ServerBootstrap {
        let configuration = self.configuration
        let handler = self.handler
        let connections = self.connections
        let counters = self.counters
        let limiter = self.limiter
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    counters.connections.add(1, ordering: .relaxed)
                    guard limiter.admit(channel, perAddressKey: ConnectionLimiter.key(channel)) else { return }
                    connections.add(channel)
                    channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                    try channel.pipeline.syncOperations.addHandler(
                        IdleStateHandler(readTimeout: configuration.idleTimeout))
                    let deadlines = RawDeadlineHandler.pair(configuration.deadlines)
                    try channel.pipeline.syncOperations.addHandler(deadlines.raw)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(deadlines.phase)
                    try channel.pipeline.syncOperations.addHandler(
                        BufferedHTTPHandler(
                            configuration: configuration, handler: handler, tracker: connections, counters: counters))
                }
            }
    }

    /// Serves on a listening socket the caller already bound (e.g. one inherited from the keeper).
    public func serve(boundSocket fd: Int32) async throws -> String {
        let channel = try await bootstrap().withBoundSocket(fd).get()
        listeners.withLock { $0.append(channel) }
        return channel.localAddress?.description ?? "fd \(fd)"
    }

    /// Binds and serves `host:port`; returns the bound address.
    public func serve(host: String, port: Int) async throws -> SocketAddress? {
        let channel = try await bootstrap().bind(host: host, port: port).get()
        listeners.withLock { $0.append(channel) }
        return channel.localAddress
    }

    /// Stops accepting, lets requests in flight finish (closing idle keep-alive connections at once),
    /// and force-closes whatever is left after `grace`.
    public func drain(grace: Duration) async {
        let ls = listeners.withLock { l in
            defer { l.removeAll() }
            return l
        }
        for l in ls { try? await l.close() }
        connections.beginDraining()
        _ = await connections.waitUntilEmpty(within: grace)
        connections.closeAll()
    }
}

/// Counters a worker reports in its `pong`.
public final class ServerCounters: Sendable {
    public let requests = Atomic<Int64>(0)
    public let connections = Atomic<Int64>(0)
    public let errors = Atomic<Int64>(0)

    public init() {}

    public var snapshot: [String: Int64] {
        [
            "requests": requests.load(ordering: .relaxed), "connections": connections.load(ordering: .relaxed),
            "errors": errors.load(ordering: .relaxed),
        ]
    }
}

/// Open connections and whether each is mid-request, for draining: idle ones are closed at once,
/// busy ones finish their request (their response says `Connection: close`).
public final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: (channel: any Channel, busy: Bool)] = [:]
        var draining = false
        var emptyWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.channels.count } }
    public var isDraining: Bool { state.withLock { $0.draining } }

    public func add(_ c: any Channel) {
        let draining = state.withLock { s in
            s.channels[ObjectIdentifier(c)] = (c, false)
            return s.draining
        }
        if draining { c.close(promise: nil) }
    }

    public func remove(_ c: any Channel) {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.channels.removeValue(forKey: ObjectIdentifier(c))
            guard s.channels.isEmpty else { return [] }
            defer { s.emptyWaiters.removeAll() }
            return Array(s.emptyWaiters.values)
        }
        wake.forEach { $0.resume() }
    }

    /// Waits until no connection is open, at most `limit`; whether they all closed.
    public func waitUntilEmpty(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { g in
            g.addTask { await self.empty(); return true }
            g.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await g.next() ?? false
            g.cancelAll()
            return first
        }
    }

    private func empty() async {
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.channels.isEmpty || Task.isCancelled { return true }
                    s.emptyWaiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.emptyWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    public func setBusy(_ c: any Channel, _ busy: Bool) {
        state.withLock { s in
            if s.channels[ObjectIdentifier(c)] != nil { s.channels[ObjectIdentifier(c)]!.busy = busy }
        }
    }

    public func beginDraining() {
        let idle = state.withLock { s in
            s.draining = true
            return s.channels.values.filter { !$0.busy }.map(\.channel)
        }
        idle.forEach { $0.close(promise: nil) }
    }

    public func closeAll() {
        let all = state.withLock { $0.channels.values.map(\.channel) }
        all.forEach { $0.close(promise: nil) }
    }
}

final class BufferedHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let configuration: HTTPServer.Configuration
    private let handler: HTTPHandler
    private let tracker: ConnectionTracker
    private let counters: ServerCounters
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var authenticated = true
    private var unauthenticatedBytes = 0

    private var bodyLimit: Int { authenticated ? configuration.maxBodySize : configuration.unauthenticatedBodyLimit }

    init(
        configuration: HTTPServer.Configuration, handler: @escaping HTTPHandler, tracker: ConnectionTracker,
        counters: ServerCounters
    ) {
        self.configuration = configuration
        self.handler = handler
        self.tracker = tracker
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
            authenticated = configuration.authorize?(h) ?? true
            if let len = h.headers.first(name: "content-length").flatMap(Int.init), len > bodyLimit {
                tooLarge = true
            }
            tracker.setBusy(context.channel, true)
        case .body(var buf):
            guard !tooLarge else {
                // An unauthenticated caller does not get to stream a large body at us.
                if !authenticated { context.close(promise: nil) }
                return
            }
            if body.count + buf.readableBytes > bodyLimit {
                tooLarge = true
                body = []
            } else if authenticated {
                body.append(contentsOf: buf.readBytes(length: buf.readableBytes) ?? [])
            } else {
                body.reserveCapacity(0)
                unauthenticatedBytes += buf.readableBytes
                if unauthenticatedBytes > bodyLimit { tooLarge = true }
            }
        case .end:
            guard let head else { return }
            self.head = nil
            counters.requests.add(1, ordering: .relaxed)
            let keepAlive = head.isKeepAlive && !tracker.isDraining
            unauthenticatedBytes = 0
            if tooLarge {
                counters.errors.add(1, ordering: .relaxed)
                respond(
                    context: context, head: head,
                    response: .json(["error": ["code": "body_too_large", "message": "The request body is too large."]],
                                    status: .payloadTooLarge),
                    keepAlive: false)
                return
            }
            let request = HTTPRequest(
                method: head.method, uri: head.uri, headers: head.headers, body: body,
                remoteAddress: context.channel.remoteAddress?.description)
            body = []
            let handler = self.handler
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            Task {
                let response = await handler(request)
                eventLoop.execute {
                    let (me, ctx) = loopBound.value
                    me.respond(context: ctx, head: head, response: response, keepAlive: keepAlive)
                }
            }
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse, keepAlive: Bool) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Server", value: configuration.serverName)
        let keep = keepAlive && !tracker.isDraining
        headers.replaceOrAdd(name: "Connection", value: keep ? "keep-alive" : "close")
        if response.status.code >= 500 { counters.errors.add(1, ordering: .relaxed) }
        let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD && !response.body.isEmpty {
            var buf = context.channel.allocator.buffer(capacity: response.body.count)
            buf.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        }
        let channel = context.channel
        let tracker = self.tracker
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            tracker.setBusy(channel, false)
            if !keep { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
