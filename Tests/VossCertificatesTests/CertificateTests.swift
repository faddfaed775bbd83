import Foundation
import Testing
import VossBase

@testable import VossCertificates

/// Certificate generation and PKCS#12 import. The keystores are made by `openssl pkcs12 -export`
/// (what operators run) in a temp dir, with OpenSSL 3's defaults and with `-legacy`.
@Suite struct CertificateTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("voss-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func openssl(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A keystore holding `bundle`, sealed with `secret`.
    func p12(_ bundle: CertificateBundle, secret: String, legacy: Bool = false) throws -> [UInt8] {
        let cert = dir.appendingPathComponent("c.pem"), key = dir.appendingPathComponent("k.pem")
        let out = dir.appendingPathComponent("s-\(legacy).p12")
        try bundle.chainPEM.write(to: cert, atomically: true, encoding: .utf8)
        try bundle.keyPEM.write(to: key, atomically: true, encoding: .utf8)
        var args = ["pkcs12", "-export", "-in", cert.path, "-inkey", key.path, "-out", out.path, "-passout", "pass:" + secret]
        if legacy { args.append("-legacy") }
        let rc = try openssl(args)
        try #require(rc == 0, "openssl pkcs12 -export failed (is openssl installed? scripts/deps.sh test installs it)")
        return Array(try Data(contentsOf: out))
    }

    @Test func generatedCertificatesValidateAndSummarize() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let b = try CertificateTools.generateSelfSigned(commonName: "s3.example.com", extraNames: ["127.0.0.1"], now: now, validityDays: 30)
        try CertificateTools.validate(b)
        let s = try CertificateTools.summarize(chainPEM: b.chainPEM)
        #expect(s.count == 1)
        #expect(s[0].subject.contains("s3.example.com"))
        #expect(s[0].selfSigned)
        #expect(s[0].notAfter.timeIntervalSince(now) == 30 * 86400)
        #expect(s[0].subjectAlternativeNames.contains { $0.contains("127.0.0.1") })
    }

    @Test(arguments: ["", "a b", "x/y", String(repeating: "a", count: 65)]) func badCommonNamesAreRefused(_ cn: String) {
        #expect(throws: CertificateError.self) { try CertificateTools.generateSelfSigned(commonName: cn) }
    }

    @Test(arguments: [false, true]) func importsAKeystore(_ legacy: Bool) throws {
        let b = try CertificateTools.generateSelfSigned(commonName: "import.example.com")
        let bytes = try p12(b, secret: "Secret-123!", legacy: legacy)
        let got = try CertificateTools.importPKCS12(bytes, passphrase: "Secret-123!")
        try CertificateTools.validate(got)
        #expect(try CertificateTools.summarize(chainPEM: got.chainPEM) == CertificateTools.summarize(chainPEM: b.chainPEM))
    }

    @Test func aWrongSecretAndANonKeystoreAreToldApart() throws {
        let b = try CertificateTools.generateSelfSigned(commonName: "w.example.com")
        let bytes = try p12(b, secret: "Secret-123!")
        #expect(throws: CertificateError(Message("cert.wrong_secret"))) { try CertificateTools.importPKCS12(bytes, passphrase: "nope") }
        #expect(throws: CertificateError(Message("cert.not_pkcs12"))) {
            try CertificateTools.importPKCS12(Array("-----BEGIN CERTIFICATE-----".utf8), passphrase: "x")
        }
        #expect(throws: CertificateError.self) { try CertificateTools.importPKCS12([0x30, 0x82, 0xFF, 0xFF, 0x02], passphrase: "x") }
    }

    @Test func aKeyThatIsNotTheLeafsIsRefused() throws {
        let a = try CertificateTools.generateSelfSigned(commonName: "a.example.com")
        let b = try CertificateTools.generateSelfSigned(commonName: "b.example.com")
        #expect(throws: CertificateError.self) {
            try CertificateTools.validate(CertificateBundle(chainPEM: a.chainPEM, keyPEM: b.keyPEM))
        }
    }
}
