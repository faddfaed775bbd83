import Foundation
import Testing
import VossS3Core

/// POST object forms: the multipart/form-data reader in every split of its input, and the policy.
@Suite struct PostFormTests {
    static let body = Array((
        "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"Content-Type\"\r\n\r\nimage/png\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
        + "PNG\r\n-XyZ\r\n--Xy\r\n\u{0}bytes"
        + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n--XyZ--\r\nepilogue"
    ).utf8)

    func read(_ splits: [Int]) throws -> ([String: String], String, [UInt8]) {
        var r = FormDataReader(boundary: "XyZ")
        var fields: [String: String] = [:]
        var filename = ""
        var data: [UInt8] = []
        var start = 0
        for end in splits + [Self.body.count] where end >= start {
            try Self.body[start..<end].withUnsafeBytes { p in
                try r.feed(p) { e in
                    switch e {
                    case .field(let n, let v): fields[n] = v
                    case .file(let f, _): filename = f
                    case .data(let d): data += d
                    case .fileEnd: break
                    }
                }
            }
            start = end
        }
        try r.finish()
        return (fields, filename, data)
    }

    @Test func anySplitReadsTheSame() throws {
        let whole = try read([])
        #expect(whole.0 == ["key": "uploads/${filename}", "Content-Type": "image/png", "after": "ignored"])
        #expect(whole.1 == "a.png" && whole.2 == Array("PNG\r\n-XyZ\r\n--Xy\r\n\u{0}bytes".utf8))
        for cut in 1..<Self.body.count {
            let split = try read([cut])
            #expect(split.0 == whole.0 && split.2 == whole.2, "split at \(cut)")
        }
        let bytewise = try read(Array(1..<Self.body.count))
        #expect(bytewise.2 == whole.2)
    }

    @Test func truncatedOrBrokenBodiesAreErrors() throws {
        var r = FormDataReader(boundary: "XyZ")
        try Self.body.prefix(120).withUnsafeBytes { p in try r.feed(p) { _ in } }
        #expect(throws: S3Error.self) { try r.finish() }
        var big = FormDataReader(boundary: "XyZ", maxField: 10)
        let long = Array("--XyZ\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n\(String(repeating: "a", count: 100))".utf8)
        #expect(throws: S3Error.self) { try long.withUnsafeBytes { p in try big.feed(p) { _ in } } }
        var noName = FormDataReader(boundary: "XyZ")
        #expect(throws: S3Error.self) {
            try Array("--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--".utf8).withUnsafeBytes { p in try noName.feed(p) { _ in } }
        }
        #expect(FormDataReader.boundary(contentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(FormDataReader.boundary(contentType: "text/plain; boundary=x") == nil)
        #expect(FormDataReader.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
    }

    func policy(_ json: String) throws -> PostPolicy { try PostPolicy.parse(base64: Data(json.utf8).base64EncodedString()).get() }

    @Test func policyConditions() throws {
        let p = try policy("""
            {"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","uploads/"],{"acl":"private"},
             ["content-length-range",1,1000],["starts-with","$Content-Type","image/"],{"x-amz-credential":"AK/20300101/us-east-1/s3/aws4_request"},
             {"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-date":"20300101T000000Z"}]}
            """)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var f = [
            "bucket": "b", "key": "uploads/a", "acl": "private", "content-type": "image/png", "policy": "…", "x-amz-signature": "…",
            "x-amz-credential": "AK/20300101/us-east-1/s3/aws4_request", "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-date": "20300101T000000Z",
        ]
        #expect(p.check(fields: f, now: now) == nil)
        #expect(p.check(fields: f, now: Date(timeIntervalSince1970: 1_900_000_000))?.message.contains("expired") == true)
        f["key"] = "elsewhere/a"
        #expect(p.check(fields: f, now: now)?.code == "AccessDenied")
        f["key"] = "uploads/a"
        f["x-amz-meta-extra"] = "1"
        #expect(p.check(fields: f, now: now)?.message.contains("Extra input fields: x-amz-meta-extra") == true)
        f["x-amz-meta-extra"] = nil
        f["x-ignore-this"] = "fine"
        #expect(p.check(fields: f, now: now) == nil)
        #expect(p.checkSize(0)?.code == "EntityTooSmall" && p.checkSize(1001)?.code == "EntityTooLarge" && p.checkSize(10) == nil)
        for bad in ["not base64 !", Data("[]".utf8).base64EncodedString(), Data(#"{"conditions":[]}"#.utf8).base64EncodedString(),
                    Data(#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["between","$key",1]]}"#.utf8).base64EncodedString()] {
            guard case .failure = PostPolicy.parse(base64: bad) else { Issue.record("accepted \(bad)"); continue }
        }
    }
}
