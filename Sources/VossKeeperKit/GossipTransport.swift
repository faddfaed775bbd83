// The NIO side of gossip: datagrams into the actor, one length-prefixed frame per push-pull.
import NIOCore
import NIOPosix
import VossWire

/// Reads datagrams into an async stream (the actor consumes them in order).
final class DatagramReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let sink: AsyncStream<(bytes: [UInt8], from: SocketAddress?)>.Continuation

    init(sink: AsyncStream<(bytes: [UInt8], from: SocketAddress?)>.Continuation) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        // A SWIM datagram stays within 1400 bytes; anything much larger is not ours.
        guard env.data.readableBytes <= 65_000 else { return }
        sink.yield((Array(env.data.readableBytesView), env.remoteAddress))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like arrive here; a datagram socket keeps going.
    }
}

/// Collects one length-prefixed frame from a TCP stream.
final class FrameReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var decoder = FrameDecoder()
    private var done = false
    private let onFrame: @Sendable ([UInt8]) -> Void
    private let onEnd: (@Sendable () -> Void)?

    init(onFrame: @escaping @Sendable ([UInt8]) -> Void, onEnd: (@Sendable () -> Void)? = nil) {
        self.onFrame = onFrame
        self.onEnd = onEnd
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        decoder.append(unwrapInboundIn(data).readableBytesView)
        do {
            if let frame = try decoder.next() {
                done = true
                onFrame(frame)
            }
        } catch {
            done = true
            context.close(promise: nil)
            onEnd?()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { onEnd?() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension GossipService {
    // MARK: TCP push-pull

    enum ExchangeFailure: Error, CustomStringConvertible {
        case connect(String)
        case closed
        case timeout
        case frame(String)

        var description: String {
            switch self {
            case .connect(let e): "cannot connect: \(e)"
            case .closed: "closed the connection without answering"
            case .timeout: "no answer within \(GossipService.exchangeTimeout.nanoseconds / 1_000_000_000) s"
            case .frame(let e): "bad answer: \(e)"
            }
        }
    }

    /// One request frame out, one reply frame back, then close.
    static func pushPull(group: any EventLoopGroup, to address: SocketAddress, request: [UInt8]) async -> Result<[UInt8], ExchangeFailure> {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(2))
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(
                            FrameReader(onFrame: { promise.succeed($0) }, onEnd: { promise.fail(ExchangeFailure.closed) }))
                    }
                }
                .connect(to: address).get()
        } catch {
            promise.fail(ExchangeFailure.connect("\(error)"))
            return .failure(.connect("\(error)"))
        }
        let timer = loop.scheduleTask(in: exchangeTimeout) { promise.fail(ExchangeFailure.timeout) }
        channel.writeAndFlush(channel.allocator.buffer(bytes: FrameCodec.encode(request)), promise: nil)
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        do {
            return .success(try await promise.futureResult.get())
        } catch let f as ExchangeFailure {
            return .failure(f)
        } catch {
            return .failure(.frame("\(error)"))
        }
    }
}
