import Crypto
import VossChecksums
import VossSigV4

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything a request promised about its body, checked as the bytes arrive: the payload mode
/// (SHA-256, unsigned, `aws-chunked` with or without chunk signatures and trailers), the chunk
/// signature chain, Content-MD5, the additional checksum, the declared length and the size limit.
///
/// Pure: no socket, no clock. `feed` takes the body in any split (one byte at a time or all at once
/// give the same outcome) and hands the decoded data to its caller; `finish` says whether the body
/// was complete and matched. The network shell only reads buffers and writes data.
public struct BodyVerifier {
    public struct Checksum {
        public var algorithm: ChecksumAlgorithm
        /// The value to match (from a header), or `nil` when it arrives as a trailer or is only computed.
        public var expected: [UInt8]?
        public var trailer: Bool

        public init(algorithm: ChecksumAlgorithm, expected: [UInt8]?, trailer: Bool) {
            self.algorithm = algorithm
            self.expected = expected
            self.trailer = trailer
        }
    }

    public struct Outcome: Equatable {
        public var size: Int64
        public var md5: [UInt8]
        public var checksum: Checksummed?
    }

    public struct Checksummed: Equatable {
        public var algorithm: ChecksumAlgorithm
        public var digest: [UInt8]
    }

    public let payload: PayloadMode
    public let declared: Int64?
    public let maxSize: Int64
    let contentMD5: [UInt8]?
    let check: Checksum?

    private var chunked: AwsChunkedDecoder?
    private var chain: ChunkSignatureChain?
    private var md5 = RunningMD5()
    private var running: RunningChecksum?
    private var sha = SHA256()
    private var chunkSHA = SHA256()
    private var pendingChunkSignature: String?
    private var trailers: [(String, String)] = []
    private var trailerSignature: String?
    public private(set) var size: Int64 = 0

    /// - Parameters:
    ///   - chunked: the body is `aws-chunked` (from the payload mode or `Content-Encoding`).
    ///   - chain: the chunk signature chain of a verified streaming-signed request.
    public init(
        payload: PayloadMode, chunked: Bool, chain: ChunkSignatureChain?, declared: Int64?, maxSize: Int64,
        contentMD5: [UInt8]?, check: Checksum?
    ) {
        self.payload = payload
        self.declared = declared
        self.maxSize = maxSize
        self.contentMD5 = contentMD5
        self.check = check
        if chunked {
            let signed: Bool = { if case .streamingSigned = payload { true } else { false } }()
            self.chunked = AwsChunkedDecoder(signed: signed)
        }
        self.chain = chain
        running = check.map { RunningChecksum($0.algorithm) }
    }

    var wantsSHA: Bool { if case .sha256 = payload { true } else { false } }

    /// Takes the next bytes of the body as received; `data` gets the decoded object bytes in order.
    public mutating func feed(_ p: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard var decoder = chunked else {
            try consume(p, data)
            return
        }
        let events: [AwsChunkedDecoder.Event]
        do {
            events = try decoder.feed(p)
        } catch {
            throw S3Error("IncompleteBody", message: "The aws-chunked body is malformed: \(error)")
        }
        chunked = decoder
        // In the order they occurred: a chunk's start resets its hash before its data is hashed,
        // whether the header and the data came in one read or in several.
        for e in events {
            switch e {
            case .chunkStart(_, let sig):
                pendingChunkSignature = sig
                chunkSHA = SHA256()
            case .data(let r):
                try consume(UnsafeRawBufferPointer(rebasing: p[r]), data)
            case .chunkEnd:
                if var c = chain {
                    let digest = SigV4.hex(chunkSHA.finalize())
                    guard c.verifyChunk(dataSHA256Hex: digest, signature: pendingChunkSignature ?? "") else {
                        throw S3Error(
                            "SignatureDoesNotMatch",
                            message: "The chunk signature we calculated does not match the chunk-signature you provided.")
                    }
                    chain = c
                }
            case .trailer(let n, let v): trailers.append((n, v))
            case .trailerSignature(let s): trailerSignature = s
            case .end: break
            }
        }
    }

    private mutating func consume(_ p: UnsafeRawBufferPointer, _ data: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard p.count > 0 else { return }
        let (next, overflow) = size.addingReportingOverflow(Int64(p.count))
        guard !overflow, next <= maxSize else {
            throw S3Error("EntityTooLarge", details: [("MaxSizeAllowed", String(maxSize))])
        }
        if let declared, next > declared {
            throw S3Error("IncompleteBody", message: "The body is longer than its declared length (\(declared) bytes).")
        }
        size = next
        md5.update(p)
        running?.update(p)
        if wantsSHA { sha.update(bufferPointer: p) }
        if chain != nil { chunkSHA.update(bufferPointer: p) }
        try data(p)
    }

    /// The body has ended: was it complete, and does it match everything promised?
    public func finish() throws -> Outcome {
        if let decoder = chunked, !decoder.isDone {
            throw S3Error("IncompleteBody", message: "The aws-chunked body ended early.")
        }
        if let declared, size != declared {
            throw S3Error("IncompleteBody", details: [("NumberBytesExpected", String(declared)), ("NumberBytesProvided", String(size))])
        }
        if case .streamingSigned(trailer: true) = payload, let c = chain {
            let canonical = trailers.map { "\($0.0):\($0.1)\n" }.joined()
            guard let sig = trailerSignature, SigV4.signaturesEqual(c.trailerSignature(canonicalTrailers: canonical), sig.lowercased()) else {
                throw S3Error("SignatureDoesNotMatch", message: "The trailer signature we calculated does not match the signature you provided.")
            }
        }
        if case .sha256(let expected) = payload, SigV4.hex(sha.finalize()) != expected {
            throw S3Error("XAmzContentSHA256Mismatch")
        }
        let md5Digest = md5.finish()
        if let m = contentMD5, m != md5Digest {
            throw S3Error("BadDigest", message: "The Content-MD5 you specified did not match what we received.")
        }
        var checksum: Checksummed?
        if let c = check, let r = running {
            let digest = r.finish()
            var expected = c.expected
            if c.trailer {
                guard let v = trailers.first(where: { $0.0 == c.algorithm.headerName })?.1 else {
                    throw S3Error.invalidRequest("The trailer \(c.algorithm.headerName) announced in x-amz-trailer is missing.")
                }
                guard let d = c.algorithm.decode(v) else {
                    throw S3Error.invalidRequest("Value for \(c.algorithm.headerName) trailing header is invalid.")
                }
                expected = d
            }
            if let e = expected, e != digest {
                throw S3Error("BadDigest", message: "The \(c.algorithm.rawValue) you specified did not match the calculated checksum.")
            }
            checksum = Checksummed(algorithm: c.algorithm, digest: digest)
        }
        return Outcome(size: size, md5: md5Digest, checksum: checksum)
    }
}
