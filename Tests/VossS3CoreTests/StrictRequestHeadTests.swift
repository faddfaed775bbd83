import Testing
@testable import VossS3Core

@Suite struct StrictRequestHeadTests {
    func parse(_ s: String) -> StrictRequestHead.Parse {
        Array(s.utf8).withUnsafeBytes { StrictRequestHead.parse($0) }
    }

    func head(_ s: String) -> StrictRequestHead? {
        if case .request(let h) = parse(s) { return h }
        return nil
    }

    func isOther(_ s: String) -> Bool {
        if case .other = parse(s) { return true }
        return false
    }

    func isIncomplete(_ s: String) -> Bool {
        if case .incomplete = parse(s) { return true }
        return false
    }

    let get = "GET /b/k?X-Amz-Expires=60&x=%2F HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nAccept:  */* \r\nX-Empty:\r\n\r\n"

    @Test func readsAGetHead() throws {
        let h = try #require(head(get))
        #expect(h.method == .get)
        #expect(h.target == "/b/k?X-Amz-Expires=60&x=%2F")
        #expect(h.headers.map { [$0.0, $0.1] } == [["Host", "127.0.0.1:9000"], ["Accept", "*/* "], ["X-Empty", ""]])
        #expect(h.keepAlive)
        #expect(h.length == get.utf8.count)
        #expect(h.header("host") == "127.0.0.1:9000")
    }

    @Test func endsAtTheEmptyLineOfTheFirstOfPipelinedHeads() throws {
        let two = get + "HEAD /b/k HTTP/1.1\r\nConnection: close\r\n\r\n"
        let first = try #require(head(two))
        #expect(first.length == get.utf8.count)
        let second = try #require(head(String(decoding: Array(two.utf8)[first.length...], as: UTF8.self)))
        #expect(second.method == .head)
        #expect(!second.keepAlive)
    }

    @Test func everyPieceOfAHeadIsIncomplete() {
        let bytes = Array(get.utf8)
        for n in 0..<bytes.count {
            let piece = Array(bytes[..<n])
            let parsed = piece.withUnsafeBytes { StrictRequestHead.parse($0) }
            guard case .incomplete = parsed else {
                Issue.record("piece of \(n) bytes: \(parsed)")
                return
            }
        }
    }

    @Test func connectionTokens() {
        #expect(head("GET / HTTP/1.1\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n")?.keepAlive == false)
        #expect(isOther("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n"))
        #expect(isOther("GET / HTTP/1.1\r\nConnection: close, x-hop\r\n\r\n"))
        #expect(isOther("GET / HTTP/1.1\r\nConnection:\r\n\r\n"))
    }

    @Test func leavesEverythingElseToTheFullParser() {
        let others = [
            "POST / HTTP/1.1\r\n\r\n", "get / HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
            "GET http://h/ HTTP/1.1\r\n\r\n", "GET * HTTP/1.1\r\n\r\n", "GET /a#b HTTP/1.1\r\n\r\n", "GET /a\"b HTTP/1.1\r\n\r\n",
            "GET /\u{e9} HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", "GET / HTTP/1.1\r\n: h\r\n\r\n",
            "GET / HTTP/1.1\r\nX: a\u{e9}\r\n\r\n", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\r\n", "PUT /b/k HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        ]
        for o in others { #expect(isOther(o), "\(o.debugDescription)") }
        #expect(head("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n") != nil)
    }

    @Test func limits() {
        let many = "GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: StrictRequestHead.maxHeaders + 1) + "\r\n"
        #expect(isOther(many))
        let enough = "GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: StrictRequestHead.maxHeaders) + "\r\n"
        #expect(head(enough) != nil)
        let long = "GET /" + String(repeating: "a", count: StrictRequestHead.maxLength) + " HTTP/1.1\r\n\r\n"
        #expect(isOther(long))
        // A head that never ends stops being incomplete at the limit.
        let endless = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: StrictRequestHead.maxLength)
        #expect(isOther(endless))
        #expect(isIncomplete("GET / HTTP/1.1\r\nX: aaaa"))
    }

    /// The byte sets, written as bit masks, against their definitions.
    @Test func byteSets() {
        let excluded = Set("\"#<>\\^`{|}".utf8)
        let tchar = Set("!#$%&'*+-.^_`|~".utf8)
        for c in UInt8(0)...UInt8(255) {
            let visible = c >= 0x21 && c <= 0x7E
            #expect(StrictRequestHead.targetByte(c) == (visible && !excluded.contains(c)), "target byte \(c)")
            let alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            #expect(StrictRequestHead.tokenByte(c) == (alnum || tchar.contains(c)), "token byte \(c)")
        }
    }
}
