import Crypto
import CryptoExtras
import VossBase
import VossSigV4

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Password hashes for logins to the REST API and the portal: scrypt (RFC 7914) with a random
/// 16-byte salt, stored as `scrypt$N$r$p$salt$hash` (base64) so the cost can rise later without
/// invalidating older hashes. N=2^14, r=8, p=5 is one of OWASP's recommended settings: 16 MiB and
/// ~0.1 s of one core per check here — hashing runs off the event loops, a few at a time.
public enum Passwords {
    public struct Cost: Sendable, Equatable {
        public var n: Int
        public var r: Int
        public var p: Int
        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }
        public static let standard = Cost(n: 1 << 14, r: 8, p: 5)
    }

    public static func hash(_ password: String, cost: Cost = .standard) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let h = try derive(password, salt: salt, cost: cost)
        return "scrypt$\(cost.n)$\(cost.r)$\(cost.p)$\(Data(salt).base64EncodedString())$\(Data(h).base64EncodedString())"
    }

    /// Whether `password` matches `stored` (a malformed or unknown hash never matches).
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            // Bounds: a damaged row must not make a login allocate gigabytes.
            n >= 2, n <= 1 << 20, n & (n - 1) == 0, (1...32).contains(r), (1...16).contains(p),
            let salt = Data(base64Encoded: String(parts[4])), let want = Data(base64Encoded: String(parts[5])), want.count == 32,
            let got = try? derive(password, salt: Array(salt), cost: Cost(n: n, r: r, p: p))
        else { return false }
        return constantTimeEqual(got, Array(want))
    }

    static func derive(_ password: String, salt: [UInt8], cost: Cost) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: cost.n, blockSize: cost.r, parallelism: cost.p)
        return key.withUnsafeBytes { Array($0) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var d: UInt8 = 0
        for i in a.indices { d |= a[i] ^ b[i] }
        return d == 0
    }

    /// A session token: 32 random bytes, base64url. Only its SHA-256 (`tokenHash`) is stored.
    public static func newToken() -> String {
        var b = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in b.indices { b[i] = UInt8.random(in: 0...255, using: &rng) }
        return String(Data(b).base64EncodedString().compactMap { c -> Character? in
            c == "+" ? "-" : c == "/" ? "_" : c == "=" ? nil : c
        })
    }

    public static func tokenHash(_ token: String) -> String {
        SigV4.hex(SHA256.hash(data: Array(token.utf8)))
    }
}
