import Crypto
import Foundation
import Testing
import VossChecksums
import VossSigV4

@testable import VossS3Core

/// The body checks without a socket: AWS's published "Signature Calculations … in Multiple Chunks"
/// example (66,560 bytes of 'a' in a 64 KiB and a 1 KiB chunk, seed signature 4f232c43…), fed in
/// every kind of split a TCP connection can produce.
@Suite struct BodyVerifierTests {
    static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let sigs = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]

    static func chain() -> ChunkSignatureChain {
        let key = SigV4.signingKey(secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", date: "20130524", region: "us-east-1")
        return ChunkSignatureChain(key: key, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", seed: seed)
    }

    static func signedBody(sigs: [String] = sigs) -> [UInt8] {
        var out: [UInt8] = []
        for (n, s) in zip([65536, 1024, 0], sigs) {
            out += Array("\(String(n, radix: 16));chunk-signature=\(s)\r\n".utf8)
            out += [UInt8](repeating: 0x61, count: n)
            out += Array("\r\n".utf8)
        }
        return out
    }

    func verifier(declared: Int64? = 66560, maxSize: Int64 = 1 << 30, md5: [UInt8]? = nil, check: BodyVerifier.Checksum? = nil,
                  payload: PayloadMode = .streamingSigned(trailer: false), chunked: Bool = true, chain: ChunkSignatureChain? = chain()) -> BodyVerifier {
        BodyVerifier(payload: payload, chunked: chunked, chain: chain, declared: declared, maxSize: maxSize, contentMD5: md5, check: check)
    }

    /// Feeds `bytes` cut at `cuts` (offsets), returns the outcome and the data handed on.
    func run(_ v: BodyVerifier, _ bytes: [UInt8], cuts: [Int]) throws -> (BodyVerifier.Outcome, [UInt8]) {
        var v = v
        var data: [UInt8] = []
        var start = 0
        for end in (cuts.filter { $0 > 0 && $0 < bytes.count }.sorted() + [bytes.count]) {
            try bytes[start..<end].withUnsafeBytes { p in try v.feed(p) { data += $0 } }
            start = end
        }
        return (try v.finish(), data)
    }

    /// Every way the reads can fall: all at once (the case that failed), at each CRLF, one header
    /// and its data together, byte by byte across the headers, and a fixed stride.
    static let splits: [[Int]] = {
        let b = signedBody()
        var crlf: [Int] = []
        for i in 0..<(b.count - 1) where b[i] == 0x0D && b[i + 1] == 0x0A { crlf.append(i + 2) }
        let header1 = 16 + 64 + 2 + 5  // "10000;chunk-signature=<64>\r\n"
        return [[], crlf, [header1 + 100], Array(0..<200), Array(stride(from: 1000, to: b.count, by: 1000)),
                Array(stride(from: 7, to: b.count, by: 4093)), [header1, header1 + 65536 + 2 + 3]]
    }()

    @Test(arguments: splits) func signedChunksInAnySplit(_ cuts: [Int]) throws {
        let (out, data) = try run(verifier(), Self.signedBody(), cuts: cuts)
        #expect(out.size == 66560)
        #expect(data == [UInt8](repeating: 0x61, count: 66560))
        #expect(out.md5 == Array(Insecure.MD5.hash(data: data)))
    }

    @Test func wrongChunkSignatureIsSignatureDoesNotMatch() {
        var sigs = Self.sigs
        sigs[1] = String(repeating: "0", count: 64)
        #expect(throws: S3Error.self) { try run(verifier(), Self.signedBody(sigs: sigs), cuts: []) }
        do { _ = try run(verifier(), Self.signedBody(sigs: sigs), cuts: []) } catch let e as S3Error { #expect(e.code == "SignatureDoesNotMatch") } catch {}
    }

    func code(_ v: BodyVerifier, _ bytes: [UInt8], cuts: [Int] = []) -> String? {
        do {
            _ = try run(v, bytes, cuts: cuts)
            return nil
        } catch let e as S3Error {
            return e.code
        } catch {
            return "\(error)"
        }
    }

    @Test func errorsByCase() {
        let a = [UInt8](repeating: 0x61, count: 10)
        let body = Self.signedBody()
        // aws-chunked ends early / is malformed.
        #expect(code(verifier(), Array(body.prefix(1000))) == "IncompleteBody")
        #expect(code(verifier(), Array("zz\r\n".utf8)) == "IncompleteBody")
        // Declared decoded length differs.
        #expect(code(verifier(declared: 66561), body) == "IncompleteBody")
        #expect(code(verifier(declared: 10), body) == "IncompleteBody")
        // Larger than allowed.
        #expect(code(verifier(declared: nil, maxSize: 1000), body) == "EntityTooLarge")
        // Plain bodies: SHA-256 mismatch, Content-MD5 mismatch, checksum mismatch, short body.
        let plain = { (p: PayloadMode, md5: [UInt8]?, c: BodyVerifier.Checksum?) in
            self.verifier(declared: 10, md5: md5, check: c, payload: p, chunked: false, chain: nil)
        }
        #expect(code(plain(.sha256(String(repeating: "0", count: 64)), nil, nil), a) == "XAmzContentSHA256Mismatch")
        #expect(code(plain(.sha256(SigV4.hex(SHA256.hash(data: a))), nil, nil), a) == nil)
        #expect(code(plain(.unsigned, [UInt8](repeating: 0, count: 16), nil), a) == "BadDigest")
        #expect(code(plain(.unsigned, Array(Insecure.MD5.hash(data: a)), nil), a) == nil)
        #expect(code(plain(.unsigned, nil, .init(algorithm: .crc32, expected: [0, 0, 0, 0], trailer: false)), a) == "BadDigest")
        #expect(code(plain(.unsigned, nil, nil), Array(a.prefix(9))) == "IncompleteBody")
        // Trailer announced but absent.
        let unsignedTrailer = Array("a\r\naaaaaaaaaa\r\n0\r\n\r\n".utf8)
        #expect(code(verifier(declared: 10, check: .init(algorithm: .crc32, expected: nil, trailer: true),
                              payload: .streamingUnsignedTrailer, chain: nil), unsignedTrailer) == "InvalidRequest")
        var crc = RunningChecksum(.crc32)
        crc.update(a)
        let withTrailer = Array("a\r\naaaaaaaaaa\r\n0\r\nx-amz-checksum-crc32:\(crc.finishBase64())\r\n\r\n".utf8)
        #expect(code(verifier(declared: 10, check: .init(algorithm: .crc32, expected: nil, trailer: true),
                              payload: .streamingUnsignedTrailer, chain: nil), withTrailer, cuts: Array(0..<40)) == nil)
        // Signed trailer without its signature.
        #expect(code(verifier(payload: .streamingSigned(trailer: true)), body) == "SignatureDoesNotMatch")
    }
}
