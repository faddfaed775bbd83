import Foundation
import Testing
import VossBase

@testable import VossS3Core

/// Header values an anonymous client can send on any public object (issue 11): never a trap.
@Suite struct HostileHeaderTests {
    static let dates = [
        "Fri, 01 Jan 99999999999999999 00:00:00 GMT", "Fri, 01 Jan 2020 9999999999999999:00:00 GMT",
        "Fri, ٠١ Jan ٢٠٢٠ ٠٠:٠٠:٠٠ GMT", "٢٠٢٠٠١٠١T٠٠٠٠٠٠Z", "2020-01-01T٠٠:٠٠:٠٠Z", "99999999999999999999T00000000000Z",
        "T" + String(repeating: "9", count: 400),
    ]

    @Test(arguments: dates) func conditionalDates(_ d: String) {
        let lm = Date(timeIntervalSince1970: 1_369_353_600)
        // A date that does not parse is ignored, as RFC 9110 says for If-Modified-Since.
        #expect(Preconditions.evaluate(ifMatch: nil, ifNoneMatch: nil, ifModifiedSince: d, ifUnmodifiedSince: nil, etag: "e", lastModified: lm) == .proceed)
        #expect(Preconditions.evaluate(ifMatch: nil, ifNoneMatch: nil, ifModifiedSince: nil, ifUnmodifiedSince: d, etag: "e", lastModified: lm) == .proceed)
    }

    @Test func ranges() {
        let huge = "9223372036854775807", over = "99999999999999999999999"
        #expect(RangeHeader.evaluate("bytes=0-\(huge)", size: 10) == .range(ByteRange(first: 0, last: 9)))
        #expect(RangeHeader.evaluate("bytes=\(huge)-", size: 10) == .unsatisfiable)
        #expect(RangeHeader.evaluate("bytes=-\(huge)", size: 10) == .range(ByteRange(first: 0, last: 9)))
        #expect(RangeHeader.evaluate("bytes=-\(over)", size: 10) == .whole)
        #expect(RangeHeader.evaluate("bytes=٠-٩", size: 10) == .whole)
        #expect(RangeHeader.evaluate("bytes=-1", size: 0) == .unsatisfiable)
        #expect(RangeHeader.evaluate("bytes=--1", size: 10) == .whole)
        #expect(RangeHeader.evaluate("bytes=+1-+2", size: 10) == .whole)
    }

    @Test func keysWithNUL() {
        #expect(S3Names.keyProblem("victim.txt\u{0}evil") != nil)
        #expect(S3Names.keyProblem("a\u{0}") != nil)
        #expect(S3Names.keyProblem("ok/key") == nil)
    }
}
