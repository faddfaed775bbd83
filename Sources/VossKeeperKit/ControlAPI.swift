import Foundation
import Logging
import NIOHTTP1
import VossBase
import VossCertificates
import VossCluster
import VossConfig
import VossHTTP
import VossPosix
import VossWire

/// An answer other than 200 from a handler (`404 not_found` for an argument that is not set, …).
struct ControlFailure: Error {
    var status: HTTPResponseStatus
    var code: String
    var message: Message

    static func notFound(_ m: Message) -> ControlFailure { ControlFailure(status: .notFound, code: "not_found", message: m) }
}

/// The routes of the control API (`docs/control-api.md`). Every request needs the bearer token.
struct ControlAPI: Sendable {
    let token: TokenStore
    let config: ConfigStore
    let supervisor: Supervisor
    let node: NodeConfig
    let info: VersionInfo
    let admin: AdminForwarder
    let db: DatabaseManager
    let gossip: GossipService
    let vip: VIPManager
    let logger = Logger(label: "voss.control")
    var router = ControlRouter()

    /// This API with its routes registered (the handlers live in `ControlRoutes+….swift`, one file
    /// per resource).
    func withRoutes() -> ControlAPI {
        var api = self
        var r = ControlRouter()
        configRoutes(&r)
        serviceRoutes(&r)
        certRoutes(&r)
        databaseRoutes(&r)
        clusterRoutes(&r)
        platformRoutes(&r)
        directorRoutes(&r)
        let admin = self.admin
        r.pass(Routes.gatewayForwarded) { call in
            let rest = call.request.uri.split(separator: "?").first.map { String($0.dropFirst(("/" + VossVersion.controlAPI).count)) } ?? ""
            return await admin.forward(call.request, adminPath: "/admin" + rest)
        }
        // Every route of the table has a handler; a debug build (every test run) stops here otherwise.
        let missing = Set(Routes.all).subtracting(r.routes)
        if !missing.isEmpty {
            logger.critical("control routes without a handler", metadata: ["routes": "\(missing.map(\.description).sorted())"])
            assertionFailure("control routes without a handler: \(missing)")
        }
        api.router = r
        return api
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard token.verify(authorization: request.header("authorization")) else {
            logger.warning("rejected a control request without a valid token", metadata: ["peer": "\(request.remoteAddress ?? "?")"])
            return failure(.unauthorized, "unauthorized", Message("api.unauthorized"))
        }
        do {
            guard let response = try await router.dispatch(request) else {
                return failure(.notFound, "not_found", Message("api.no_route", request.method.rawValue, request.path))
            }
            return response
        } catch let f as ControlFailure {
            return failure(f.status, f.code, f.message)
        } catch let v as ValidationFailure {
            return HTTPResponse.json(
                APIErrorBody(
                    code: "validation", message: Message("api.invalid"),
                    issues: v.issues.map { APIErrorBody.Issue(key: $0.key, message: $0.message) }, hint: v.hint),
                status: .badRequest)
        } catch let c as CertificateError {
            return failure(.badRequest, "certificate", c.message)
        } catch let k as KeeperError {
            return failure(.badRequest, "rejected", k.message)
        } catch let d as DecodingFailure {
            return failure(.badRequest, "bad_request", Message("api.bad_body", d.detail))
        } catch {
            logger.error("control request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return failure(.internalServerError, "internal", Message("api.internal", "\(error)"))
        }
    }

    // MARK: helpers

    func failure(_ status: HTTPResponseStatus, _ code: String, _ message: Message) -> HTTPResponse {
        .json(APIErrorBody(code: code, message: message), status: status)
    }

    func saveState(_ state: NodeState) throws {
        try Files.writeJSON(state, to: node.statePath, mode: 0o600)
    }

    func showConfig(withSecret: Bool) async -> ConfigShow {
        let doc = await config.document
        var sections: [ConfigSectionView] = []
        for section in ConfigSchema.sections {
            let entries = doc.values(withPrefix: section + ".").map { key, value in
                let secret = doc.entries[key]?.secret ?? false
                return ConfigEntryView(
                    key: key, value: secret && !withSecret ? "******" : value, secret: secret,
                    stamp: doc.entries[key]?.stamp.description ?? "")
            }
            if !entries.isEmpty { sections.append(ConfigSectionView(name: section, entries: entries)) }
        }
        return ConfigShow(version: doc.version, sections: sections)
    }

    func storeCertificate(_ bundle: CertificateBundle, secret: String, source: String, cn: String?) async throws {
        try CertificateTools.validate(bundle)
        try await config.set([
            ("cert.chain", bundle.chainPEM), ("cert.key", bundle.keyPEM), ("cert.secret", secret),
            ("cert.source", source), ("cert.cn", cn),
        ])
    }

    func certInfo(withSecret: Bool) async throws -> CertInfo {
        let doc = await config.document
        guard let chain = doc["cert.chain"] else { return CertInfo(configured: false, source: nil, chain: [], secret: nil) }
        let entries = try CertificateTools.summarize(chainPEM: chain).map {
            CertInfo.Entry(
                subject: $0.subject, issuer: $0.issuer, serial: $0.serial, notBefore: $0.notBefore, notAfter: $0.notAfter,
                sha256Fingerprint: $0.sha256Fingerprint, keyType: $0.keyType,
                subjectAlternativeNames: $0.subjectAlternativeNames, selfSigned: $0.selfSigned)
        }
        return CertInfo(
            configured: doc["cert.key"] != nil, source: doc["cert.source"], chain: entries,
            secret: withSecret ? doc["cert.secret"] : nil)
    }
}
