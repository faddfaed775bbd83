import VossBase
import Crypto
import Foundation
import Testing

@testable import VossSigV4

// AWS's published S3 SigV4 examples ("Signature Calculations for the Authorization Header", "…in
// Multiple Chunks", "…Including Trailing Headers", "Query String Authentication"): credentials
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, time 20130524T000000Z, us-east-1.
let akid = "AKIAIOSFODNN7EXAMPLE"
let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
let exampleDate = SigV4.parseAmzDate("20130524T000000Z")!
let verifier = SigV4Verifier(region: "us-east-1")

func keyLookup(_ ak: String, _ date: String, _ region: String) -> SigningKey? {
    ak == akid ? SigV4.signingKey(secret: secret, date: date, region: region) : nil
}

func sig(_ header: String) -> String { String(header.split(separator: "=").last!) }

@Suite struct SigV4ExampleTests {
    @Test func getObject_canonicalRequestAndSignature() throws {
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", SigV4.emptySHA256), ("x-amz-date", "20130524T000000Z"),
        ]
        let signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"]
        let creq = SigV4.canonicalRequest(
            method: "GET", canonicalURI: SigV4.canonicalURI(rawPath: "/test.txt")!, canonicalQuery: "",
            canonicalHeaders: SigV4.canonicalHeaders(headers, signed: signed)!, signedHeaders: signed,
            payloadHash: SigV4.emptySHA256)
        #expect(creq == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        let sts = SigV4.stringToSign(amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", canonicalRequest: creq)
        #expect(sts.hasSuffix("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        let r = SignedRequest(method: "GET", rawPath: "/test.txt", rawQuery: "", headers: headers + [("Authorization", auth)])
        let ctx = try #require(try verifier.verify(r, now: exampleDate, signingKey: keyLookup)?.get())
        #expect(ctx.accessKey == akid && ctx.payload == .sha256(SigV4.emptySHA256))
    }

    @Test func putObject_withADollarInTheKey() throws {
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        ]
        #expect(SigV4.sha256Hex("Welcome to Amazon S3.") == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(SigV4.canonicalURI(rawPath: "/test$file.text") == "/test%24file.text")
        let r = SignedRequest(method: "PUT", rawPath: "/test%24file.text", rawQuery: "", headers: headers)
        #expect(throws: Never.self) { try verifier.verify(r, now: exampleDate, signingKey: keyLookup)!.get() }
    }

    @Test func getBucketLifecycle_andListObjects_signTheQuery() throws {
        let base = [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", SigV4.emptySHA256)]
        let lifecycle = SignedRequest(
            method: "GET", rawPath: "/", rawQuery: "lifecycle",
            headers: base + [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")])
        #expect(SigV4.canonicalQuery(rawQuery: "lifecycle") == "lifecycle=")
        #expect(throws: Never.self) { try verifier.verify(lifecycle, now: exampleDate, signingKey: keyLookup)!.get() }
        let list = SignedRequest(
            method: "GET", rawPath: "/", rawQuery: "prefix=J&max-keys=2",
            headers: base + [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")])
        #expect(SigV4.canonicalQuery(rawQuery: "prefix=J&max-keys=2") == "max-keys=2&prefix=J")
        #expect(throws: Never.self) { try verifier.verify(list, now: exampleDate, signingKey: keyLookup)!.get() }
    }

    @Test func presignedURL_example_andItsExpiry() throws {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        let r = SignedRequest(method: "GET", rawPath: "/test.txt", rawQuery: q, headers: [("Host", "examplebucket.s3.amazonaws.com")])
        let ctx = try verifier.verify(r, now: exampleDate.addingTimeInterval(3600), signingKey: keyLookup)!.get()
        #expect(ctx.presigned && ctx.payload == .unsigned)
        let late = verifier.verify(r, now: exampleDate.addingTimeInterval(86401), signingKey: keyLookup)!
        #expect(late.failureCode == "AccessDenied")
        // Our signer produces the same URL.
        let ours = SigV4Signer.presign(
            method: "GET", rawPath: "/test.txt", host: "examplebucket.s3.amazonaws.com", accessKey: akid, secret: secret,
            region: "us-east-1", date: exampleDate, expires: 86400)
        #expect(ours.hasSuffix("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
    }

    @Test func chunkedUpload_seedAndChunkSignatures() throws {
        let headers = [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", SigV4.streamingSigned), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
        ]
        let r = SignedRequest(method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "", headers: headers)
        let ctx = try verifier.verify(r, now: exampleDate, signingKey: keyLookup)!.get()
        #expect(ctx.payload == .streamingSigned(trailer: false))
        var chain = ChunkSignatureChain(ctx)
        let a64k = [UInt8](repeating: 0x61, count: 65536), a1k = [UInt8](repeating: 0x61, count: 1024)
        let r1 = chain.verifyChunk(dataSHA256Hex: SigV4.hex(SHA256.hash(data: a64k)), signature: "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648")
        #expect(r1)
        let r2 = chain.verifyChunk(dataSHA256Hex: SigV4.hex(SHA256.hash(data: a1k)), signature: "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497")
        #expect(r2)
        let r3 = chain.verifyChunk(dataSHA256Hex: SigV4.emptySHA256, signature: "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
        #expect(r3)
    }

    @Test func chunkedUploadWithTrailer_chainAndTrailerSignature() {
        let key = SigV4.signingKey(secret: secret, date: "20130524", region: "us-east-1")
        var chain = ChunkSignatureChain(
            key: key, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request",
            seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")
        let a64k = [UInt8](repeating: 0x61, count: 65536), a1k = [UInt8](repeating: 0x61, count: 1024)
        let r4 = chain.next(dataSHA256Hex: SigV4.hex(SHA256.hash(data: a64k)))
        #expect(r4 == "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2")
        let r5 = chain.next(dataSHA256Hex: SigV4.hex(SHA256.hash(data: a1k)))
        #expect(r5 == "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7")
        let r6 = chain.next(dataSHA256Hex: SigV4.emptySHA256)
        #expect(r6 == "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992")
        #expect(chain.trailerSignature(canonicalTrailers: "x-amz-checksum-crc32c:sOO8/Q==\n") == "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435")
    }
}

@Suite struct SigV4RejectionTests {
    func signedGet(date: String = "20130524T000000Z", region: String = "us-east-1", secret s: String = secret, extra: [(String, String)] = []) -> SignedRequest {
        var headers = [("Host", "h"), ("x-amz-date", date), ("x-amz-content-sha256", SigV4.emptySHA256)] + extra
        let auth = SigV4Signer.authorization(
            method: "GET", rawPath: "/b/k", rawQuery: "", headers: headers, payloadHash: SigV4.emptySHA256, accessKey: akid,
            secret: s, region: region, amzDate: date)
        headers.append(("Authorization", auth))
        return SignedRequest(method: "GET", rawPath: "/b/k", rawQuery: "", headers: headers)
    }

    @Test func aGoodSignature_verifies() throws {
        _ = try verifier.verify(signedGet(), now: exampleDate, signingKey: keyLookup)!.get()
    }

    @Test func wrongSecret_isSignatureDoesNotMatch() {
        #expect(verifier.verify(signedGet(secret: "x"), now: exampleDate, signingKey: keyLookup)!.failureCode == "SignatureDoesNotMatch")
    }

    @Test func tamperedHeader_isSignatureDoesNotMatch() {
        var r = signedGet(extra: [("x-amz-meta-a", "1")])
        r.headers[3].1 = "2"
        #expect(verifier.verify(r, now: exampleDate, signingKey: keyLookup)!.failureCode == "SignatureDoesNotMatch")
    }

    @Test func sixteenMinutesOff_isRequestTimeTooSkewed_fourteenIsFine() {
        #expect(verifier.verify(signedGet(), now: exampleDate.addingTimeInterval(16 * 60), signingKey: keyLookup)!.failureCode == "RequestTimeTooSkewed")
        #expect(verifier.verify(signedGet(), now: exampleDate.addingTimeInterval(-16 * 60), signingKey: keyLookup)!.failureCode == "RequestTimeTooSkewed")
        #expect(verifier.verify(signedGet(), now: exampleDate.addingTimeInterval(14 * 60), signingKey: keyLookup)!.failureCode == nil)
    }

    @Test func unknownKey_wrongRegion_anonymous() {
        #expect(verifier.verify(signedGet(), now: exampleDate, signingKey: { _, _, _ in nil })!.failureCode == "InvalidAccessKeyId")
        #expect(verifier.verify(signedGet(region: "eu-west-1"), now: exampleDate, signingKey: keyLookup)!.failureCode == "AuthorizationHeaderMalformed")
        #expect(verifier.verify(SignedRequest(method: "GET", rawPath: "/", rawQuery: "", headers: [("Host", "h")]), now: exampleDate, signingKey: keyLookup) == nil)
    }

    @Test func presignedLongerThanAWeek_isRejected() {
        let q = SigV4Signer.presign(method: "GET", rawPath: "/b/k", host: "h", accessKey: akid, secret: secret, region: "us-east-1", date: exampleDate, expires: 604_801)
        let r = SignedRequest(method: "GET", rawPath: "/b/k", rawQuery: q, headers: [("Host", "h")])
        #expect(verifier.verify(r, now: exampleDate, signingKey: keyLookup)!.failureCode == "AuthorizationQueryParametersError")
    }

    @Test func dates_roundTrip() {
        #expect(SigV4.amzDate(exampleDate) == "20130524T000000Z")
        #expect(HTTPDate.format(exampleDate) == "Fri, 24 May 2013 00:00:00 GMT")
        #expect(HTTPDate.parse("Fri, 24 May 2013 00:00:00 GMT") == exampleDate)
        #expect(SigV4.parseAmzDate("20130524T000000") == nil)
        #expect(SigV4.parseAmzDate("20131324T000000Z") == nil)
    }
}

@Suite struct AwsChunkedTests {
    func body(_ chunks: [(Int, String?)], trailers: String = "\r\n") -> [UInt8] {
        var out: [UInt8] = []
        for (n, sig) in chunks {
            out += Array((String(n, radix: 16) + (sig.map { ";chunk-signature=\($0)" } ?? "") + "\r\n").utf8)
            if n > 0 { out += [UInt8](repeating: 0x61, count: n) + Array("\r\n".utf8) }
        }
        return out + Array(trailers.utf8)
    }

    func decode(_ bytes: [UInt8], signed: Bool, splits: Int) throws -> (data: Int, events: [AwsChunkedDecoder.Event]) {
        var d = AwsChunkedDecoder(signed: signed)
        var data = 0
        var events: [AwsChunkedDecoder.Event] = []
        var i = 0
        let step = max(1, bytes.count / splits)
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + step)])
            for e in try piece.withUnsafeBytes({ try d.feed($0) }) {
                if case .data(let r) = e { data += r.count } else { events.append(e) }
            }
            i += step
        }
        #expect(d.isDone)
        return (data, events)
    }

    @Test(arguments: [1, 3, 1000, 100_000])
    func signedBody_decodesWithAnySplit(splits: Int) throws {
        let s1 = String(repeating: "a", count: 64), s2 = String(repeating: "b", count: 64), s3 = String(repeating: "c", count: 64)
        let (n, events) = try decode(body([(65536, s1), (1024, s2), (0, s3)]), signed: true, splits: splits)
        #expect(n == 66560)
        #expect(events == [.chunkStart(size: 65536, signature: s1), .chunkEnd, .chunkStart(size: 1024, signature: s2), .chunkEnd,
                           .chunkStart(size: 0, signature: s3), .chunkEnd, .end])
    }

    @Test func unsignedBodyWithTrailers() throws {
        let (n, events) = try decode(body([(10, nil), (0, nil)], trailers: "x-amz-checksum-crc32:y/Q5Jg==\r\n\r\n"), signed: false, splits: 7)
        #expect(n == 10)
        #expect(events.suffix(2) == [.trailer(name: "x-amz-checksum-crc32", value: "y/Q5Jg=="), .end])
    }

    @Test func signedTrailer_reportsTheTrailerSignature() throws {
        let sig = String(repeating: "d", count: 64)
        let (_, events) = try decode(body([(5, sig), (0, sig)], trailers: "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(sig)\r\n\r\n"), signed: true, splits: 2)
        #expect(events.suffix(3) == [.trailer(name: "x-amz-checksum-crc32c", value: "sOO8/Q=="), .trailerSignature(sig), .end])
    }

    @Test(arguments: ["zz\r\n", "5\r\naaaaaXX", "5;chunk-signature=short\r\n", "\(String(repeating: "f", count: 17))\r\n", "5\naaaaa\r\n"])
    func malformedBodies_areErrors(text: String) {
        var d = AwsChunkedDecoder(signed: text.contains("signature"))
        #expect(throws: AwsChunkedDecoder.DecodeError.self) {
            _ = try Array(text.utf8).withUnsafeBytes { try d.feed($0) }
        }
    }

    @Test func signedBody_withoutSignature_isAnError() {
        var d = AwsChunkedDecoder(signed: true)
        #expect(throws: AwsChunkedDecoder.DecodeError.self) { _ = try Array("5\r\n".utf8).withUnsafeBytes { try d.feed($0) } }
    }
}

