import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import VossVIPServer

@Suite struct RelayTests {
    func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    @Test func stagingHoldsWhatArrivesBeforeTheBackendAndNotesAHalfClose() throws {
        let client = EmbeddedChannel()
        let active = Mutex(0)
        let staging = Staging { _ in active.withLock { $0 += 1 } }
        try client.pipeline.syncOperations.addHandler(staging)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(active.withLock { $0 } == 1)  // the dial starts once the client is active
        try client.writeInbound(buffer("GET / HTTP/1.1\r\n"))
        try client.writeInbound(buffer("Host: a\r\n\r\n"))
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(staging.held.map { String(buffer: $0) } == ["GET / HTTP/1.1\r\n", "Host: a\r\n\r\n"])
        #expect(staging.inputClosed)
        #expect(!staging.paused)
        // Nothing leaks past it.
        #expect(try client.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func stagingStopsReadingBeyondItsLimit() throws {
        let client = EmbeddedChannel()
        let staging = Staging { _ in }
        try client.pipeline.syncOperations.addHandler(staging)
        for _ in 0..<5 { try client.writeInbound(ByteBuffer(repeating: 0x61, count: 64 << 10)) }
        #expect(staging.paused)
    }

    @Test func aRelayForwardsToItsPeerAndFlushesAtReadComplete() throws {
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        let closed = Mutex(0)
        let pair = PairState()
        try client.pipeline.syncOperations.addHandler(Relay(peer: server, pair: pair, side: .client, onClose: nil))
        try server.pipeline.syncOperations.addHandler(Relay(peer: client, pair: pair, side: .server) { closed.withLock { $0 += 1 } })
        try client.writeInbound(buffer("request"))
        #expect(try server.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "request")
        try server.writeInbound(buffer("response"))
        #expect(try client.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "response")
        // The backend goes away: the client is closed too, and the backend's counter drops once.
        try server.close().wait()
        #expect(!client.isActive)
        #expect(closed.withLock { $0 } == 1)
    }

    @Test func whenBothSidesHaveEndedTheirInputBothClose() throws {
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        let pair = PairState()
        try client.pipeline.syncOperations.addHandler(Relay(peer: server, pair: pair, side: .client, onClose: nil))
        try server.pipeline.syncOperations.addHandler(Relay(peer: client, pair: pair, side: .server, onClose: nil))
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.clientInputClosed && !pair.serverInputClosed)
        server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!client.isActive && !server.isActive)
    }
}
