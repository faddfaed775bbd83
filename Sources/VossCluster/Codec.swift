import Crypto
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Seals and opens gossip traffic: AES-256-GCM with a key derived from the cluster key, the cluster
/// label as associated data (so two clusters with different labels never accept each other's
/// messages, even with the same key). Wire form: version byte 1 ‖ nonce (12) ‖ ciphertext ‖ tag (16).
public struct GossipCodec: Sendable {
    public static let version: UInt8 = 1
    /// Bytes sealing adds to a payload.
    public static let overhead = 1 + 12 + 16

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    let key: SymmetricKey
    let aad: [UInt8]

    /// `clusterKey`: the node's 32-byte cluster key; `label`: the cluster's name.
    public init(clusterKey: SymmetricKey, label: String) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: clusterKey, info: Array("voss gossip v1".utf8), outputByteCount: 32)
        aad = Array("voss-gossip|\(label)".utf8)
    }

    public enum Failure: Error, Equatable, Sendable {
        /// Not sealed with our key and label: another cluster, a node without the key, or tampering.
        case unauthenticated
        case malformed(String)
    }

    public func seal(_ plaintext: [UInt8]) -> [UInt8] {
        // Sealing in-memory data with a fresh random nonce cannot fail.
        let box = try! AES.GCM.seal(plaintext, using: key, authenticating: aad)
        return [Self.version] + Array(box.combined!)
    }

    public func open(_ sealed: [UInt8]) throws(Failure) -> [UInt8] {
        guard sealed.count >= Self.overhead, sealed[0] == Self.version else { throw .unauthenticated }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return Array(try AES.GCM.open(box, using: key, authenticating: aad))
        } catch {
            throw .unauthenticated
        }
    }

    public func sealPacket(_ p: Packet) -> [UInt8] { sealJSON(p) }
    public func openPacket(_ bytes: [UInt8]) throws(Failure) -> Packet { try openJSON(bytes) }
    public func sealState(_ s: FullState) -> [UInt8] { sealJSON(s) }
    public func openState(_ bytes: [UInt8]) throws(Failure) -> FullState { try openJSON(bytes) }

    // Encoding our own message types to JSON cannot fail.
    func sealJSON<T: Encodable>(_ value: T) -> [UInt8] { seal(Array(try! Self.encoder.encode(value))) }

    func openJSON<T: Decodable>(_ bytes: [UInt8]) throws(Failure) -> T {
        let plain = try open(bytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(plain))
        } catch {
            throw .malformed("\(error)")
        }
    }
}
