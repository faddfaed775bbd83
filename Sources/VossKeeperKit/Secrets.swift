import Crypto
import Foundation
import VossBase
import VossPosix

/// Encrypts secret configuration values at rest with the cluster key (AES-256-GCM). Stored form:
/// `enc:v1:` + base64(nonce ‖ ciphertext ‖ tag). The key file is 32 random bytes, mode 0600.
public struct SecretBox: Sendable {
    public static let prefix = "enc:v1:"
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// Loads the key at `path`, creating it (0600) on first start.
    public static func loadOrCreate(path: String) throws -> SecretBox {
        if let bytes = try Files.read(path) {
            guard bytes.count == 32 else {
                throw KeeperError(Message("keeper.bad_key_file", path, String(bytes.count)))
            }
            if let mode = Files.mode(path), mode & 0o077 != 0 {
                throw KeeperError(Message("keeper.key_file_mode", path, String(mode, radix: 8)))
            }
            return SecretBox(key: SymmetricKey(data: bytes))
        }
        let key = SymmetricKey(size: .bits256)
        try Files.writeAtomically(key.withUnsafeBytes { Array($0) }, to: path, mode: 0o600)
        return SecretBox(key: key)
    }

    /// A key for one purpose, derived from the cluster key (HKDF-SHA256), so a worker never holds the
    /// cluster key itself (the S3 gateway seals access-key secrets with `derivedKey("voss s3 secrets")`).
    public func derivedKey(_ info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array(info.utf8), outputByteCount: 32)
    }

    /// What the keeper adds to the S3 gateway's configuration: its secrets key, derived from this one.
    public var s3Slice: [String: String] {
        ["s3.secret_key": derivedKey("voss s3 secrets").withUnsafeBytes { Data($0).base64EncodedString() }]
    }

    public func seal(_ plaintext: String) -> String {
        // AES-GCM sealing with a fresh random nonce cannot fail for in-memory data.
        let box = try! AES.GCM.seal(Array(plaintext.utf8), using: key)
        return Self.prefix + box.combined!.base64EncodedString()
    }

    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count)))
        else { throw KeeperError(Message("keeper.secret_format")) }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain = try AES.GCM.open(box, using: key)
            guard let s = String(bytes: plain, encoding: .utf8) else { throw KeeperError(Message("keeper.secret_format")) }
            return s
        } catch let e as KeeperError {
            throw e
        } catch {
            throw KeeperError(Message("keeper.secret_undecryptable"))
        }
    }
}

/// The control API's bearer token: 32 random bytes as hex in a 0600 file, made at first start.
public struct TokenStore: Sendable {
    public let token: String

    public static func loadOrCreate(path: String) throws -> TokenStore {
        if let bytes = try Files.read(path) {
            let t = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
            guard t.count >= 32 else { throw KeeperError(Message("keeper.bad_token_file", path)) }
            return TokenStore(token: t)
        }
        var rng = SystemRandomNumberGenerator()
        let t = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try Files.writeAtomically(Array((t + "\n").utf8), to: path, mode: 0o600)
        return TokenStore(token: t)
    }

    /// Checks an `Authorization` header value in time independent of where it differs.
    public func verify(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(Array(authorization.dropFirst(7).utf8), Array(token.utf8))
    }
}

/// Compares two byte strings without an early exit (the length is not secret).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// An error the keeper reports to the operator (through the control API or at start).
public struct KeeperError: Error, CustomStringConvertible, Sendable {
    public var message: Message
    public init(_ message: Message) { self.message = message }
    public var description: String { message.english }
}
