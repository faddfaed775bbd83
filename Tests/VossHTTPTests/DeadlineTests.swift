import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import VossHTTP

/// The head deadline and the body rate on an EmbeddedChannel: time is advanced by hand, no sleeps.
@Suite struct DeadlineTests {
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var parts: [HTTPServerRequestPart] = []
        var errors: [any Error] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { parts.append(unwrapInboundIn(data)) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
    }

    func channel(_ s: DeadlineSettings) throws -> (EmbeddedChannel, Recorder) {
        let ch = EmbeddedChannel()
        let pair = RawDeadlineHandler.pair(s)
        let rec = Recorder()
        try ch.pipeline.syncOperations.addHandler(pair.raw)
        try ch.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
        try ch.pipeline.syncOperations.addHandler(pair.phase)
        try ch.pipeline.syncOperations.addHandler(rec)
        try ch.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (ch, rec)
    }

    func send(_ ch: EmbeddedChannel, _ s: String) throws { try ch.writeInbound(ch.allocator.buffer(string: s)) }

    func outbound(_ ch: EmbeddedChannel) throws -> String {
        var out = ""
        while var b = try ch.readOutbound(as: ByteBuffer.self) { out += b.readString(length: b.readableBytes) ?? "" }
        return out
    }

    @Test func aHeadTrickledInIsCutAtTheDeadline() throws {
        let (ch, _) = try channel(.init(head: .seconds(10)))
        try send(ch, "GET / HTTP/1.1\r\nHost: x\r\n")
        for i in 0..<9 {  // a header line every second: each read would reset an idle timer
            ch.embeddedEventLoop.advanceTime(by: .seconds(1))
            try send(ch, "X-\(i): y\r\n")
        }
        #expect(ch.isActive)
        ch.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try outbound(ch).hasPrefix("HTTP/1.1 408"))
        #expect(!ch.isActive)
    }

    @Test func aCompleteHeadStopsTheClock_andTheNextRequestStartsANewOne() throws {
        let (ch, rec) = try channel(.init(head: .seconds(10)))
        try send(ch, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        ch.embeddedEventLoop.advanceTime(by: .seconds(30))  // the handler takes its time: not the client's fault
        #expect(ch.isActive)
        #expect(rec.parts.count == 2)
        try ch.writeOutbound(HTTPServerResponsePart.head(.init(version: .http1_1, status: .ok, headers: ["content-length": "0"])))
        try ch.writeOutbound(HTTPServerResponsePart.end(nil))
        _ = try outbound(ch)
        ch.embeddedEventLoop.advanceTime(by: .seconds(60))  // idle between requests: the idle timeout's business
        #expect(ch.isActive)
        try send(ch, "GET /2 HTTP/1.1\r\n")
        ch.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!ch.isActive)
    }

    @Test func aTricklingBodyFailsTheRate_aFastOneDoesNot() throws {
        let (ch, rec) = try channel(.init(head: .seconds(10), bodyWindow: .seconds(10), minBodyBytes: 1000))
        try send(ch, "PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        // A fast window: 5000 bytes in 10 s.
        ch.read()
        try send(ch, String(repeating: "a", count: 5000))
        ch.read()
        ch.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(rec.errors.isEmpty)
        // Then a byte per second while the server asks for more.
        for _ in 0..<10 {
            ch.read()
            ch.embeddedEventLoop.advanceTime(by: .seconds(1))
            try send(ch, "a")
        }
        ch.read()
        ch.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(rec.errors.contains { $0 is RequestBodyTimeout })
    }

    @Test func aBodyTheServerIsNotReadingNeverCountsAgainstTheClient() throws {
        let (ch, rec) = try channel(.init(head: .seconds(10), bodyWindow: .seconds(10), minBodyBytes: 1000))
        try send(ch, "PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        // No read() from the server for a minute (say, its disk is slow): no timeout.
        ch.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(rec.errors.isEmpty)
    }

    @Test func connectionCapsPerAddressAndInAll() throws {
        let limiter = ConnectionLimiter(.init(total: 3, perAddress: 2))
        var chans: [EmbeddedChannel] = []
        func open(_ ip: String) throws -> (EmbeddedChannel, Bool) {
            let ch = EmbeddedChannel()
            try ch.connect(to: SocketAddress(ipAddress: ip, port: 1)).wait()
            chans.append(ch)
            return (ch, limiter.admit(ch, perAddressKey: ip))
        }
        #expect(try open("10.0.0.1").1)
        #expect(try open("10.0.0.1").1)
        let (third, ok3) = try open("10.0.0.1")
        #expect(!ok3)
        #expect(try outbound(third).hasPrefix("HTTP/1.1 503"))
        #expect(try open("10.0.0.2").1)
        #expect(try !open("10.0.0.3").1)  // total reached
        _ = try chans[0].close().wait()
        chans[0].embeddedEventLoop.run()
        #expect(try open("10.0.0.3").1)
        #expect(limiter.refused == 2)
    }
}
