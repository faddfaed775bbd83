import VossBase
import Foundation
import Testing

@testable import VossS3Core

@Suite struct RoutingTests {
    func route(_ method: String, _ path: String, query: [String: String] = [:], host: String = "127.0.0.1:9443",
               headers: [String: String] = [:]) -> (S3Target, S3Operation)? {
        guard case .success(let t) = S3Router.target(host: host, rawPath: path, serviceHost: "s3.example.com"),
            case .success(let op) = S3Router.operation(method: method, target: t, query: query, headers: { headers[$0] })
        else { return nil }
        return (t, op)
    }

    @Test func pathStyle_apiPrefix_andVirtualHosted_addressTheSameObject() {
        let a = route("GET", "/photos/2024/cat%20one.jpg")!
        let b = route("GET", "/api/v1/s3/photos/2024/cat%20one.jpg")!
        let c = route("GET", "/2024/cat%20one.jpg", host: "photos.s3.example.com:443")!
        for (t, op) in [a, b, c] {
            #expect(t.bucket == "photos" && t.key == "2024/cat one.jpg" && op == .getObject)
        }
        #expect(c.0.virtualHosted)
    }

    @Test func keysKeepSlashesAndTrailingSlash() {
        #expect(route("PUT", "/b/a//b/")!.0.key == "a//b/")
        #expect(route("PUT", "/b/%2Fx")!.0.key == "/x")
    }

    @Test func operationsFromMethodAndSubresources() {
        #expect(route("GET", "/")!.1 == .listBuckets)
        #expect(route("PUT", "/b")!.1 == .createBucket)
        #expect(route("GET", "/b", query: ["list-type": "2"])!.1 == .listObjectsV2)
        #expect(route("GET", "/b")!.1 == .listObjects)
        #expect(route("GET", "/b", query: ["location": ""])!.1 == .getBucketLocation)
        #expect(route("POST", "/b", query: ["delete": ""])!.1 == .deleteObjects)
        #expect(route("POST", "/b/k", query: ["uploads": ""])!.1 == .createMultipartUpload)
        #expect(route("PUT", "/b/k", query: ["partNumber": "1", "uploadId": "u"])!.1 == .uploadPart)
        #expect(route("PUT", "/b/k", query: ["partNumber": "1", "uploadId": "u"], headers: ["x-amz-copy-source": "/a/b"])!.1 == .uploadPartCopy)
        #expect(route("PUT", "/b/k", headers: ["x-amz-copy-source": "/a/b"])!.1 == .copyObject)
        #expect(route("POST", "/b/k", query: ["uploadId": "u"])!.1 == .completeMultipartUpload)
        #expect(route("DELETE", "/b/k", query: ["uploadId": "u"])!.1 == .abortMultipartUpload)
        #expect(route("GET", "/b/k", query: ["uploadId": "u"])!.1 == .listParts)
        #expect(route("PUT", "/b/k", query: ["tagging": ""])!.1 == .putObjectTagging)
        #expect(route("HEAD", "/b")!.1 == .headBucket)
    }

    @Test func unsupported_isNotImplemented() {
        guard case .success(let t) = S3Router.target(host: nil, rawPath: "/b", serviceHost: nil),
            case .failure(let e) = S3Router.operation(method: "GET", target: t, query: ["website": ""], headers: { _ in nil })
        else { Issue.record("expected failure"); return }
        #expect(e.code == "NotImplemented" && e.status == 501)
    }

    @Test func badPercentEncoding_isAnError() {
        guard case .failure(let e) = S3Router.target(host: nil, rawPath: "/b/%zz", serviceHost: nil) else {
            Issue.record("expected failure")
            return
        }
        #expect(e.code == "InvalidArgument")
    }

    @Test(arguments: [
        ("my-bucket.2024", true), ("ab", false), (String(repeating: "a", count: 64), false), ("Upper", false),
        ("-start", false), ("a..b", false), ("192.168.1.1", false), ("xn--abc", false), ("api", false), ("abc-s3alias", false),
        ("under_score", false), ("abc", true),
    ])
    func bucketNames(name: String, ok: Bool) {
        #expect((S3Names.bucketProblem(name) == nil) == ok)
    }

    @Test func keyLength() {
        #expect(S3Names.keyProblem(String(repeating: "k", count: 1024)) == nil)
        #expect(S3Names.keyProblem(String(repeating: "k", count: 1025))?.code == "KeyTooLongError")
        #expect(S3Names.keyProblem(String(repeating: "é", count: 513))?.code == "KeyTooLongError")
    }
}

@Suite struct XMLTests {
    @Test func writer_escapes() {
        var x = XMLWriter()
        x.element("Key", "a<b>&\"'\u{1}")
        #expect(x.body == "<Key>a&lt;b&gt;&amp;&quot;&apos;&#1;</Key>")
    }

