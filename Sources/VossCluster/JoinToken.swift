import Crypto
import VossBase

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `ose cluster token` prints and `ose cluster join --token` takes: the cluster label, the cluster
/// key and the members to contact, as `voss1.` + base64url(JSON). It holds the cluster key, so treat it
/// like a password (it is shown once and never logged).
public struct JoinToken: Codable, Equatable, Sendable {
    public static let prefix = "voss1."

    public var label: String
    /// The 32-byte cluster key, base64.
    public var key: String
    public var seeds: [PeerAddress]

    public init(label: String, key: SymmetricKey, seeds: [PeerAddress]) {
        self.label = label
        self.key = key.withUnsafeBytes { Data($0).base64EncodedString() }
        self.seeds = seeds
    }

    public var encoded: String {
        let json = try! GossipCodec.encoder.encode(self)
        let url = json.base64EncodedString().compactMap { c -> Character? in
            switch c {
            case "+": return "-"
            case "/": return "_"
            case "=": return nil
            default: return c
            }
        }
        return Self.prefix + String(url)
    }

    public var keyBytes: [UInt8] { Array(Data(base64Encoded: key) ?? Data()) }

    /// Parses a token; `nil` for anything that is not one (the caller says "not a VOSS join token").
    public static func decode(_ text: String) -> JoinToken? {
        let t = text.trimmingWhitespace()
        guard t.hasPrefix(prefix) else { return nil }
        var b64 = String(t.dropFirst(prefix.count).map { c -> Character in
            c == "-" ? "+" : (c == "_" ? "/" : c)
        })
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let token = try? JSONDecoder().decode(JoinToken.self, from: data),
            token.keyBytes.count == 32, ClusterLabel.isValid(token.label)
        else { return nil }
        return token
    }
}

public enum ClusterLabel {
    /// 1–64 characters of letters, digits, `-`, `_`, `.`.
    public static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.".unicodeScalars.contains($0) }
    }
}
