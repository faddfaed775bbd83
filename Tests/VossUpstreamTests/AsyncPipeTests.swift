import Testing
@testable import VossUpstream

@Suite struct AsyncPipeTests {
    @Test func deliversInOrderThenEnds() async throws {
        let p = AsyncPipe<Int>(capacity: 2)
        let producer = Task {
            for i in 0..<100 { try await p.send(i) }
            p.finish()
        }
        var got: [Int] = []
        while let v = try await p.next() { got.append(v) }
        try await producer.value
        #expect(got == Array(0..<100))
    }

    @Test func finishingWithAnErrorFailsTheReaderAfterWhatWasQueued() async throws {
        struct Boom: Error {}
        let p = AsyncPipe<Int>(capacity: 4)
        try await p.send(1)
        p.finish(throwing: Boom())
        #expect(try await p.next() == 1)
        await #expect(throws: Boom.self) { try await p.next() }
        await #expect(throws: AsyncPipe<Int>.Closed.self) { try await p.send(2) }
    }

    @Test func cancelReleasesABlockedSender() async throws {
        let p = AsyncPipe<Int>(capacity: 1)
        try await p.send(1)
        let blocked = Task { try await p.send(2) }  // waits: the pipe is full
        p.cancel()
        await #expect(throws: AsyncPipe<Int>.Closed.self) { try await blocked.value }
        await #expect(throws: AsyncPipe<Int>.Closed.self) { try await p.next() }
    }
}