    @Test func parser_readsCompleteMultipartUpload() throws {
        let doc = """
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <!-- a comment -->
              <Part><PartNumber>1</PartNumber><ETag>"a&amp;b"</ETag><ChecksumCRC32>y/Q5Jg==</ChecksumCRC32></Part>
              <Part><PartNumber>2</PartNumber><ETag><![CDATA["x<y"]]></ETag></Part>
            </CompleteMultipartUpload>
            """
        let root = try XMLParser.parse(Array(doc.utf8))
        #expect(root.name == "CompleteMultipartUpload")
        let parts = root.all("Part")
        #expect(parts.count == 2)
        #expect(parts[0].childText("ETag") == "\"a&b\"")
        #expect(parts[1].childText("ETag") == "\"x<y\"")
        #expect(parts[0].childText("ChecksumCRC32") == "y/Q5Jg==")
    }

    @Test(arguments: [
        "<a><b></a>", "<a>", "", "<!DOCTYPE x [<!ENTITY e \"x\">]><a>&e;</a>", "<a>&bogus;</a>", "<a/><b/>",
        String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40),
    ])
    func parser_rejectsMalformedAndDangerousInput(doc: String) {
        #expect(throws: XMLParser.ParseError.self) { try XMLParser.parse(Array(doc.utf8)) }
    }

    @Test func errorBody_hasCodeMessageResourceRequestId() {
        let x = S3Error.noSuchKey("a/b").xml(resource: "/bucket/a/b", requestID: "R1")
        #expect(x.contains("<Code>NoSuchKey</Code>"))
        #expect(x.contains("<Key>a/b</Key>"))
        #expect(x.contains("<Resource>/bucket/a/b</Resource><RequestId>R1</RequestId>"))
        #expect(S3Error.noSuchKey("x").status == 404)
    }
}

@Suite struct SemanticsTests {
    @Test(arguments: [
        ("bytes=0-9", RangeHeader.Outcome.range(ByteRange(first: 0, last: 9))),
        ("bytes=90-", .range(ByteRange(first: 90, last: 99))),
        ("bytes=-10", .range(ByteRange(first: 90, last: 99))),
        ("bytes=-1000", .range(ByteRange(first: 0, last: 99))),
        ("bytes=50-1000", .range(ByteRange(first: 50, last: 99))),
        ("bytes=100-", .unsatisfiable), ("bytes=-0", .unsatisfiable),
        ("bytes=5-1", .whole), ("bytes=0-1,5-6", .whole), ("items=0-1", .whole), ("bytes=x-", .whole),
    ])
    func ranges(header: String, expected: RangeHeader.Outcome) {
        #expect(RangeHeader.evaluate(header, size: 100) == expected)
    }

    @Test func preconditions() {
        let lm = Date(timeIntervalSince1970: 1_700_000_000)
        let before = HTTPDate.format(lm.addingTimeInterval(-60)), after = HTTPDate.format(lm.addingTimeInterval(60))
        func ev(im: String? = nil, inm: String? = nil, ims: String? = nil, ius: String? = nil) -> Preconditions.Outcome {
            Preconditions.evaluate(ifMatch: im, ifNoneMatch: inm, ifModifiedSince: ims, ifUnmodifiedSince: ius, etag: "abc", lastModified: lm)
        }
        #expect(ev(im: "\"abc\"") == .proceed)
        #expect(ev(im: "\"xyz\"") == .preconditionFailed)
        #expect(ev(inm: "\"abc\"") == .notModified)
        #expect(ev(inm: "*") == .notModified)
        #expect(ev(ims: after) == .notModified)
        #expect(ev(ims: before) == .proceed)
        #expect(ev(ius: before) == .preconditionFailed)
        #expect(ev(im: "\"abc\"", ius: before) == .proceed, "If-Match wins over If-Unmodified-Since")
        #expect(ev(inm: "\"xyz\"", ims: after) == .proceed, "If-None-Match wins over If-Modified-Since")
    }

    @Test func objectHeaders_metadataAndOverrides() throws {
        let h = try ObjectHeaders.from([
            ("Content-Type", "text/plain"), ("Content-Encoding", "aws-chunked"), ("x-amz-meta-Color", "blue"),
            ("X-Amz-Meta-Size", "L"),
        ]).get()
        #expect(h.contentEncoding == nil)
        #expect(h.meta == ["color": "blue", "size": "L"])
        let r = h.responseHeaders(overrides: ["response-content-type": "application/json"])
        #expect(r.first! == ("Content-Type", "application/json"))
        let big = ObjectHeaders.from([("x-amz-meta-a", String(repeating: "x", count: 2100))])
        #expect((try? big.get()) == nil)
    }

