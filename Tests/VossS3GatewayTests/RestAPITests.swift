import Foundation
import Testing
import VossWire

@testable import VossS3Gateway

/// The REST API's pure parts: the login throttle (with an injected clock), the route table against
/// the OpenAPI document, and which paths belong to it.
@Suite struct RestAPITests {
    @Test func fiveFailuresAreFreeThenTheWaitDoubles() {
        let t = LoginThrottle(free: 5, window: 900, maxDelay: 900)
        let k = [LoginThrottle.userKey(tenant: "acme", user: "alice")]
        for i in 0..<5 {
            #expect(t.wait(keys: k, now: Double(i)) == 0)
            t.failed(keys: k, now: Double(i))
        }
        #expect(t.wait(keys: k, now: 4) == 1)
        #expect(t.wait(keys: k, now: 5) == 0)
        t.failed(keys: k, now: 5)
        #expect(t.wait(keys: k, now: 5) == 2)
        t.failed(keys: k, now: 7)
        #expect(t.wait(keys: k, now: 7) == 4)
        // Another user, or the same name in another tenant, is not held up.
        #expect(t.wait(keys: [LoginThrottle.userKey(tenant: "acme", user: "bob")], now: 7) == 0)
        #expect(t.wait(keys: [LoginThrottle.userKey(tenant: "acm", user: "ealice")], now: 7) == 0)
        // A success clears it; a quiet window forgets it.
        t.succeeded(keys: k)
        #expect(t.wait(keys: k, now: 7) == 0)
        for i in 0..<6 { t.failed(keys: k, now: 100 + Double(i)) }
        #expect(t.wait(keys: k, now: 105) > 0)
        #expect(t.wait(keys: k, now: 105 + 900) == 0)
        t.failed(keys: k, now: 105 + 900)
        #expect(t.wait(keys: k, now: 105 + 900) == 0)
    }

    @Test func theWaitIsCapped() {
        let t = LoginThrottle(free: 1, window: 1e9, maxDelay: 900)
        let k = ["a"]
        for i in 0..<200 { t.failed(keys: k, now: Double(i)) }
        #expect(t.wait(keys: k, now: 199) == 900)
    }

    @Test func inventedNamesCannotGrowItWithoutBound() {
        let t = LoginThrottle(free: 5, window: 900, maxDelay: 900, capacity: 100)
        for i in 0..<1000 { t.failed(keys: ["u\(i)"], now: Double(i)) }
        #expect(t.count <= 100)
        // The newest are kept.
        t.failed(keys: ["u999"], now: 1000)
        #expect(t.count <= 100)
    }

    @Test func everyRouteIsDocumentedAndEverySchemaExists() throws {
        for r in PublicRoutes.all { #expect(OpenAPI.ops["\(r.method) \(r.template)"] != nil, "\(r) has no OpenAPI entry") }
        #expect(OpenAPI.ops.count == PublicRoutes.all.count)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPI.document.utf8)) as? [String: Any])
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])
        for (_, op) in OpenAPI.ops {
            for s in [op.request, op.response].compactMap({ $0 }) { #expect(schemas[s] != nil, "schema \(s) missing") }
        }
        let refs = OpenAPI.document.split(separator: "\"").filter { $0.hasPrefix("#/components/schemas/") }
        for r in refs { #expect(schemas[String(r.dropFirst("#/components/schemas/".count))] != nil, "dangling \(r)") }
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        #expect(paths.values.map(\.count).reduce(0, +) == PublicRoutes.all.count)
    }

    @Test(arguments: [
        ("/portal/", "index.html"), ("/portal", "index.html"), ("/portal/app.js", "app.js"), ("/portal/style.css", "style.css"),
        ("/portal/../etc/passwd", nil), ("/portal/.hidden.js", nil), ("/portal/a/b.js", nil), ("/portal/x.exe", nil), ("/portal/%2e%2e", nil),
        ("/portal/noext", nil), ("/portal/" + String(repeating: "a", count: 70) + ".js", nil),
    ] as [(String, String?)])
    func portalFiles(_ path: String, _ file: String?) {
        #expect(PortalFiles.file(path)?.name == file)
    }

    @Test(arguments: [
        ("https://vcd.example.com", "https://vcd.example.com"), ("https://vcd.example.com:8443/tenant/x", "https://vcd.example.com:8443"),
        ("HTTP://127.0.0.1:9/", "http://127.0.0.1:9"), ("ftp://x", nil), ("https://a b/", nil), ("https://x;script-src *", nil), ("vcd", nil),
    ] as [(String, String?)])
    func frameAncestorOrigin(_ url: String, _ origin: String?) {
        #expect(PortalFiles.origin(url) == origin)
    }

    @Test(arguments: [
        ("/api/v1/login", true), ("/api/v1", true), ("/api/v1/buckets/b/objects/k", true), ("/api/v1/s3", false),
        ("/api/v1/s3/bucket/key", false), ("/api/v1s3/x", false), ("/api/v2/x", false), ("/bucket/api/v1/x", false), ("/", false),
    ])
    func restPaths(_ path: String, _ rest: Bool) {
        #expect(RestAPI.handles(path) == rest)
    }
}
