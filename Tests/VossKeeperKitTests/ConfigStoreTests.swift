import Crypto
import Foundation
import NIOHTTP1
import Synchronization
import Testing
import VossBase
import VossConfig
import VossHTTP
import VossWire

@testable import VossKeeperKit

/// The configuration store's contract with the services, and the control router's, without a keeper.
final class Seen: Sendable {
    let items = Mutex<[String]>([])
    func add(_ s: [String]) { items.withLock { $0 += s } }
    var all: [String] { items.withLock { $0 } }
}

@Suite struct ConfigStoreTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "voss-cfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func store() throws -> ConfigStore {
        try ConfigStore(path: dir + "/config.json", node: "n1", box: SecretBox(key: .init(size: .bits256)))
    }

    @Test func setReturnsOnceEverySubscriberAppliedTheChange() async throws {
        let config = try store()
        let seen = Seen()
        let changes = config.changes.subscribe()
        let local = config.localChanges.subscribe()
        let t1 = Task { for await c in changes { seen.add(c.keys) } }
        let t2 = Task { for await e in local { seen.add(e.keys.map { "local:" + $0 }) } }
        try await config.set([("args.a", "1")])
        #expect(Set(seen.all) == ["args.a", "local:args.a"])
        try await config.set([("args.a", "1")])  // unchanged: no change is published
        #expect(seen.all.count == 2)
        changes.cancel()
        local.cancel()
        _ = await (t1.value, t2.value)
    }

    @Test func anInvalidValueChangesNothingAndPublishesNothing() async throws {
        let config = try store()
        let changes = config.changes.subscribe()
        let seen = Seen()
        let t = Task { for await c in changes { seen.add(c.keys) } }
        await #expect(throws: ValidationFailure.self) { try await config.set([("args.log.level", "loud"), ("args.b", "2")]) }
        #expect(await config.document["args.b"] == nil)
        changes.cancel()
        await t.value
        #expect(seen.all.isEmpty)
    }

    @Test func secretsAreSealedOnDiskAndReadBack() async throws {
        let box = SecretBox(key: .init(size: .bits256))
        let a = try ConfigStore(path: dir + "/c.json", node: "n1", box: box)
        try await a.set([("db.secret", "Sup3r-secret!")])
        let text = try String(contentsOfFile: dir + "/c.json", encoding: .utf8)
        #expect(!text.contains("Sup3r-secret!"))
        let b = try ConfigStore(path: dir + "/c.json", node: "n1", box: box)
        #expect(await b.document["db.secret"] == "Sup3r-secret!")
    }
}

@Suite struct ControlRouterTests {
    func request(_ method: HTTPMethod, _ uri: String, body: String = "") -> HTTPRequest {
        HTTPRequest(method: method, uri: uri, headers: [:], body: Array(body.utf8), remoteAddress: nil)
    }

    @Test func dispatchesByTheTableAndDecodesTheBody() async throws {
        var r = ControlRouter()
        r.on(Routes.argSet) { call, body in ArgValue(key: call["key"], value: body.value) }
        r.on(Routes.argGet) { call, _ in throw ControlFailure.notFound(Message("args.not_found", call["key"])) }
        let ok = try #require(try await r.dispatch(request(.PUT, "/v1/args/a%2Fb", body: #"{"value":"x"}"#)))
        #expect(ok.status == .ok)
        #expect(String(decoding: ok.body, as: UTF8.self).contains(#""key":"a\/b""#) || String(decoding: ok.body, as: UTF8.self).contains(#""key":"a/b""#))
        await #expect(throws: DecodingFailure.self) { try await r.dispatch(request(.PUT, "/v1/args/a", body: "{")) }
        await #expect(throws: ControlFailure.self) { try await r.dispatch(request(.GET, "/v1/args/a")) }
        #expect(try await r.dispatch(request(.DELETE, "/v1/args/a")) == nil)
        #expect(r.routes == [Routes.argSet.erased, Routes.argGet.erased])
    }
}