    @Test func tags_headerAndXML() throws {
        #expect(try Tags.parseHeader("a=1&b=two%20words").get() == ["a": "1", "b": "two words"])
        #expect((try? Tags.parseHeader("a=1&a=2").get()) == nil)
        #expect((try? Tags.parseHeader((1...11).map { "k\($0)=v" }.joined(separator: "&")).get()) == nil)
        let xml = Tags.xml(["k": "v"])
        #expect(try Tags.parseXML(Array(xml.utf8), max: 10).get() == ["k": "v"])
    }

    @Test func isoDates() {
        #expect(HTTPDate.iso(Date(timeIntervalSince1970: 1369353600.5)) == "2013-05-24T00:00:00.500Z")
    }
}

@Suite struct ListingTests {
    func list(_ keys: [String], prefix: String = "", delimiter: String? = nil, max: Int = 1000) -> ListAccumulator {
        var acc = ListAccumulator(prefix: prefix, delimiter: delimiter, maxKeys: max)
        var i = 0
        let sorted = keys.filter { $0.hasPrefix(prefix) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        while i < sorted.count {
            switch acc.offer(sorted[i]) {
            case .next: i += 1
            case .skip(let s):
                while i < sorted.count && !Array(s.utf8).lexicographicallyPrecedes(Array(sorted[i].utf8)) && sorted[i] != s { i += 1 }
            case .done: return acc
            }
        }
        return acc
    }

    @Test func delimiterGroupsIntoCommonPrefixes() {
        let acc = list(["a/1", "a/2", "b", "c/x/y", "c/z"], delimiter: "/")
        #expect(acc.keys == ["b"])
        #expect(acc.commonPrefixes == ["a/", "c/"])
        #expect(!acc.truncated)
    }

    @Test func prefixAndDelimiter() {
        let acc = list(["photos/2023/a", "photos/2024/b", "photos/top.jpg", "video/x"], prefix: "photos/", delimiter: "/")
        #expect(acc.keys == ["photos/top.jpg"])
        #expect(acc.commonPrefixes == ["photos/2023/", "photos/2024/"])
    }

    @Test func maxKeysTruncates_andCountsCommonPrefixes() {
        let acc = list(["a/1", "b", "c", "d"], delimiter: "/", max: 2)
        #expect(acc.entries == [.commonPrefix("a/"), .key("b")])
        #expect(acc.truncated && acc.nextMarker == "b")
    }

    @Test func resumingAfterAMarkerInsideAGroupSkipsTheGroup() {
        // The token after a page that ended on the common prefix "photos/" is "photos/": resume past it.
        #expect(ListAccumulator.resumePoint(after: "photos/", prefix: "", delimiter: "/") == .some("photos0"))
        // A start-after inside a group skips the rest of the group too (it rolls up into "a/", which is
        // not after the marker).
        #expect(ListAccumulator.resumePoint(after: "a/b/c", prefix: "", delimiter: "/") == .some("a0"))
        #expect(ListAccumulator.resumePoint(after: "p/a/b", prefix: "p/", delimiter: "/") == .some("p/a0"))
        // Plain keys, other prefixes and no delimiter: resume right after the marker.
        #expect(ListAccumulator.resumePoint(after: "c", prefix: "", delimiter: "/") == nil)
        #expect(ListAccumulator.resumePoint(after: "q/a/b", prefix: "p/", delimiter: "/") == nil)
        #expect(ListAccumulator.resumePoint(after: "a/b", prefix: "", delimiter: nil) == nil)
        #expect(ListAccumulator.commonPrefix(of: "é-x-y", prefix: "é", delimiter: "-") == "é-")
        #expect(ListAccumulator.commonPrefix(of: "ab", prefix: "a", delimiter: "b/") == nil)
    }

    @Test func successor() {
        #expect(ListAccumulator.successor(of: "a/") == "a0")
        // Code point order, always valid UTF-8 (databases reject invalid text parameters).
        #expect(ListAccumulator.successor(of: "a\u{7F}") == "a\u{80}")
        #expect(ListAccumulator.successor(of: "é") == "ê")
        #expect(ListAccumulator.successor(of: "x\u{D7FF}") == "x\u{E000}")
        #expect(ListAccumulator.successor(of: "x\u{10FFFF}") == "y")
        #expect(ListAccumulator.successor(of: "\u{10FFFF}") == nil)
        for p in ["a/", "a\u{7F}", "\u{FFFF}", "日本/"] {
            let s = ListAccumulator.successor(of: p)!
            #expect(Array(p.utf8).lexicographicallyPrecedes(Array(s.utf8)))
            #expect(Array((p + "\u{10FFFF}zz").utf8).lexicographicallyPrecedes(Array(s.utf8)))
        }
        #expect(ListEncoding.encode("a b+c/é") == "a%20b%2Bc/%C3%A9")
    }
}
