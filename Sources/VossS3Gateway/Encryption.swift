import Crypto
import Foundation
import Logging
import NIOCore
import Synchronization
import VossBlobStore
import VossChecksums
import VossS3Core
import VossS3Store

/// Server-side encryption (docs/decisions.md 42): SSE-S3 (`x-amz-server-side-encryption: AES256`,
/// or the bucket's default encryption) and SSE-C (`x-amz-server-side-encryption-customer-*`).
/// Objects are encrypted as they stream to the platform and decrypted as they stream out; what
/// the platform holds is ciphertext.

/// What a write asks for.
enum SSERequest: Sendable {
    case none
    case s3
    /// The customer's key and its base64 MD5.
    case customer(SymmetricKey, md5: String)
}

/// The data key an object's bytes are (to be) encrypted with, and how it is stored.
struct ObjectKey: Sendable {
    var key: SymmetricKey
    var encryption: ObjectEncryption
}

extension S3Service {
    static let ssecHeader = "x-amz-server-side-encryption-customer-"
    static let copySSECHeader = "x-amz-copy-source-server-side-encryption-customer-"

    /// The SSE-C key a request carries under `prefix` (nil: none), checked as S3 checks it.
    func customerKey(_ ex: S3Call, prefix: String) throws -> (SymmetricKey, md5: String)? {
        let algorithm = ex.ctx.header(prefix + "algorithm")
        let key = ex.ctx.header(prefix + "key")
        let md5 = ex.ctx.header(prefix + "key-md5")
        if algorithm == nil && key == nil && md5 == nil { return nil }
        if !ex.ctx.tls {
            throw S3Error.invalidRequest("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
        }
        guard let algorithm else {
            throw S3Error.invalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
                name: prefix + "algorithm", value: "null")
        }
        guard algorithm == "AES256" else {
            throw S3Error(
                "InvalidEncryptionAlgorithmError", message: "The encryption request you specified is not valid. Supported value: AES256.",
                details: [("ArgumentName", prefix + "algorithm"), ("ArgumentValue", String(algorithm.prefix(64)))])
        }
        guard let key, let bytes = Data(base64Encoded: key), bytes.count == 32 else {
            throw S3Error.invalidArgument(
                key == nil
                    ? "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
                    : "The secret key was invalid for the specified algorithm.",
                name: prefix + "key", value: key == nil ? "null" : nil)
        }
        let digest = Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
        if let md5, md5 != digest {
            throw S3Error.invalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.", name: prefix + "key-MD5")
        }
        return (SymmetricKey(data: bytes), digest)
    }

    /// What a write asks for: its headers, else the bucket's default encryption.
    func sseRequest(_ ex: S3Call, _ b: BucketRecord) throws -> SSERequest {
        let customer = try customerKey(ex, prefix: Self.ssecHeader)
        if let sse = ex.ctx.header("x-amz-server-side-encryption") {
            if customer != nil {
                throw S3Error.invalidArgument(
                    "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
                    name: "x-amz-server-side-encryption", value: String(sse.prefix(64)))
            }
            return try Self.serverSideEncryption(sse)
        }
        if let (key, md5) = customer { return .customer(key, md5: md5) }
        return b.settings.encryption != nil ? .s3 : .none
    }

    /// An `x-amz-server-side-encryption` value (header or form field): only AES256 is offered.
    static func serverSideEncryption(_ value: String) throws -> SSERequest {
        switch value {
        case "AES256": return .s3
        case "aws:kms", "aws:kms:dsse":
            throw S3Error(
                "NotImplemented", status: 501,
                message: "SSE-KMS is not offered by this service; use AES256 (SSE-S3) or customer-provided keys (SSE-C).",
                details: [("Header", "x-amz-server-side-encryption")])
        default:
            throw S3Error.invalidArgument(
                "The encryption method specified is not supported", name: "x-amz-server-side-encryption", value: String(value.prefix(64)))
        }
    }

    /// A new data key for a write that asks for encryption (nil: the write is not encrypted).
    func newObjectKey(_ request: SSERequest) async throws -> ObjectKey? {
        switch request {
        case .none: return nil
        case .s3:
            let (key, e) = try await state.keyRing.newDataKey(now: Date())
            return ObjectKey(key: key, encryption: e)
        case .customer(let customer, let md5):
            let key = SSE.newDataKey()
            return ObjectKey(
                key: key,
                encryption: ObjectEncryption(
                    mode: .customer, keyID: nil, wrappedKey: SSE.wrap(key, with: customer, context: SSE.customerContext), customerKeyMD5: md5))
        }
    }

