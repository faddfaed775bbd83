import NIOCore
import NIOHTTP1

/// Time limits a slow or hostile client cannot stretch:
/// - **head**: once the first byte of a request arrives, its request line and headers must be
///   complete within `head` (a header line every few seconds no longer holds a connection);
/// - **body rate**: while the server waits for body bytes, at least `minBodyBytes` must arrive in
///   every `bodyWindow`; slower bodies are cut (the S3 gateway answers `RequestTimeout`).
///
/// Time spent while the server itself is not reading (back-pressure while it writes to disk) never
/// counts against the client: a window only fails if a read was pending through all of it.
public struct DeadlineSettings: Sendable, Equatable {
    public var head: TimeAmount
    public var bodyWindow: TimeAmount
    public var minBodyBytes: Int

    public init(head: TimeAmount = .seconds(10), bodyWindow: TimeAmount = .seconds(10), minBodyBytes: Int = 1024) {
        self.head = head
        self.bodyWindow = bodyWindow
        self.minBodyBytes = minBodyBytes
    }
}

/// Fired into the pipeline (as an error) when a body is slower than the minimum rate.
public struct RequestBodyTimeout: Error, Sendable {}

/// The state both deadline handlers share; lives on one channel's event loop.
final class DeadlineClock {
    enum Phase { case betweenRequests, head, body, handling }
    var phase: Phase = .betweenRequests
    var headTimer: Scheduled<Void>?
    var windowTimer: Scheduled<Void>?
    var windowBytes = 0
    /// Time in this window during which a read was pending (the server waited for the client).
    var waited: TimeAmount = .zero
    var readPendingSince: NIODeadline?
    var requestDone = true
    var responseDone = true
    var timedOut = false

    func readArrived(now: NIODeadline) {
        if let s = readPendingSince { waited = waited + (now - s) }
        readPendingSince = nil
    }

    /// Both the request and its response are complete: the next byte starts a new head clock.
    func settle() {
        if requestDone && responseDone && (phase == .handling || phase == .body) { phase = .betweenRequests }
    }
}

/// Sits next to the socket (before the HTTP decoder): sees raw bytes and the reads the pipeline
/// asks for, and enforces both limits.
public final class RawDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    let settings: DeadlineSettings
    let clock: DeadlineClock

    /// Returns the pair to add around the HTTP codec: `raw` before it, `phase` after it.
    public static func pair(_ settings: DeadlineSettings) -> (raw: RawDeadlineHandler, phase: RequestPhaseHandler) {
        let raw = RawDeadlineHandler(settings: settings, clock: DeadlineClock())
        return (raw, RequestPhaseHandler(raw: raw))
    }

    init(settings: DeadlineSettings, clock: DeadlineClock) {
        self.settings = settings
        self.clock = clock
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let n = unwrapInboundIn(data).readableBytes
        clock.readArrived(now: context.eventLoop.now)
        switch clock.phase {
        case .betweenRequests:
            if n > 0 { startHead(context) }
        case .body:
            clock.windowBytes += n
        case .head, .handling:
            break
        }
        context.fireChannelRead(data)
    }

    public func read(context: ChannelHandlerContext) {
        if clock.readPendingSince == nil { clock.readPendingSince = context.eventLoop.now }
        context.read()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    /// Its own context: the phase handler's events start and stop timers here, next to the socket.
    var context: ChannelHandlerContext?

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
        self.context = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    func cancelAll() {
        clock.headTimer?.cancel()
        clock.headTimer = nil
        clock.windowTimer?.cancel()
        clock.windowTimer = nil
    }

    func startHead(_ context: ChannelHandlerContext) {
        clock.phase = .head
        clock.headTimer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        clock.headTimer = context.eventLoop.scheduleTask(in: settings.head) {
            let (me, ctx) = loopBound.value
            guard me.clock.phase == .head else { return }
            // No request yet to answer in its own protocol: a bare 408 and close (as nginx does).
            me.clock.timedOut = true
            var buf = ctx.channel.allocator.buffer(capacity: 96)
            buf.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            ctx.writeAndFlush(me.wrapOutboundOut(buf)).whenComplete { _ in ctx.close(promise: nil) }
        }
    }

    /// The head is complete: from now on only the body rate matters.
    func headDone(_ context: ChannelHandlerContext, expectsBody: Bool) {
        clock.headTimer?.cancel()
        clock.headTimer = nil
        guard expectsBody else {
            clock.phase = .handling
            return
        }
        clock.phase = .body
        startWindow(context)
    }

    func startWindow(_ context: ChannelHandlerContext) {
        clock.windowBytes = 0
        clock.waited = .zero
        if clock.readPendingSince != nil { clock.readPendingSince = context.eventLoop.now }
        clock.windowTimer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        clock.windowTimer = context.eventLoop.scheduleTask(in: settings.bodyWindow) {
            let (me, ctx) = loopBound.value
            guard me.clock.phase == .body else { return }
            // Slow only if the server was asking for bytes most of the window and too few came.
            if let s = me.clock.readPendingSince { me.clock.waited = me.clock.waited + (ctx.eventLoop.now - s) }
            let waitedEnough = me.clock.waited.nanoseconds * 2 >= me.settings.bodyWindow.nanoseconds
            if me.clock.windowBytes < me.settings.minBodyBytes && waitedEnough {
                me.clock.timedOut = true
                me.clock.phase = .handling
                ctx.fireErrorCaught(RequestBodyTimeout())
                return
            }
            me.startWindow(ctx)
        }
    }

    func bodyDone() {
        clock.windowTimer?.cancel()
        clock.windowTimer = nil
        if clock.phase == .body || clock.phase == .head { clock.phase = .handling }
        clock.requestDone = true
        clock.settle()
    }
}

/// Sits after the HTTP codec: tells the raw handler where a request's head and body end, and
/// when the response is complete (the next request's head clock starts with its first byte).
public final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    let raw: RawDeadlineHandler
    var clock: DeadlineClock { raw.clock }

    init(raw: RawDeadlineHandler) { self.raw = raw }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            let hasLength = h.headers.first(name: "content-length").map { $0 != "0" } ?? false
            let expectsBody = hasLength || h.headers.contains(name: "transfer-encoding")
            clock.requestDone = false
            clock.responseDone = false
            if let rawContext = raw.context {
                if clock.phase == .betweenRequests { clock.phase = .head }
                raw.headDone(rawContext, expectsBody: expectsBody)
            }
        case .end:
            raw.bodyDone()
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// The idle timeout (an `IdleStateHandler` read timeout before the codec) closes a connection
    /// only between requests: a long download or a slow handler is not idleness, and a stalled
    /// head or body has its own limits above.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if clock.phase == .betweenRequests { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            clock.responseDone = true
            clock.settle()
        }
        context.write(data, promise: promise)
    }
}