extension Result where Failure == AuthFailure {
    var failureCode: String? {
        if case .failure(let f) = self { return f.s3Code }
        return nil
    }
}

// SigV2: AWS's header example ("Signing and authenticating REST requests"); the query-string form is
// checked against boto3's real presigned URLs in Tests/e2e.
@Suite struct SigV2Tests {
    @Test func headerExample_getObject() {
        let r = SignedRequest(
            method: "GET", rawPath: "/photos/puppy.jpg", rawQuery: "",
            headers: [("Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000")])
        let sts = SigV2.stringToSign(r, dateOrExpires: "Tue, 27 Mar 2007 19:36:42 +0000", virtualHostBucket: "awsexamplebucket1")
        #expect(sts == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg")
        #expect(SigV2.signature(secret: secret, stringToSign: sts) == "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
    }

    @Test func queryString_verifiesAndExpires() {
        let sts = "GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg"
        let sig = SigV2.signature(secret: secret, stringToSign: sts)
        let encoded = SigV4.uriEncode(Array(sig.utf8), encodeSlash: true)
        let r = SignedRequest(
            method: "GET", rawPath: "/photos/puppy.jpg",
            rawQuery: "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=\(encoded)&Expires=1175139620",
            headers: [("Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com")])
        let before = Date(timeIntervalSince1970: 1_175_139_000)
        #expect(SigV2.verify(r, virtualHostBucket: "awsexamplebucket1", now: before) { $0 == akid ? secret : nil } == .success(akid))
        let late = SigV2.verify(r, virtualHostBucket: "awsexamplebucket1", now: Date(timeIntervalSince1970: 1_175_139_621)) { _ in secret }
        #expect(late.failureCode == "AccessDenied")
        #expect(SigV2.verify(r, virtualHostBucket: "awsexamplebucket1", now: before) { _ in "other" }.failureCode == "SignatureDoesNotMatch")
        #expect(SigV2.verify(r, virtualHostBucket: nil, now: before) { _ in secret }.failureCode == "SignatureDoesNotMatch")
    }

