import Foundation
import VossBase
import VossCertificates
import VossConfig
import VossWire

/// The service certificate: show, generate, import.
extension ControlAPI {
    func certRoutes(_ r: inout ControlRouter) {
        r.on(Routes.certShow) { call, _ in try await certInfo(withSecret: call.withSecret) }
        r.on(Routes.certGenerate) { _, body in
            guard !body.secret.isEmpty else {
                throw ValidationFailure(issues: [ConfigIssue(key: "cert.secret", Message("value.empty"))])
            }
            let days = body.validityDays ?? 825
            guard (1...3650).contains(days) else {
                throw ValidationFailure(issues: [ConfigIssue(key: "cert.validity", Message("value.integer_range", "1", "3650"))])
            }
            let bundle = try CertificateTools.generateSelfSigned(
                commonName: body.commonName, extraNames: body.subjectAlternativeNames ?? [], validityDays: days)
            try await storeCertificate(bundle, secret: body.secret, source: "generated", cn: body.commonName)
            return try await certInfo(withSecret: false)
        }
        r.on(Routes.certImport) { _, body in
            let issues = Validators.password("cert.secret", body.secret, force: body.force)
            if !issues.isEmpty { throw ValidationFailure(issues: issues, hint: Message("password.hint_force")) }
            guard let data = Data(base64Encoded: body.pkcs12Base64) else { throw CertificateError(Message("cert.not_pkcs12")) }
            let bundle = try CertificateTools.importPKCS12(Array(data), passphrase: body.secret)
            let cn = (try? CertificateTools.summarize(chainPEM: bundle.chainPEM).first?.subject) ?? nil
            try await storeCertificate(bundle, secret: body.secret, source: "imported", cn: cn)
            return try await certInfo(withSecret: false)
        }
    }
}
