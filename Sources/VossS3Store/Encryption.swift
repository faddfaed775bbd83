import Crypto
import CryptoExtras
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How an object's bytes are encrypted at rest (docs/decisions.md 42). Every object (or multipart
/// upload) has its own random 256-bit data key; the bytes are AES-256-CTR with a random counter block
/// per piece, so sizes and offsets stay those of the plaintext (ranges, parts and platform-assembled
/// uploads work unchanged). The data key is stored wrapped (AES-256-GCM):
/// - SSE-S3 (`AES256`): by one of VOSS's own key-encryption keys (`keyID`, table `sse_keys`), which
///   are rotated; a rotation rewraps data keys, the object bytes are never rewritten;
/// - SSE-C: by the customer's key, which is never stored: a wrong key cannot unwrap it (and the
///   MD5 the client sent is kept only to echo it, as S3 does).
public struct ObjectEncryption: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable {
        case s3 = "AES256"
        case customer = "SSE-C"
    }

    public var mode: Mode
    /// SSE-S3: the key-encryption key that wraps `wrappedKey`.
    public var keyID: String?
    /// base64(nonce ‖ ciphertext ‖ tag) of the 32-byte data key.
    public var wrappedKey: String
    /// SSE-C: base64 MD5 of the customer's key (what `x-amz-server-side-encryption-customer-key-MD5` echoes).
    public var customerKeyMD5: String?

    public init(mode: Mode, keyID: String?, wrappedKey: String, customerKeyMD5: String?) {
        self.mode = mode
        self.keyID = keyID
        self.wrappedKey = wrappedKey
        self.customerKeyMD5 = customerKeyMD5
    }
}

/// A part of an encrypted multipart upload: its counter block, and the MD5 (hex) of its bytes at
/// rest where it is needed (a platform that assembles parts itself checks each part by that; SSE-C
/// ETags are made of it).
public struct PartCipher: Codable, Equatable, Sendable {
    public var iv: String
    public var storedMD5: String?

    public init(iv: String, storedMD5: String?) {
        self.iv = iv
        self.storedMD5 = storedMD5
    }
}

/// A key-encryption key of SSE-S3, as stored: sealed by the node's master key.
public struct SSEKeyRecord: Codable, Equatable, Sendable {
    public var id: String
    public var wrapped: String
    public var created: Date

    public init(id: String, wrapped: String, created: Date) {
        self.id = id
        self.wrapped = wrapped
        self.created = created
    }
}

public enum SSE {
    /// A fresh random data key.
    public static func newDataKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// A fresh random counter block (base64).
    public static func newIV() -> String {
        Data(SecureRandom.bytes(16)).base64EncodedString()
    }

    /// Seals `key` with `kek`; `context` is authenticated with it (a key wrapped for one purpose does
    /// not unwrap for another).
    public static func wrap(_ key: SymmetricKey, with kek: SymmetricKey, context: String) -> String {
        let plain = key.withUnsafeBytes { Array($0) }
        // Sealing in-memory bytes with a fresh random nonce does not fail.
        guard let box = try? AES.GCM.seal(plain, using: kek, authenticating: Array(context.utf8)), let combined = box.combined else {
            preconditionFailure("AES-GCM sealing failed")
        }
        return combined.base64EncodedString()
    }

    /// The key sealed by `wrap`, or nil when `kek` or `context` is not the one it was sealed with
    /// (or the text is damaged).
    public static func unwrap(_ wrapped: String, with kek: SymmetricKey, context: String) -> SymmetricKey? {
        guard let data = Data(base64Encoded: wrapped), let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: kek, authenticating: Array(context.utf8)), plain.count == 32
        else { return nil }
        return SymmetricKey(data: plain)
    }

    /// The context an SSE-S3 data key is wrapped under.
    public static func s3Context(keyID: String) -> String { "voss sse-s3 v1 " + keyID }
    public static let customerContext = "voss sse-c v1"
    public static let masterContext = "voss sse-s3 kek v1"

    /// Decodes a base64 counter block; nil unless it is 16 bytes.
    public static func iv(_ text: String) -> [UInt8]? {
        guard let d = Data(base64Encoded: text), d.count == 16 else { return nil }
        return Array(d)
    }
}

/// AES-256-CTR from any byte position of a piece: the counter block for byte `p` is `iv + p / 16`
/// (128-bit, big-endian, wrapping) and `p % 16` keystream bytes of it are skipped. Encryption and
/// decryption are the same operation.
public struct CTRStream: Sendable {
    let key: SymmetricKey
    let iv: [UInt8]
    public private(set) var position: Int64

    public init?(key: SymmetricKey, iv: [UInt8], position: Int64 = 0) {
        guard iv.count == 16, position >= 0 else { return nil }
        self.key = key
        self.iv = iv
        self.position = position
    }

    /// The counter block `block` blocks after `iv` (128-bit big-endian addition, wrapping).
    public static func counterBlock(_ iv: [UInt8], block: UInt64) -> [UInt8] {
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for i in 0..<8 { hi = hi << 8 | UInt64(iv[i]) }
        for i in 8..<16 { lo = lo << 8 | UInt64(iv[i]) }
        let (sum, carry) = lo.addingReportingOverflow(block)
        lo = sum
        if carry { hi &+= 1 }
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[7 - i] = UInt8(truncatingIfNeeded: hi >> (8 * UInt64(i)))
            out[15 - i] = UInt8(truncatingIfNeeded: lo >> (8 * UInt64(i)))
        }
        return out
    }

    /// Encrypts (or decrypts) the next bytes of the stream, handing the result to `body` (valid only
    /// inside it: no copy is made for the caller).
    public mutating func apply<R>(_ bytes: UnsafeRawBufferPointer, into body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let skip = Int(position % 16)
        let block = counter(UInt64(position / 16))
        let out: Data
        if bytes.isEmpty {
            out = Data()
        } else if skip == 0 {
            out = Self.run(bytes, key, block)
        } else {
            var padded = [UInt8](repeating: 0, count: skip)
            padded.append(contentsOf: bytes)
            out = padded.withUnsafeBytes { Self.run($0, key, block) }
        }
        position += Int64(bytes.count)
        return try out.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(bytes.isEmpty ? 0 : skip)...]))
        }
    }

    /// Encrypts (or decrypts) the next bytes of the stream.
    public mutating func apply(_ bytes: UnsafeRawBufferPointer) -> [UInt8] { apply(bytes) { Array($0) } }

    public mutating func apply(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { apply($0) } }

    func counter(_ block: UInt64) -> [UInt8] { Self.counterBlock(iv, block: block) }

    static func run(_ bytes: UnsafeRawBufferPointer, _ key: SymmetricKey, _ block: [UInt8]) -> Data {
        // A 32-byte key and a 16-byte counter block are all AES-CTR can refuse; both are checked above.
        guard let nonce = try? AES._CTR.Nonce(nonceBytes: block), let out = try? AES._CTR.encrypt(bytes, using: key, nonce: nonce) else {
            preconditionFailure("AES-CTR refused a 256-bit key and a 16-byte counter block")
        }
        return out
    }
}
