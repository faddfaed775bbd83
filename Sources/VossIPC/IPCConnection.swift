import NIOCore
import NIOPosix
import Synchronization
import VossWire

/// One end of a keeper↔worker socketpair: length-prefixed JSON frames (`FrameCodec`) in both
/// directions. Incoming messages arrive in order on `messages`, which finishes on EOF, on a
/// malformed frame, or on `close()`.
public final class IPCConnection: Sendable {
    public let messages: AsyncStream<WorkerEnvelope>
    private let channel: any Channel
    private let nextID = Atomic<UInt64>(1)

    private init(channel: any Channel, messages: AsyncStream<WorkerEnvelope>) {
        self.channel = channel
        self.messages = messages
    }

    /// Adopts an already connected stream socket (the fd is owned by the connection from now on).
    public static func adopt(fd: Int32, group: any EventLoopGroup) async throws -> IPCConnection {
        let (stream, continuation) = AsyncStream<WorkerEnvelope>.makeStream()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FrameHandler(continuation: continuation))
                }
            }
            .withConnectedSocket(fd).get()
        return IPCConnection(channel: channel, messages: stream)
    }

    public var isOpen: Bool { channel.isActive }

    /// Sends a message; returns after it was handed to the kernel (or throws if the peer is gone).
    public func send(_ message: WorkerMessage) async throws {
        let envelope = WorkerEnvelope(id: nextID.add(1, ordering: .relaxed).oldValue, message: message)
        let frame = FrameCodec.encode(envelope.encode())
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: frame))
    }

    /// Fire-and-forget send, for callers that cannot wait (errors mean the peer is gone, which the
    /// message stream reports anyway).
    public func post(_ message: WorkerMessage) {
        let envelope = WorkerEnvelope(id: nextID.add(1, ordering: .relaxed).oldValue, message: message)
        let frame = FrameCodec.encode(envelope.encode())
        channel.writeAndFlush(channel.allocator.buffer(bytes: frame), promise: nil)
    }

    public func close() { channel.close(promise: nil) }
}

final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var decoder = FrameDecoder()
    private let continuation: AsyncStream<WorkerEnvelope>.Continuation

    init(continuation: AsyncStream<WorkerEnvelope>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        decoder.append(buf.readBytes(length: buf.readableBytes) ?? [])
        do {
            while let frame = try decoder.next() {
                continuation.yield(try WorkerEnvelope.decode(frame))
            }
        } catch {
            // A corrupt stream cannot be resynchronised: drop the connection.
            continuation.finish()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}
