import Testing
import VossBase

/// The byte-wise helpers behave as the Character-based library calls they replace on the hot path.
@Suite struct ASCIITests {
    @Test func splitASCIIMatchesSplit() {
        let samples = ["", "/", "//", "a", "a/b", "/a/b/", "AKID/20130524/us-east-1/s3/aws4_request", "a//b", "é/ü//ß", "host;x-amz-date;"]
        for s in samples {
            for omit in [true, false] {
                let mine = s.splitASCII(UInt8(ascii: "/"), omittingEmptySubsequences: omit).map(String.init)
                let lib = s.split(separator: "/", omittingEmptySubsequences: omit).map(String.init)
                #expect(mine == lib, "\(s) omit=\(omit)")
            }
        }
    }

    @Test func equalsIgnoringCaseIsASCIIOnly() {
        #expect(ASCII.equalsIgnoringCase("Content-Length", "content-length"))
        #expect(ASCII.equalsIgnoringCase("", ""))
        #expect(!ASCII.equalsIgnoringCase("Content-Length", "content-lengt"))
        #expect(!ASCII.equalsIgnoringCase("x-amz-date", "x-amz-dat3"))
        // Only ASCII letters fold: "@" (0x40) and "`" (0x60) differ by the same bit but are not letters.
        #expect(!ASCII.equalsIgnoringCase("@", "`"))
        #expect(!ASCII.equalsIgnoringCase("É", "é"))
    }
}
