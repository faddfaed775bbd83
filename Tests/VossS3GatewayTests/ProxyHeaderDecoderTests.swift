import NIOCore
import NIOEmbedded
import Testing
import VossVIPCore

@testable import VossS3Gateway

@Suite struct ProxyHeaderDecoderTests {
    let header = ProxyProtocolV2.header(
        source: .init(ip: "192.0.2.7", port: 40000)!, destination: .init(ip: "10.0.0.100", port: 80)!)

    func channel() throws -> (EmbeddedChannel, ClientOrigin) {
        let origin = ClientOrigin()
        let ch = EmbeddedChannel()
        try ch.pipeline.syncOperations.addHandler(ProxyHeaderDecoder(origin: origin))
        return (ch, origin)
    }

    @Test func aHeaderSetsTheClientAndTheRestPassesOn() throws {
        let (ch, origin) = try channel()
        try ch.writeInbound(ByteBuffer(bytes: header + Array("GET / HTTP/1.1\r\n".utf8)))
        #expect(origin.address == "192.0.2.7:40000")
        #expect(try ch.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "GET / HTTP/1.1\r\n")
        // Removed after the header: later bytes pass untouched, even ones that look like a header.
        try ch.writeInbound(ByteBuffer(bytes: header))
        #expect(try ch.readInbound(as: ByteBuffer.self)?.readableBytes == header.count)
    }

    @Test func aHeaderSplitOverReadsIsReassembled() throws {
        let (ch, origin) = try channel()
        try ch.writeInbound(ByteBuffer(bytes: Array(header.prefix(5))))
        #expect(try ch.readInbound(as: ByteBuffer.self) == nil)
        try ch.writeInbound(ByteBuffer(bytes: Array(header.dropFirst(5))))
        #expect(origin.address == "192.0.2.7:40000")
        #expect(try ch.readInbound(as: ByteBuffer.self) == nil)  // the header came alone
        try ch.writeInbound(ByteBuffer(string: "GET"))
        #expect(try ch.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "GET")
    }

    @Test func aConnectionWithoutAHeaderIsServedAsIs() throws {
        let (ch, origin) = try channel()
        try ch.writeInbound(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02]))  // a TLS ClientHello
        #expect(origin.address == nil)
        #expect(try ch.readInbound(as: ByteBuffer.self)?.readableBytes == 4)
    }

    @Test func aBrokenHeaderClosesTheConnection() throws {
        let (ch, _) = try channel()
        try ch.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var bad = header
        bad[12] = 0x11  // version 1 in the binary form
        try ch.writeInbound(ByteBuffer(bytes: bad))
        #expect(!ch.isActive)
    }
}
