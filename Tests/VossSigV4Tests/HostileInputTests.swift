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

/// The query decoder the router and SigV4 share: a single pass over the raw bytes, checked against
/// the plain definition (split on `&`, then on the first `=`, then decode each `%XX`).
@Suite struct QueryPairsTests {
    /// The definition, written for clarity rather than speed.
    static func reference(_ raw: String) -> [(name: [UInt8], value: [UInt8])]? {
        var out: [(name: [UInt8], value: [UInt8])] = []
        for part in Array(raw.utf8).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let bytes = Array(part)
            let eq = bytes.firstIndex(of: UInt8(ascii: "=")) ?? bytes.count
            func decode(_ s: ArraySlice<UInt8>) -> [UInt8]? {
                var d: [UInt8] = []
                var i = s.startIndex
                while i < s.endIndex {
                    if s[i] == UInt8(ascii: "%") {
                        guard s.endIndex - i >= 3, let h = Percent.hexValue(s[i + 1]), let l = Percent.hexValue(s[i + 2]) else { return nil }
                        d.append(h << 4 | l)
                        i += 3
                    } else {
                        d.append(s[i])
                        i += 1
                    }
                }
                return d
            }
            guard let n = decode(bytes[..<eq]) else { return nil }
            guard let v = eq < bytes.count ? decode(bytes[(eq + 1)...]) : [] else { return nil }
            out.append((n, v))
        }
        return out
    }

    static func same(_ a: [(name: [UInt8], value: [UInt8])]?, _ b: [(name: [UInt8], value: [UInt8])]?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let x?, let y?): x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        default: false
        }
    }

    @Test(arguments: [
        "", "&", "&&", "a", "a=", "=v", "=", "a=b=c", "a&b", "a=1&&b=2&", "%41=%42", "a%3Db=c%26d", "a=%zz", "a=%4", "a=%",
        "%", "%%41", "a=%41%", "k=%E4%B8%AD", "k=%e4%b8%ad", "versionId&uploads", "a+b=c+d", "x=%00",
    ])
    func fixedCases(_ q: String) {
        #expect(Self.same(SigV4.queryPairs(q), Self.reference(q)), "\(q)")
    }

    @Test func randomQueriesAgreeWithTheDefinition() {
        var rng = SplitMix64(seed: 15)
        let alphabet = Array("ab=&%4Fz+ ~".utf8) + [0x00, 0xE4, 0xFF]
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 24)
            let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let q = String(decoding: bytes, as: UTF8.self)
            #expect(Self.same(SigV4.queryPairs(q), Self.reference(q)), "\(Array(q.utf8))")
        }
    }
}
