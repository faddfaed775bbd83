import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VossBase
import VossVIPCore
import VossWire
import VossWorkerKit

/// `voss-vip`: the cluster's front door. Listens on the virtual address and port (`vip.address`,
/// `vip.port`) and relays every TCP connection to an S3 gateway of a live member (`vip.backends`,
/// pushed by the keeper from the gossip membership). A refused or timed-out connect is retried on
/// another backend, up to three in all; the client never sees it.
///
/// It binds the listener itself (with IP_FREEBIND, so the address need not be on an interface yet:
/// ownership may move it here later) because the address is cluster configuration that changes at
/// run time, unlike the keeper-bound sockets of the other workers.
public final class VIPWorker: WorkerApp {
    struct Settings: Equatable {
        var address: String?
        var port: Int?
        var proxyProtocol = false
        var backends: [Backend] = []
    }

    let table = Mutex(BackendTable(seed: UInt64.random(in: 0...UInt64.max)))
    let settings = Mutex(Settings())
    let listener = Mutex<(any Channel)?>(nil)
    let group = Mutex<(any EventLoopGroup)?>(nil)
    let logger = Mutex(Logger(label: "voss.vip"))
    let status = Mutex<(@Sendable (String) -> Void)?>(nil)
    let draining = Atomic<Bool>(false)
    let origin = ContinuousClock.now
    let accepted = Atomic<Int64>(0)
    let connectFailures = Atomic<Int64>(0)
    let noBackend = Atomic<Int64>(0)
    static let maxAttempts = 3

    public init() {}

    func now() -> Instant { Instant(nanoseconds: (ContinuousClock.now - origin).nanosecondsClamped) }

    static func parse(_ slice: ConfigSlice) throws -> Settings {
        var s = Settings()
        let v = slice.values
        if let a = v["vip.address"], !a.isEmpty { s.address = a }
        if let p = v["vip.port"] {
            guard let n = Int(p), (1...65535).contains(n) else { throw WorkerStartError("vip.port '\(p)' is not a port") }
            s.port = n
        }
        s.proxyProtocol = v["vip.proxy_protocol"] == "on"
        if let json = v["vip.backends"], !json.isEmpty {
            do {
                s.backends = try JSONDecoder().decode([Backend].self, from: Data(json.utf8))
            } catch {
                throw WorkerStartError("vip.backends is not a backend list: \(error)")
            }
        }
        return s
    }

    public func start(_ context: WorkerContext) async throws -> [String] {
        group.withLock { $0 = context.group }
        logger.withLock { $0 = context.logger }
        status.withLock { $0 = context.reportStatus }
        let s = try Self.parse(context.config)
        return try await apply(s)
    }

    public func reload(_ config: ConfigSlice) async throws {
        _ = try await apply(try Self.parse(config))
    }

    /// Adopts new settings: the backend list at once; a new address or port rebinds (connections in
    /// flight on the old listener go on).
    private func apply(_ s: Settings) async throws -> [String] {
        let old = settings.withLock { cur in
            let o = cur
            cur = s
            return o
        }
        table.withLock { $0.update(s.backends) }
        let log = logger.withLock { $0 }
        if old.backends != s.backends {
            log.info("backends", metadata: ["backends": "\(s.backends.map { "\($0.name)=\($0.host):\($0.port)" })"])
        }
        var bound: [String] = []
        if old.address != s.address || old.port != s.port || listener.withLock({ $0 }) == nil {
            await closeListener()
            if let address = s.address, let port = s.port, !draining.load(ordering: .relaxed) {
                let ch = try await bind(address: address, port: port)
                listener.withLock { $0 = ch }
                log.notice("serving the virtual address", metadata: ["address": "\(address):\(port)"])
            }
        }
        if let ch = listener.withLock({ $0 }), let a = ch.localAddress { bound.append(a.description) }
        report()
        return bound
    }

    /// Stops accepting on the virtual address (connections in flight go on).
    private func closeListener() async {
        let ch = listener.withLock { c in
            defer { c = nil }
            return c
        }
        try? await ch?.close()
    }

    private func report() {
        let s = settings.withLock { $0 }
        let text: String
        if let a = s.address, let p = s.port {
            text = "\(a):\(p) -> \(s.backends.count) backends" + (s.proxyProtocol ? " (PROXY v2)" : "")
        } else {
            text = "idle: no virtual address set (ose vip set)"
        }
        status.withLock { $0 }?(text)
    }

