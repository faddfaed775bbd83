import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import VossBase
import X509
import _CryptoExtras

/// A certificate chain (leaf first) and its private key, both PEM.
public struct CertificateBundle: Equatable, Sendable {
    public var chainPEM: String
    public var keyPEM: String

    public init(chainPEM: String, keyPEM: String) {
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
    }
}

/// What `ose cert show` prints for each certificate of the chain.
public struct CertificateSummary: Codable, Equatable, Sendable {
    public var subject: String
    public var issuer: String
    public var serial: String
    public var notBefore: Date
    public var notAfter: Date
    public var sha256Fingerprint: String
    public var keyType: String
    public var subjectAlternativeNames: [String]
    public var selfSigned: Bool
}

/// Why a certificate operation failed, with a message key `ose` can translate.
public struct CertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: Message
    public init(_ message: Message) { self.message = message }
    public var description: String { message.english }
}

public enum CertificateTools {
    /// A new P-256 key and a self-signed certificate for `commonName` (also the first SAN; an IP
    /// address becomes an IP SAN), valid from an hour before `now` for `validityDays`.
    public static func generateSelfSigned(
        commonName: String, extraNames: [String] = [], now: Date = Date(), validityDays: Int = 825
    ) throws(CertificateError) -> CertificateBundle {
        let cn = commonName.trimmingWhitespace()
        guard !cn.isEmpty, cn.count <= 64, !cn.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "," }) else {
            throw CertificateError(Message("cert.bad_cn", commonName))
        }
        do {
            let key = P256.Signing.PrivateKey()
            let certKey = Certificate.PrivateKey(key)
            let name = try DistinguishedName {
                CommonName(cn)
                OrganizationName("VOSS")
            }
            var sans: [GeneralName] = []
            for n in [cn] + extraNames where !n.isEmpty {
                if let ip = ipAddressBytes(n) {
                    sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))
                } else {
                    sans.append(.dnsName(n))
                }
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
            }
            let cert = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certKey.publicKey,
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(Double(validityDays) * 86400), issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: certKey)
            return CertificateBundle(
                chainPEM: try cert.serializeAsPEM().pemString + "\n", keyPEM: key.pemRepresentation + "\n")
        } catch let e as CertificateError {
            throw e
        } catch {
            throw CertificateError(Message("cert.generate_failed", "\(error)"))
        }
    }

    /// Reads a PKCS#12 keystore (`openssl pkcs12 -export`, with OpenSSL 3 defaults or `-legacy`).
    /// Distinguishes a file that is not PKCS#12 from a wrong secret, and checks that the key belongs to
    /// the leaf certificate.
    public static func importPKCS12(_ bytes: [UInt8], passphrase: String) throws(CertificateError) -> CertificateBundle {
        guard looksLikePKCS12(bytes) else { throw CertificateError(Message("cert.not_pkcs12")) }
        let bundle: NIOSSLPKCS12Bundle
        do {
            bundle = try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: Array(passphrase.utf8))
        } catch {
            throw CertificateError(Message("cert.wrong_secret"))
        }
        guard !bundle.certificateChain.isEmpty else { throw CertificateError(Message("cert.no_certificate")) }
        do {
            let ders = try bundle.certificateChain.map { try $0.toDERBytes() }
            let certs = try ders.map { try Certificate(derEncoded: $0) }
            let key = try normalizedKey(try bundle.privateKey.derBytes)
            let chain = try orderedLeafFirst(certs, key: key)
            let chainPEM = try chain.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
            let keyPEM = try key.serializeAsPEM().pemString + "\n"
            return CertificateBundle(chainPEM: chainPEM, keyPEM: keyPEM)
        } catch let e as CertificateError {
            throw e
        } catch {
            throw CertificateError(Message("cert.unreadable", "\(error)"))
        }
    }

    /// Checks a stored bundle: the chain parses, the key parses and matches the leaf.
    public static func validate(_ bundle: CertificateBundle) throws(CertificateError) {
        do {
            let certs = try parseChain(bundle.chainPEM)
            guard let leaf = certs.first else { throw CertificateError(Message("cert.no_certificate")) }
            let key = try Certificate.PrivateKey(pemEncoded: bundle.keyPEM)
            guard key.publicKey == leaf.publicKey else { throw CertificateError(Message("cert.key_mismatch")) }
        } catch let e as CertificateError {
            throw e
        } catch {
            throw CertificateError(Message("cert.unreadable", "\(error)"))
        }
    }

    public static func summarize(chainPEM: String) throws(CertificateError) -> [CertificateSummary] {
        do {
            return try parseChain(chainPEM).map(summary)
        } catch {
            throw CertificateError(Message("cert.unreadable", "\(error)"))
        }
    }

    // MARK: helpers

    static func parseChain(_ pem: String) throws -> [Certificate] {
        try PEMDocument.parseMultiple(pemString: pem).filter { $0.discriminator == "CERTIFICATE" }.map {
            try Certificate(pemDocument: $0)
        }
    }

    static func summary(_ c: Certificate) -> CertificateSummary {
        var der = DER.Serializer()
        try? der.serialize(c)
        let fingerprint = SHA256.hash(data: der.serializedBytes).map { String(format: "%02X", $0) }.joined(separator: ":")
        var sans: [String] = []
        if let ext = try? c.extensions.subjectAlternativeNames {
            for n in ext {
                switch n {
                case .dnsName(let d): sans.append("DNS:\(d)")
                case .ipAddress(let ip): sans.append("IP:\(formatIP(Array(ip.bytes)))")
                default: sans.append("\(n)")
                }
            }
        }
        return CertificateSummary(
            subject: c.subject.description, issuer: c.issuer.description,
            serial: c.serialNumber.bytes.map { String(format: "%02X", $0) }.joined(separator: ":"),
            notBefore: c.notValidBefore, notAfter: c.notValidAfter, sha256Fingerprint: fingerprint,
            keyType: keyType(c.publicKey), subjectAlternativeNames: sans, selfSigned: c.subject == c.issuer)
    }

    static func keyType(_ k: Certificate.PublicKey) -> String {
        if P256.Signing.PublicKey(k) != nil { return "EC P-256" }
        if P384.Signing.PublicKey(k) != nil { return "EC P-384" }
        if P521.Signing.PublicKey(k) != nil { return "EC P-521" }
        if let rsa = _RSA.Signing.PublicKey(k) { return "RSA \(rsa.keySizeInBits)" }
        return "other"
    }

    /// PKCS#12 is `SEQUENCE { INTEGER 3, ContentInfo, MacData? }`: enough to tell it from anything else.
    static func looksLikePKCS12(_ bytes: [UInt8]) -> Bool {
        guard let root = try? DER.parse(bytes), root.identifier == .sequence,
            case .constructed(let children) = root.content
        else { return false }
        var it = children.makeIterator()
        guard let version = it.next(), let v = try? Int(derEncoded: version) else { return false }
        return v == 3
    }

    /// The key from BoringSSL's traditional DER (PKCS#1 for RSA, SEC1 for EC) as a swift-certificates key.
    static func normalizedKey(_ der: [UInt8]) throws -> Certificate.PrivateKey {
        if let rsa = try? _RSA.Signing.PrivateKey(derRepresentation: der) { return Certificate.PrivateKey(rsa) }
        if let k = try? Certificate.PrivateKey(pemDocument: PEMDocument(type: "EC PRIVATE KEY", derBytes: der)) {
            return k
        }
        if let k = try? Certificate.PrivateKey(derBytes: der) { return k }
        throw CertificateError(Message("cert.unsupported_key"))
    }

    /// Puts the certificate whose public key matches `key` first (some tools store the chain reversed).
    static func orderedLeafFirst(_ certs: [Certificate], key: Certificate.PrivateKey) throws -> [Certificate] {
        guard let i = certs.firstIndex(where: { $0.publicKey == key.publicKey }) else {
            throw CertificateError(Message("cert.key_mismatch"))
        }
        var out = certs
        let leaf = out.remove(at: i)
        return [leaf] + out
    }

    static func ipAddressBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func formatIP(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: b.count, by: 2).map { String(format: "%x", Int(b[$0]) << 8 | Int(b[$0 + 1])) }
            .joined(separator: ":")
    }
}
