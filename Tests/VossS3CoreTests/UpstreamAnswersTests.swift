import Testing
import VossS3Core

@Suite struct UpstreamAnswersTests {
    @Test func listPartsPages() throws {
        let page = try #require(UpstreamAnswers.parts(Array("""
            <ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>\
            <Part><PartNumber>1</PartNumber><ETag>"AB01"</ETag><Size>5242880</Size></Part>\
            <Part><PartNumber>2</PartNumber><ETag>&quot;cd02&quot;</ETag><Size>7</Size></Part></ListPartsResult>
            """.utf8)))
        #expect(page.parts.map(\.number) == [1, 2] && page.parts.map(\.etag) == ["ab01", "cd02"] && page.parts.map(\.size) == [5_242_880, 7])
        #expect(page.next == 2)
        // A part without a size, a negative size or a non-ASCII number is refused as a whole.
        for bad in ["<Size>-1</Size>", "<Size>٧</Size>", "<Size>+7</Size>", ""] {
            let x = "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>e</ETag>\(bad)</Part></ListPartsResult>"
            #expect(UpstreamAnswers.parts(Array(x.utf8)) == nil, "\(bad)")
        }
    }

    @Test func copyAnswersCanBeErrorsInA200() {
        #expect(UpstreamAnswers.result(Array("<CopyObjectResult><ETag>\"AbC\"</ETag></CopyObjectResult>".utf8)) == .etag("abc"))
        #expect(UpstreamAnswers.result(Array("<Error><Code>InternalError</Code><Message>m</Message></Error>".utf8))
            == .error(code: "InternalError", message: "m"))
        #expect(UpstreamAnswers.result(Array("not xml".utf8)) == .unreadable)
        #expect(UpstreamAnswers.result([]) == .unreadable)
    }

    @Test func uploadsAndIDs() {
        let body = Array("<R><Upload><Key>k</Key><UploadId>u1</UploadId></Upload><Upload><Key>k2</Key><UploadId>u2</UploadId></Upload></R>".utf8)
        #expect(UpstreamAnswers.uploads(body, key: "k") == ["u1"])
        #expect(UpstreamAnswers.uploadID(Array("<I><UploadId></UploadId></I>".utf8)) == nil)
        #expect(UpstreamAnswers.uploadID(Array("<I><UploadId>2~x</UploadId></I>".utf8)) == "2~x")
        #expect(UpstreamAnswers.etag("\"\"") == "" && UpstreamAnswers.etag("ABC") == "abc")
    }
}
