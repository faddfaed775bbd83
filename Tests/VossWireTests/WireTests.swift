import Foundation
import Testing

@testable import VossWire

/// The keeper↔worker wire: frames in any split, every message type round-trips, bad input is an
/// error (never a trap).
@Suite struct FrameTests {
    @Test func framesSurviveAnySplit() throws {
        let payloads: [[UInt8]] = [Array("hello".utf8), [], Array(repeating: 7, count: 70_000), Array("{}".utf8)]
        let stream = payloads.flatMap(FrameCodec.encode)
        for cut in [1, 3, 4, 5, 1000, 65_536, stream.count] {
            var d = FrameDecoder()
            var out: [[UInt8]] = []
            var i = 0
            while i < stream.count {
                d.append(stream[i..<min(i + cut, stream.count)])
                while let f = try d.next() { out.append(f) }
                i += cut
            }
            #expect(out == payloads, "cut \(cut)")
            #expect(d.pendingByteCount == 0)
        }
    }

    @Test func aHostileLengthIsAnErrorNotAnAllocation() throws {
        var d = FrameDecoder()
        d.append([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        #expect(throws: FrameError.self) { try d.next() }
        var ok = FrameDecoder()
        ok.append([0, 0])
        #expect(try ok.next() == nil)  // not enough for a length yet
    }
}

@Suite struct WorkerMessageTests {
    static let all: [WorkerMessage] = [
        .hello(Hello(name: "s3", pid: 42, version: "1.0", protocolVersion: 1)),
        .config(ConfigSlice(version: "v1", values: ["a": "b", "ключ": "значение"])),
        .ready(Ready(addresses: ["http://127.0.0.1:80"])),
        .ping(seq: .max),
        .pong(Pong(seq: 3, counters: ["requests": 10])),
        .reload(ConfigSlice(version: "v2", values: [:])),
        .logLevel("debug"),
        .drain(graceMilliseconds: 500),
        .stop(graceMilliseconds: 0),
        .status("3 buckets"),
        .reloaded(version: "v2", error: nil),
        .reloaded(version: "v3", error: "bad certificate"),
    ]

    @Test(arguments: all) func roundTrips(_ m: WorkerMessage) throws {
        let e = WorkerEnvelope(id: 9, message: m)
        let back = try WorkerEnvelope.decode(e.encode())
        #expect(back == e)
        #expect(back.message.type == m.type)
    }

    @Test(arguments: [
        "", "{", "[]", #"{"type":"hello","id":1}"#, #"{"type":"ping","id":1,"body":{}}"#, #"{"type":"nope","id":1}"#,
        #"{"type":"ping","id":-1,"body":{"seq":1}}"#, #"{"type":"stop","id":1,"body":{"graceMilliseconds":1e99}}"#,
    ])
    func malformedIsAWireError(_ text: String) {
        #expect(throws: WireError.self) { try WorkerEnvelope.decode(Array(text.utf8)) }
    }
}
