import NIOCore
import NIOEmbedded
import Testing
import VossWire

@testable import VossIPC

/// The IPC frame handler on an EmbeddedChannel: messages in any split arrive in order; a corrupt
/// frame ends the stream and closes the connection.
@Suite struct FrameHandlerTests {
    func channel() throws -> (EmbeddedChannel, AsyncStream<WorkerEnvelope>) {
        let (stream, cont) = AsyncStream<WorkerEnvelope>.makeStream()
        let ch = EmbeddedChannel()
        try ch.pipeline.syncOperations.addHandler(FrameHandler(continuation: cont))
        return (ch, stream)
    }

    @Test func messagesInAnySplitArriveInOrder() async throws {
        let (ch, stream) = try channel()
        let sent = (1...5).map { WorkerEnvelope(id: UInt64($0), message: .ping(seq: UInt64($0))) }
        let bytes = sent.flatMap { FrameCodec.encode($0.encode()) }
        for i in stride(from: 0, to: bytes.count, by: 3) {
            try ch.writeInbound(ch.allocator.buffer(bytes: bytes[i..<min(i + 3, bytes.count)]))
        }
        _ = try ch.finish()
        var got: [WorkerEnvelope] = []
        for await e in stream { got.append(e) }
        #expect(got == sent)
    }

    @Test func aCorruptFrameEndsTheStreamAndClosesTheConnection() async throws {
        let (ch, stream) = try channel()
        try ch.writeInbound(ch.allocator.buffer(bytes: FrameCodec.encode(Array("not json".utf8))))
        var got = 0
        for await _ in stream { got += 1 }
        #expect(got == 0)
        #expect(!ch.isActive)
    }
}
