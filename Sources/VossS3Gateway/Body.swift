import VossBase
import Logging
import Synchronization
import Crypto
import Foundation
import NIOCore
import VossBlobStore
import VossChecksums
import VossS3Core
import VossSigV4

/// What was received and verified.
struct BodyOutcome: Sendable {
    var size: Int64
    var md5: [UInt8]
    /// The additional checksum (computed, and equal to what the client sent if it sent one).
    var checksum: (algorithm: ChecksumAlgorithm, digest: [UInt8])?
    /// The body itself, when received into memory.
    var bytes: [UInt8]
}

enum BodySink {
    case blob(any BlobSink)
    case memory(limit: Int)
}

extension S3Service {
    /// The one additional checksum a request names: an `x-amz-checksum-*` header (value to check), an
    /// `x-amz-trailer` (value arrives at the end), or `x-amz-sdk-checksum-algorithm` (compute only).
    func requestedChecksum(_ ex: S3Call, default def: ChecksumAlgorithm? = nil) throws
        -> (algorithm: ChecksumAlgorithm, expected: [UInt8]?, trailer: Bool)?
    {
        var found: [(ChecksumAlgorithm, [UInt8])] = []
        for a in ChecksumAlgorithm.allCases {
            if let v = ex.ctx.header(a.headerName) {
                guard let d = a.decode(v) else {
                    throw S3Error.invalidRequest("Value for \(a.headerName) header is invalid.")
                }
                found.append((a, d))
            }
        }
        if found.count > 1 { throw S3Error.invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.") }
        if let f = found.first { return (f.0, f.1, false) }
        if let t = ex.ctx.header("x-amz-trailer") {
            let name = t.trimmingCharacters(in: .whitespaces)
            guard let a = ChecksumAlgorithm(headerName: name) else {
                throw S3Error.invalidRequest("The value specified in the x-amz-trailer header is not supported")
            }
            return (a, nil, true)
        }
        if let s = ex.ctx.header("x-amz-sdk-checksum-algorithm") ?? ex.ctx.header("x-amz-checksum-algorithm") {
            guard let a = ChecksumAlgorithm(caseInsensitive: s) else {
                throw S3Error.invalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            }
            return (a, nil, false)
        }
        return def.map { ($0, nil, false) }
    }

    /// How the body comes: its payload mode, whether it is aws-chunked, the chunk signature chain,
    /// and its (decoded) length when the request declares one.
    func bodyFraming(_ ex: S3Call) throws -> (PayloadMode, Bool, ChunkSignatureChain?, Int64?) {
        let h = { (n: String) in ex.ctx.header(n) }
        let payload: PayloadMode
        if let auth = ex.ctx.auth {
            payload = auth.payload
        } else {
            switch h("x-amz-content-sha256") {
            case SigV4.streamingUnsignedTrailer?: payload = .streamingUnsignedTrailer
            case let v? where v.count == 64: payload = .sha256(v.lowercased())
            default: payload = .unsigned
            }
        }
        let encodings = (h("content-encoding") ?? "").lowercased()
        let chunked: Bool
        var chain: ChunkSignatureChain?
        switch payload {
        case .streamingSigned:
            chunked = true
            if let auth = ex.ctx.auth { chain = ChunkSignatureChain(auth) }
        case .streamingUnsignedTrailer: chunked = true
        default: chunked = encodings.contains("aws-chunked")
        }
        let declared: Int64?
        if chunked {
            guard let d = h("x-amz-decoded-content-length").flatMap({ ASCIIDecimal.int64($0) }) else {
                throw S3Error("MissingContentLength", message: "aws-chunked uploads need x-amz-decoded-content-length.")
            }
            declared = d
        } else {
            declared = h("content-length").flatMap { ASCIIDecimal.int64($0) }
            if declared == nil && h("transfer-encoding") == nil && ex.ctx.operation.streamsBody {
                throw S3Error("MissingContentLength")
            }
        }
        return (payload, chunked, chain, declared)
    }

    /// Receives the body into `sink`, checking everything the request promised about it. On any
    /// failure nothing is committed (the caller aborts the blob writer).
    func receiveBody(_ ex: S3Call, into sink: BodySink, maxSize: Int64, checksumDefault: ChecksumAlgorithm? = nil)
        async throws -> BodyOutcome
    {
        let h = { (n: String) in ex.ctx.header(n) }
        let (payload, chunked, chain, declared) = try bodyFraming(ex)
        if let declared, declared > maxSize {
            throw S3Error("EntityTooLarge", details: [("ProposedSize", String(declared)), ("MaxSizeAllowed", String(maxSize))])
        }
        let check = try requestedChecksum(ex, default: checksumDefault)
        if let c = check, c.trailer, !chunked {
            throw S3Error.invalidRequest("x-amz-trailer requires an aws-chunked body.")
        }
        var contentMD5: [UInt8]?
        if let m = h("content-md5") {
            guard let d = Data(base64Encoded: m), d.count == 16 else { throw S3Error("InvalidDigest") }
            contentMD5 = Array(d)
        }
        var verifier = BodyVerifier(
            payload: payload, chunked: chunked, chain: chain, declared: declared, maxSize: maxSize, contentMD5: contentMD5,
            check: check.map { BodyVerifier.Checksum(algorithm: $0.algorithm, expected: $0.expected, trailer: $0.trailer) })

        ex.body.acceptBody()

        var staging = ByteBuffer()
        var memory: [UInt8] = []
        func flush() async throws {
            guard case .blob(let w) = sink, staging.readableBytes > 0 else { return }
            let buf = staging
            staging = ByteBuffer()
            try await w.write(buf)
        }
        while let buf = try await ex.body.nextBody() {
            state.counters.bytesIn.add(Int64(buf.readableBytes), ordering: .relaxed)
            try buf.withUnsafeReadableBytes { ptr in
                try verifier.feed(ptr) { data in
                    switch sink {
                    case .blob: staging.writeBytes(data)
                    case .memory(let limit):
                        guard memory.count + data.count <= limit else { throw S3Error("MaxMessageLengthExceeded") }
                        memory.append(contentsOf: data)
                    }
                }
            }
            if staging.readableBytes >= 1 << 20 { try await flush() }
        }
        try await flush()
        let out = try verifier.finish()
        return BodyOutcome(size: out.size, md5: out.md5, checksum: out.checksum.map { ($0.algorithm, $0.digest) }, bytes: memory)
    }

    /// Reads a small (XML) body into memory with the same verification as object bodies.
    func readSmallBody(_ ex: S3Call, limit: Int = 2 << 20) async throws -> [UInt8] {
        try await receiveBody(ex, into: .memory(limit: limit), maxSize: Int64(limit)).bytes
    }
}