    @Test func aPathStyleBucketVerifiesWithOrWithoutATrailingSlash() {
        // boto3's presigned ListObjectsV2 URL: path /bucket, signed as /bucket/.
        let expires = "1175139620"
        for signedAs in ["/big/", "/big"] {
            let sig = SigV2.signature(secret: secret, stringToSign: "GET\n\n\n\(expires)\n\(signedAs)")
            let r = SignedRequest(
                method: "GET", rawPath: "/big",
                rawQuery: "list-type=2&encoding-type=url&AWSAccessKeyId=\(akid)&Signature=\(SigV4.uriEncode(Array(sig.utf8), encodeSlash: true))&Expires=\(expires)",
                headers: [("Host", "127.0.0.1:9080")])
            #expect(SigV2.verify(r, virtualHostBucket: nil, now: Date(timeIntervalSince1970: 1_175_139_000)) { _ in secret } == .success(akid))
        }
        // Not for object keys: /big/key signed as /big/key/ is another resource.
        let sig = SigV2.signature(secret: secret, stringToSign: "GET\n\n\n\(expires)\n/big/key/")
        let r = SignedRequest(
            method: "GET", rawPath: "/big/key",
            rawQuery: "AWSAccessKeyId=\(akid)&Signature=\(SigV4.uriEncode(Array(sig.utf8), encodeSlash: true))&Expires=\(expires)",
            headers: [("Host", "127.0.0.1:9080")])
        #expect(SigV2.verify(r, virtualHostBucket: nil, now: Date(timeIntervalSince1970: 1_175_139_000)) { _ in secret }.failureCode == "SignatureDoesNotMatch")
    }

    @Test func subresourcesAreSignedSortedAndDecoded() {
        #expect(SigV2.canonicalResource(rawPath: "/b/k", rawQuery: "uploadId=a%2Fb&partNumber=2&x-id=Put", virtualHostBucket: nil)
            == "/b/k?partNumber=2&uploadId=a/b")
        #expect(SigV2.canonicalResource(rawPath: "/b", rawQuery: "acl", virtualHostBucket: nil) == "/b?acl")
    }
}

extension Result where Success == String, Failure == AuthFailure {
    var failureCode: String? {
        if case .failure(let f) = self { return f.s3Code }
        return nil
    }
}