    /// The data key to read (or add parts to) something stored with `encryption`, given the SSE-C
    /// headers under `prefix`; nil when it is not encrypted.
    func readKey(_ ex: S3Call, _ encryption: ObjectEncryption?, prefix: String = S3Service.ssecHeader) async throws -> SymmetricKey? {
        let customer = try customerKey(ex, prefix: prefix)
        guard let encryption else {
            if customer != nil { throw S3Error.invalidRequest("The encryption parameters are not applicable to this object.") }
            return nil
        }
        switch encryption.mode {
        case .s3:
            if customer != nil { throw S3Error.invalidRequest("The encryption parameters are not applicable to this object.") }
            do {
                return try await state.keyRing.dataKey(encryption)
            } catch {
                state.logger.error("an SSE-S3 object's key cannot be opened", metadata: ["error": "\(error)"])
                throw S3Error.internalError
            }
        case .customer:
            guard let (key, _) = customer else {
                throw S3Error.invalidRequest(
                    "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
            }
            guard let dataKey = SSE.unwrap(encryption.wrappedKey, with: key, context: SSE.customerContext) else {
                throw S3Error("AccessDenied", status: 403, message: "The provided customer encryption key does not match the one the object was stored with.")
            }
            return dataKey
        }
    }

    /// The headers S3 answers about an object's encryption.
    static func sseHeaders(_ e: ObjectEncryption?) -> [(String, String)] {
        guard let e else { return [] }
        switch e.mode {
        case .s3: return [("x-amz-server-side-encryption", "AES256")]
        case .customer:
            return [("x-amz-server-side-encryption-customer-algorithm", "AES256")]
                + (e.customerKeyMD5.map { [("x-amz-server-side-encryption-customer-key-MD5", $0)] } ?? [])
        }
    }

    // MARK: bucket default encryption

    func bucketEncryption(_ ex: S3Call) async throws -> S3Response {
        try await bucketSetting(
            ex, \.encryption, missing: "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found",
            render: { .xml($0.xml) }, parse: { body, _ in try BucketEncryption.parse(body).get() })
    }
}

/// Encrypts what goes to a blob (AES-CTR from the piece's byte 0). With `digest`, it also takes the
/// MD5 of the stored bytes and commits with it (an upstream checks that against its ETag; SSE-C
/// ETags are made of it); a local file needs none, and MD5 costs as much as the encryption.
final class EncryptingSink: BlobSink {
    let inner: any BlobSink
    /// The counter block (base64).
    let iv: String
    let state: Mutex<(stream: CTRStream, md5: RunningMD5?)>

    init?(_ inner: any BlobSink, key: SymmetricKey, iv: String, digest: Bool) {
        guard let ivBytes = SSE.iv(iv), let stream = CTRStream(key: key, iv: ivBytes) else { return nil }
        self.inner = inner
        self.iv = iv
        self.state = Mutex((stream, digest ? RunningMD5() : nil))
    }

    func write(_ bytes: ByteBuffer) async throws {
        var sealed = ByteBuffer()
        sealed.reserveCapacity(bytes.readableBytes)
        bytes.withUnsafeReadableBytes { raw in
            state.withLock { s in
                s.stream.apply(raw) { out in
                    s.md5?.update(out)
                    sealed.writeBytes(out)
                }
            }
        }
        try await inner.write(sealed)
    }

    /// The MD5 of the bytes written so far, as stored (nil without `digest`).
    var storedMD5: [UInt8]? { state.withLock { $0.md5?.finish() } }

    /// What a part or piece records of this blob's encryption.
    var cipher: PartCipher { PartCipher(iv: iv, storedMD5: storedMD5.map(S3Service.hex)) }

    func commit(md5: [UInt8]) async throws { try await inner.commit(md5: storedMD5 ?? md5) }
    func abort() async { await inner.abort() }
}

/// Decrypts a stretch of a piece as it is read.
final class DecryptingReader: BlobReader {
    let inner: any BlobReader
    let stream: Mutex<CTRStream>

    init(_ inner: any BlobReader, stream: CTRStream) {
        self.inner = inner
        self.stream = Mutex(stream)
    }

    func next() async throws -> ByteBuffer? {
        guard let b = try await inner.next() else { return nil }
        var plain = ByteBuffer()
        plain.reserveCapacity(b.readableBytes)
        b.withUnsafeReadableBytes { raw in stream.withLock { $0.apply(raw) { _ = plain.writeBytes($0) } } }
        return plain
    }

    func cancel() { inner.cancel() }
}

extension GatewayState {
    /// A reader of one segment of an object: plain, or decrypting with `key`.
    func read(_ seg: ObjectStorage.Segment, key: SymmetricKey?) async throws -> any BlobReader {
        let reader = try await platforms.platform(of: seg.blob).read(seg.blob, offset: seg.offset, count: seg.length)
        guard let key else { return reader }
        guard let iv = seg.iv.flatMap(SSE.iv), let stream = CTRStream(key: key, iv: iv, position: seg.position) else {
            reader.cancel()
            logger.error("an encrypted object's piece has no valid counter block", metadata: ["blob": "\(seg.blob)"])
            throw S3Error.internalError
        }
        return DecryptingReader(reader, stream: stream)
    }
}