    private func bind(address: String, port: Int) async throws -> any Channel {
        guard let group = group.withLock({ $0 }) else { throw WorkerStartError("not started") }
        // IP_FREEBIND (15 on Linux): bind an address this host does not hold yet.
        let freebind = ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 15))
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(freebind, value: 1)
            // Several keepers on one host (tests, one-machine demos) serve the same virtual port.
            .serverChannelOption(ChannelOptions.Types.SocketOption(level: .socket, name: .init(rawValue: SO_REUSEPORT)), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 << 10, maximum: 256 << 10))
            .childChannelInitializer { [self] ch in
                accepted.add(1, ordering: .relaxed)
                return ch.eventLoop.makeCompletedFuture {
                    // What the client sends before the backend connection is up waits here. The backend
                    // is dialled once the client channel is active (not before: a fast connect could
                    // otherwise complete while the client is still being registered).
                    try ch.pipeline.syncOperations.addHandler(Staging { self.connect($0, tried: [], attempt: 1) })
                }
            }
            .bind(host: address, port: port).get()
    }

    /// Opens a backend connection for `client`, then relays both ways.
    func connect(_ client: any Channel, tried: Set<String>, attempt: Int) {
        guard let b = table.withLock({ $0.pick(excluding: tried, now: now()) }) else {
            noBackend.add(1, ordering: .relaxed)
            logger.withLock { $0 }.warning("no backend for a connection", metadata: ["tried": "\(tried.sorted())"])
            client.close(promise: nil)
            return
        }
        let proxy = settings.withLock { $0.proxyProtocol }
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(.seconds(1))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 << 10, maximum: 256 << 10))
            .connect(host: b.host, port: b.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let server):
                    table.withLock { $0.connected(b.name) }
                    if proxy, let h = Self.proxyHeader(client) {
                        server.write(server.allocator.buffer(bytes: h), promise: nil)
                    }
                    let pair = PairState()
                    do {
                        try server.pipeline.syncOperations.addHandler(
                            Relay(peer: client, pair: pair, side: .server) { [self] in table.withLock { $0.closed(b.name) } })
                        // Hand over from the staging handler: what it holds goes first, then the relay.
                        let staging = try client.pipeline.syncOperations.handler(type: Staging.self)
                        for chunk in staging.held { server.write(chunk, promise: nil) }
                        server.flush()
                        let relay = Relay(peer: server, pair: pair, side: .client, onClose: nil)
                        try client.pipeline.syncOperations.addHandler(relay)
                        client.pipeline.syncOperations.removeHandler(staging, promise: nil)
                        if !client.isActive {
                            server.close(promise: nil)
                        } else if staging.inputClosed {
                            relay.inputEnded(client)
                        }
                        if staging.paused { client.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
                    } catch {
                        server.close(promise: nil)
                        client.close(promise: nil)
                        return
                    }
                case .failure(let error):
                    connectFailures.add(1, ordering: .relaxed)
                    table.withLock { $0.connectFailed(b.name, now: now()) }
                    logger.withLock { $0 }.warning(
                        "backend refused a connection", metadata: ["backend": "\(b.name)", "address": "\(b.host):\(b.port)", "error": "\(error)"])
                    if attempt < Self.maxAttempts && client.isActive {
                        connect(client, tried: tried.union([b.name]), attempt: attempt + 1)
                    } else {
                        client.close(promise: nil)
                    }
                }
            }
    }

    static func proxyHeader(_ client: any Channel) -> [UInt8]? {
        guard let r = client.remoteAddress, let l = client.localAddress, let rip = r.ipAddress, let lip = l.ipAddress,
            let rp = r.port, let lp = l.port,
            let src = ProxyProtocolV2.Address(ip: rip, port: rp), let dst = ProxyProtocolV2.Address(ip: lip, port: lp)
        else { return nil }
        return ProxyProtocolV2.header(source: src, destination: dst)
    }

    public func drain(grace: Duration) async {
        draining.store(true, ordering: .relaxed)
        await closeListener()
        // Connections in flight finish on their own (up to the grace period).
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline && table.withLock({ $0.activeConnections }) > 0 {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    public func counters() -> [String: Int64] {
        var out: [String: Int64] = [
            "connections": accepted.load(ordering: .relaxed), "connect_failures": connectFailures.load(ordering: .relaxed),
            "no_backend": noBackend.load(ordering: .relaxed),
        ]
        table.withLock { t in
            var active: Int64 = 0
            for e in t.entries.values {
                out["backend.\(e.backend.name).active"] = Int64(e.active)
                out["backend.\(e.backend.name).total"] = Int64(e.total)
                active += Int64(e.active)
            }
            out["active"] = active
        }
        return out
    }
}

/// Holds what a new client sends until its backend connection is up (and stops reading beyond
/// 256 KiB, so a client cannot make the translator buffer without bound).
final class Staging: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let onActive: (any Channel) -> Void
    private(set) var held: [ByteBuffer] = []
    private var bytes = 0
    private(set) var inputClosed = false
    private(set) var paused = false

    init(onActive: @escaping (any Channel) -> Void) { self.onActive = onActive }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        onActive(context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        bytes += b.readableBytes
        held.append(b)
        if bytes > 256 << 10 && !paused {
            paused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Which halves of a relayed connection pair have ended; both channels are on one event loop.
final class PairState {
    var clientInputClosed = false
    var serverInputClosed = false
}

/// Copies what one side reads to the other side, with backpressure (a side that cannot write fast
/// enough stops the other side's reads) and half-close (a client that shuts down its sending side
/// still gets the whole answer).
final class Relay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    enum Side { case client, server }

    let peer: any Channel
    let pair: PairState
    let side: Side
    let onClose: (@Sendable () -> Void)?
    private var pending = false
    private var closed = false

    init(peer: any Channel, pair: PairState, side: Side, onClose: (@Sendable () -> Void)?) {
        self.peer = peer
        self.pair = pair
        self.side = side
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.write(unwrapInboundIn(data), promise: nil)
        pending = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pending {
            pending = false
            peer.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side's send buffer is full (or drained): pause (or resume) reading from the other side.
        peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputEnded(context.channel)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// This side's input ended (also: the client had shut down its sending side before the relay
    /// took over): shut the peer's output, or close both once both inputs have ended.
    func inputEnded(_ channel: any Channel) {
        switch side {
        case .client: pair.clientInputClosed = true
        case .server: pair.serverInputClosed = true
        }
        if pair.clientInputClosed && pair.serverInputClosed {
            channel.close(promise: nil)
            peer.close(promise: nil)
        } else {
            peer.close(mode: .output, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed {
            closed = true
            peer.close(promise: nil)
            onClose?()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
