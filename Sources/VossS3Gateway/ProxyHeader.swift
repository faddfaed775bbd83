import NIOCore
import Synchronization
import VossVIPCore

/// The real client of a connection that came through a proxy (set from its PROXY header).
final class ClientOrigin: Sendable {
    private let value = Mutex<String?>(nil)
    var address: String? { value.withLock { $0 } }
    func set(_ a: String) { value.withLock { $0 = a } }
}

/// First on a connection's pipeline when PROXY protocol is accepted: reads a PROXY v2 header if the
/// connection starts with one, records the client address, passes every other byte on unchanged and
/// removes itself. A connection without a header (a client that came directly) is served as usual.
final class ProxyHeaderDecoder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let origin: ClientOrigin
    private var buffer: ByteBuffer?

    init(origin: ClientOrigin) { self.origin = origin }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        let bytes = Array(buffer!.readableBytesView.prefix(16 + 512))
        switch ProxyProtocolV2.parse(bytes) {
        case .needMore:
            // Nothing went downstream, so nobody there asks for more: ask ourselves (the async channel
            // reads on demand).
            context.read()
            return
        case .absent:
            forward(context, skipping: 0)
        case .header(let length, let source):
            if let source { origin.set(source.text) }
            forward(context, skipping: length)
        case .invalid:
            context.close(promise: nil)
        }
    }

    private func forward(_ context: ChannelHandlerContext, skipping n: Int) {
        var b = buffer!
        buffer = nil
        b.moveReaderIndex(forwardBy: n)
        if b.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(b))
        } else {
            context.read()  // the header came alone: the request is still to come
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
