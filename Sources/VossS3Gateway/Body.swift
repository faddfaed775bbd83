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
    case blob(BlobWriter)
    case memory(limit: Int)
}

extension S3Server {
    /// The one additional checksum a request names: an `x-amz-checksum-*` header (value to check), an
    /// `x-amz-trailer` (value arrives at the end), or `x-amz-sdk-checksum-algorithm` (compute only).
    func requestedChecksum(_ ex: Exchange, default def: ChecksumAlgorithm? = nil) throws
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

    /// Receives the body into `sink`, checking everything the request promised about it. On any
    /// failure nothing is committed (the caller aborts the blob writer).
    func receiveBody(_ ex: Exchange, into sink: BodySink, maxSize: Int64, checksumDefault: ChecksumAlgorithm? = nil)
        async throws -> BodyOutcome
    {
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
        var chunked: AwsChunkedDecoder?
        var chain: ChunkSignatureChain?
        switch payload {
        case .streamingSigned:
            chunked = AwsChunkedDecoder(signed: true)
            if let auth = ex.ctx.auth { chain = ChunkSignatureChain(auth) }
        case .streamingUnsignedTrailer:
            chunked = AwsChunkedDecoder(signed: false)
        default:
            if encodings.contains("aws-chunked") { chunked = AwsChunkedDecoder(signed: false) }
        }
        let declared: Int64?
        if chunked != nil {
            guard let d = h("x-amz-decoded-content-length").flatMap({ Int64($0) }) else {
                throw S3Error("MissingContentLength", message: "aws-chunked uploads need x-amz-decoded-content-length.")
            }
            declared = d
        } else {
            declared = h("content-length").flatMap { Int64($0) }
            if declared == nil && h("transfer-encoding") == nil && ex.ctx.operation.streamsBody {
                throw S3Error("MissingContentLength")
            }
        }
        if let declared, declared > maxSize {
            throw S3Error("EntityTooLarge", details: [("ProposedSize", String(declared)), ("MaxSizeAllowed", String(maxSize))])
        }
        let check = try requestedChecksum(ex, default: checksumDefault)
        if let c = check, c.trailer, chunked == nil {
            throw S3Error.invalidRequest("x-amz-trailer requires an aws-chunked body.")
        }
        var contentMD5: [UInt8]?
        if let m = h("content-md5") {
            guard let d = Data(base64Encoded: m), d.count == 16 else { throw S3Error("InvalidDigest") }
            contentMD5 = Array(d)
        }

        ex.acceptBody()

        var md5 = RunningMD5()
        var running = check.map { RunningChecksum($0.algorithm) }
        var sha = SHA256()
        var chunkSHA = SHA256()
        let wantSHA: Bool = { if case .sha256 = payload { true } else { false } }()
        var size: Int64 = 0
        var staging = ByteBuffer()
        var memory: [UInt8] = []
        var pendingChunkSignature: String?
        var trailers: [(String, String)] = []
        var trailerSignature: String?
        var chunkFailure: S3Error?

        func consume(_ p: UnsafeRawBufferPointer) {
            guard p.count > 0 else { return }
            md5.update(p)
            running?.update(p)
            if wantSHA { sha.update(bufferPointer: p) }
            if chain != nil { chunkSHA.update(bufferPointer: p) }
            size += Int64(p.count)
            switch sink {
            case .blob: staging.writeBytes(p)
            case .memory: memory.append(contentsOf: p)
            }
        }

        func flush() async throws {
            guard case .blob(let w) = sink, staging.readableBytes > 0 else { return }
            let buf = staging
            staging = ByteBuffer()
            try await state.blocking { try buf.withUnsafeReadableBytes { try w.write($0) } }
        }

        while let buf = try await ex.reader.nextBody() {
            state.counters.bytesIn.add(Int64(buf.readableBytes), ordering: .relaxed)
            if var decoder = chunked {
                let events: [AwsChunkedDecoder.Event]
                do {
                    events = try buf.withUnsafeReadableBytes { ptr in
                        let evs = try decoder.feed(ptr)
                        for e in evs { if case .data(let r) = e { consume(UnsafeRawBufferPointer(rebasing: ptr[r])) } }
                        return evs
                    }
                } catch {
                    throw S3Error("IncompleteBody", message: "The aws-chunked body is malformed: \(error)")
                }
                chunked = decoder
                for e in events {
                    switch e {
                    case .chunkStart(_, let sig):
                        pendingChunkSignature = sig
                        chunkSHA = SHA256()
                    case .chunkEnd:
                        if var c = chain {
                            let digest = SigV4.hex(chunkSHA.finalize())
                            if !c.verifyChunk(dataSHA256Hex: digest, signature: pendingChunkSignature ?? "") {
                                chunkFailure = S3Error("SignatureDoesNotMatch", message: "The chunk signature we calculated does not match the chunk-signature you provided.")
                            }
                            chain = c
                        }
                    case .trailer(let n, let v): trailers.append((n, v))
                    case .trailerSignature(let s): trailerSignature = s
                    case .data, .end: break
                    }
                }
                if let f = chunkFailure { throw f }
            } else {
                buf.withUnsafeReadableBytes { consume($0) }
            }
            if size > maxSize {
                throw S3Error("EntityTooLarge", details: [("MaxSizeAllowed", String(maxSize))])
            }
            if case .memory(let limit) = sink, memory.count > limit { throw S3Error("MaxMessageLengthExceeded") }
            if staging.readableBytes >= 1 << 20 { try await flush() }
        }
        try await flush()

        // Everything arrived?
        if let decoder = chunked, !decoder.isDone {
            throw S3Error("IncompleteBody", message: "The aws-chunked body ended early.")
        }
        if let declared, size != declared {
            throw S3Error("IncompleteBody", details: [("NumberBytesExpected", String(declared)), ("NumberBytesProvided", String(size))])
        }
        // Signed trailers.
        if case .streamingSigned(trailer: true) = payload, let c = chain {
            let canonical = trailers.map { "\($0.0):\($0.1)\n" }.joined()
            guard let sig = trailerSignature, SigV4.signaturesEqual(c.trailerSignature(canonicalTrailers: canonical), sig.lowercased()) else {
                throw S3Error("SignatureDoesNotMatch", message: "The trailer signature we calculated does not match the signature you provided.")
            }
        }
        // Payload hash.
        if case .sha256(let expected) = payload, SigV4.hex(sha.finalize()) != expected {
            throw S3Error("XAmzContentSHA256Mismatch")
        }
        let md5Digest = md5.finish()
        if let m = contentMD5, m != md5Digest { throw S3Error("BadDigest", message: "The Content-MD5 you specified did not match what we received.") }
        var checksum: (ChecksumAlgorithm, [UInt8])?
        if let c = check, let r = running {
            let digest = r.finish()
            var expected = c.expected
            if c.trailer {
                guard let v = trailers.first(where: { $0.0 == c.algorithm.headerName })?.1 else {
                    throw S3Error.invalidRequest("The trailer \(c.algorithm.headerName) announced in x-amz-trailer is missing.")
                }
                guard let d = c.algorithm.decode(v) else { throw S3Error.invalidRequest("Value for \(c.algorithm.headerName) trailing header is invalid.") }
                expected = d
            }
            if let e = expected, e != digest {
                throw S3Error("BadDigest", message: "The \(c.algorithm.rawValue) you specified did not match the calculated checksum.")
            }
            checksum = (c.algorithm, digest)
        }
        return BodyOutcome(size: size, md5: md5Digest, checksum: checksum, bytes: memory)
    }

    /// Reads a small (XML) body into memory with the same verification as object bodies.
    func readSmallBody(_ ex: Exchange, limit: Int = 2 << 20) async throws -> [UInt8] {
        try await receiveBody(ex, into: .memory(limit: limit), maxSize: Int64(limit)).bytes
    }
}
