import Crypto
import CryptoExtras
import VossBase
import VossConfig

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `ose config export|import`: the whole cluster configuration in one file, encrypted with a key
/// derived from an operator secret by scrypt (memory-hard; N = 2^15, r = 8, p = 1: 32 MiB and about
/// 0.1 s per derivation) and sealed with AES-256-GCM. The header (format, KDF parameters, salt) is
/// authenticated as associated data, so a changed byte anywhere makes the file refuse to open.
public enum ConfigArchive {
    public struct Header: Codable, Equatable, Sendable {
        public var format: String
        public var kdf: String
        public var logN: Int
        public var r: Int
        public var p: Int
        public var salt: String
    }

    public struct Contents: Codable, Equatable, Sendable {
        public var exportedBy: String
        public var exportedAt: Date
        public var entries: [String: ConfigEntry]

        public init(exportedBy: String, exportedAt: Date, entries: [String: ConfigEntry]) {
            self.exportedBy = exportedBy
            self.exportedAt = exportedAt
            self.entries = entries
        }
    }

    public enum Failure: Error, Equatable, Sendable {
        case notAnArchive
        case unsupported(String)
        /// Wrong secret or a changed file (GCM cannot tell the two apart, and should not).
        case wrongSecretOrTampered
    }

    static let magic = "VOSS-CONFIG-1\n"

    public static func seal(_ contents: Contents, secret: String, logN: Int = 15) throws -> [UInt8] {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let header = Header(format: "voss-config-1", kdf: "scrypt", logN: logN, r: 8, p: 1, salt: Data(salt).base64EncodedString())
        let headerJSON = Array(try GossipCodec.encoder.encode(header))
        let key = try deriveKey(secret: secret, header: header, salt: salt)
        let body = try JSONEncoder().encode(contents)
        let box = try AES.GCM.seal(body, using: key, authenticating: headerJSON)
        return Array(magic.utf8) + headerJSON + Array("\n".utf8) + Array(box.combined!.base64EncodedString().utf8) + Array("\n".utf8)
    }

    public static func open(_ file: [UInt8], secret: String) throws(Failure) -> Contents {
        let text = String(decoding: file, as: UTF8.self)
        guard text.hasPrefix(magic) else { throw .notAnArchive }
        let lines = text.dropFirst(magic.count).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2 else { throw .notAnArchive }
        let headerJSON = Array(lines[0].utf8)
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerJSON)) else { throw .notAnArchive }
        guard header.format == "voss-config-1", header.kdf == "scrypt" else { throw .unsupported(header.format + "/" + header.kdf) }
        guard (10...20).contains(header.logN), (1...32).contains(header.r), (1...4).contains(header.p),
            let salt = Data(base64Encoded: header.salt), salt.count >= 8
        else { throw .unsupported("kdf parameters") }
        guard let sealed = Data(base64Encoded: String(lines[1])) else { throw .wrongSecretOrTampered }
        let key: SymmetricKey
        do {
            key = try deriveKey(secret: secret, header: header, salt: Array(salt))
        } catch {
            throw .unsupported("kdf: \(error)")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: key, authenticating: headerJSON)
            let decoder = JSONDecoder()
            return try decoder.decode(Contents.self, from: plain)
        } catch {
            throw .wrongSecretOrTampered
        }
    }

    static func deriveKey(secret: String, header: Header, salt: [UInt8]) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: Array(secret.utf8), salt: salt, outputByteCount: 32, rounds: 1 << header.logN, blockSize: header.r,
            parallelism: header.p, maxMemory: 256 << 20)
    }
}
