import Crypto
import Foundation
import Testing
import VossBase

@testable import VossSigV4

/// Inputs an unauthenticated client can send that once trapped the gateway (issue 11). Each must
/// come back as a refusal, not a crash.
@Suite struct HostileDateTests {
    static let hostile = [
        "Fri, 01 Jan 99999999999999999 00:00:00 GMT",
        "Fri, 01 Jan 2020 9999999999999999:00:00 GMT",
        "Fri, 9223372036854775807 Jan 2020 00:00:00 GMT",
        "Fri, 01 Jan -9223372036854775808 00:00:00 GMT",
        "Fri, 01 Jan 2020 00:00:99 GMT",
        "Fri, 31 Feb 2020 00:00:00 GMT",
        "Fri, ٠١ Jan ٢٠٢٠ ٠٠:٠٠:٠٠ GMT",
        "٢٠٢٠-٠١-٠١T٠٠:٠٠:٠٠Z",
        "99999999999999999999-01-01T00:00:00Z",
        "2020-01-01T00:00:00.99999999999999999999999Z",
        "9223372036854775807T000000Z",
        "2020-13-01T00:00:00Z",
        "", " ", "T", "GMT", ",,,,,,",
        String(repeating: "9", count: 10_000) + "T",
    ]

    @Test(arguments: hostile) func parseRefuses(_ s: String) {
        #expect(HTTPDate.parse(s) == nil)
        #expect(HTTPDate.parseAmz(s) == nil)
    }

    @Test func parseAcceptsTheForms() {
        let t = Date(timeIntervalSince1970: 1_369_353_600)
        #expect(HTTPDate.parse("Fri, 24 May 2013 00:00:00 GMT") == t)
        #expect(HTTPDate.parse("2013-05-24T00:00:00Z") == t)
        #expect(HTTPDate.parse("2013-05-24T00:00:00.000Z") == t)
        #expect(HTTPDate.parse("20130524T000000Z") == t)
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 23:59:59 GMT") == HTTPDate.make(2024, 2, 29, 23, 59, 59))
        #expect(HTTPDate.parse("Sat, 1 Jan 2000 00:00:00 GMT") == HTTPDate.make(2000, 1, 1, 0, 0, 0))
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") != nil)
    }

    @Test func formatSurvivesAbsurdDates() {
        for d in [Date.distantPast, .distantFuture, Date(timeIntervalSince1970: .infinity), Date(timeIntervalSince1970: -.infinity),
                  Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: 1e300)] {
            #expect(!HTTPDate.format(d).isEmpty)
            #expect(!HTTPDate.iso(d).isEmpty)
            #expect(!HTTPDate.amz(d).isEmpty)
        }
    }

    @Test(arguments: hostile) func sigV2HeaderWithHostileDate(_ date: String) {
        let r = SignedRequest(
            method: "GET", rawPath: "/b/k", rawQuery: "",
            headers: [("Host", "h"), ("Authorization", "AWS NOPE:abc="), ("Date", date)])
        let out = SigV2.verify(r, virtualHostBucket: nil, now: Date()) { _ in nil }
        guard case .failure(let f) = out else {
            Issue.record("accepted")
            return
        }
        #expect(f.s3Code == "AccessDenied")
    }

    @Test(arguments: hostile) func sigV4HeaderWithHostileDate(_ date: String) {
        let r = SignedRequest(
            method: "GET", rawPath: "/b/k", rawQuery: "",
            headers: [
                ("Host", "h"), ("Date", date), ("x-amz-content-sha256", SigV4.unsignedPayload),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=NOPE/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;date, Signature=00"),
            ])
        guard case .failure(let f)? = SigV4Verifier(region: "us-east-1").verify(r, now: Date(), signingKey: { _, _, _ in nil }) else {
            Issue.record("accepted")
            return
        }
        #expect(f.s3Code == "AccessDenied")
    }

    @Test func sigV4HostileAmzDateAndExpires() {
        for (date, expires) in [("99999999T999999Z", "60"), ("20200101T000000Z", "9223372036854775807"), ("20200101T000000Z", "-1"),
                                ("20200101T000000Z", "99999999999999999999999")] {
            let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=NOPE%2F20200101%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=\(date)&X-Amz-Expires=\(expires)&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
            let r = SignedRequest(method: "GET", rawPath: "/b/k", rawQuery: q, headers: [("Host", "h")])
            guard case .failure? = SigV4Verifier(region: "us-east-1").verify(r, now: Date(), signingKey: { _, _, _ in nil }) else {
                Issue.record("accepted \(date) \(expires)")
                continue
            }
        }
        // SigV2 query form: an Expires past Int64 or negative.
        for e in ["9223372036854775807", "-9223372036854775808", "1e400", "٢٠٢٠"] {
            let r = SignedRequest(method: "GET", rawPath: "/b/k", rawQuery: "AWSAccessKeyId=NOPE&Expires=\(e)&Signature=x", headers: [])
            guard case .failure = SigV2.verify(r, virtualHostBucket: nil, now: Date(), secret: { _ in nil }) else {
                Issue.record("accepted \(e)")
                continue
            }
        }
    }
}
