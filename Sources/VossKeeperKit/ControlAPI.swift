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

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard token.verify(authorization: request.header("authorization")) else {
            logger.warning("rejected a control request without a valid token", metadata: ["peer": "\(request.remoteAddress ?? "?")"])
            return failure(.unauthorized, "unauthorized", Message("api.unauthorized"))
        }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.first == VossVersion.controlAPI else {
            return failure(.notFound, "not_found", Message("api.no_route", request.method.rawValue, request.path))
        }
        let route = Array(parts.dropFirst())
        let withSecret = ["1", "true", "yes"].contains(request.query["withSecret"]?.lowercased() ?? "")
        do {
            let m = request.method
            let r0 = route.first ?? ""
            let r1 = route.count > 1 ? route[1] : ""
            switch (m, route.count, r0) {
            case (.GET, 1, "version"):
                return json(info)
            case (.GET, 1, "show"):
                return json(await showConfig(withSecret: withSecret))
            case (.GET, 1, "args"):
                let doc = await config.document
                return json(
                    ArgList(args: doc.values(withPrefix: "args.").map { ArgValue(key: String($0.key.dropFirst(5)), value: $0.value) }))
            case (.GET, 2, "args"):
                guard let v = await config.document["args." + r1] else {
                    return failure(.notFound, "not_found", Message("args.not_found", r1))
                }
                return json(ArgValue(key: r1, value: v))
            case (.PUT, 2, "args"):
                let body = try decode(ArgSetRequest.self, request)
                try await config.set([("args." + r1, body.value)])
                return json(ArgValue(key: r1, value: body.value))
            case (.DELETE, 2, "args"):
                guard await config.document["args." + r1] != nil else {
                    return failure(.notFound, "not_found", Message("args.not_found", r1))
                }
                try await config.set([("args." + r1, nil)])
                return json(ArgValue(key: r1, value: ""))
            case (_, _, "tenants"), (_, _, "keys"):
                let rest = request.uri.split(separator: "?").first.map { String($0.dropFirst(("/" + VossVersion.controlAPI).count)) } ?? ""
                return await admin.forward(request, adminPath: "/admin" + rest)
            case (.GET, 1, "s3"):
                let doc = await config.document
                return json(S3Settings(domain: doc["s3.domain"], region: doc["s3.region"] ?? "us-east-1"))
            case (.PUT, 1, "s3"):
                let body = try decode(S3Settings.self, request)
                var changes: [(key: String, value: String?)] = []
                if let d = body.domain { changes.append(("s3.domain", d.isEmpty ? nil : d.lowercased())) }
                if let r = body.region { changes.append(("s3.region", r)) }
                try await config.set(changes)
                let doc = await config.document
                return json(S3Settings(domain: doc["s3.domain"], region: doc["s3.region"] ?? "us-east-1"))
            case (.GET, 1, "service"):
                return json(await supervisor.show())
            case (.POST, 2, "service"):
                let body = try decode(ServiceRequest.self, request)
                let req: Supervisor.Request
                switch r1 {
                case "start": req = .start
                case "stop": req = .stop
                case "restart": req = .restart
                default: return failure(.notFound, "not_found", Message("api.no_route", "POST", request.path))
                }
                try await supervisor.request(req, worker: body.worker, logLevel: body.debug == true ? "debug" : nil)
                try saveState(await supervisor.nodeState)
                return json(await supervisor.show())
            case (.GET, 1, "db"):
                return json(await db.show(withSecret: withSecret))
            case (.PUT, 1, "db"):
                return json(try await db.set(try decode(DBSetRequest.self, request)))
            case (.GET, 1, "migration"):
                return json(try await db.showMigration())
            case (.POST, 1, "migration"):
                return json(try await db.startMigration(force: try decode(MigrationStartRequest.self, request).force))
            case (.GET, 1, "vip"):
                return json(await vip.show())
            case (.PUT, 1, "vip"):
                let body = try decode(VIPSetRequest.self, request)
                if let t = body.target, !["http", "https"].contains(t) {
                    throw ValidationFailure(issues: [ConfigIssue(key: "vip.target", Message("value.one_of", "https, http"))])
                }
                if body.own == true && (body.interface ?? "").isEmpty {
                    throw ValidationFailure(issues: [ConfigIssue(key: "vip.interface", Message("vip.own_needs_interface"))])
                }
                try await config.set([
                    ("vip.address", body.address), ("vip.port", String(body.port)), ("vip.interface", body.interface.flatMap { $0.isEmpty ? nil : $0 }),
                    ("vip.own", body.own == true ? "on" : nil), ("vip.target", body.target ?? "https"),
                    ("vip.proxy_protocol", body.proxyProtocol == true ? "on" : nil),
                ])
                // The configuration observer has recomputed backends and owner before `set` returned.
                return json(await vip.show())
            case (.DELETE, 1, "vip"):
                try await config.set(
                    ["vip.address", "vip.port", "vip.interface", "vip.own", "vip.target", "vip.proxy_protocol"].map { ($0, nil) })
                return json(await vip.show())
            case (.GET, 1, "cluster"):
                return json(await gossip.show())
            case (.GET, 2, "cluster") where r1 == "token":
                let label = request.query["label"].flatMap { $0.isEmpty ? nil : $0 }
                let token = try await gossip.token(label: label)
                let decoded = JoinToken.decode(token)
                return json(ClusterToken(token: token, label: decoded?.label ?? "", seeds: decoded?.seeds.map(\.description) ?? []))
            case (.POST, 2, "cluster") where r1 == "join":
                let body = try decode(ClusterJoinRequest.self, request)
                guard let token = JoinToken.decode(body.token) else {
                    throw ValidationFailure(issues: [ConfigIssue(key: "cluster.token", Message("cluster.bad_token"))])
                }
                var seed: PeerAddress?
                if let s = body.seed, !s.isEmpty {
                    guard let p = PeerAddress(parsing: s) else {
                        throw ValidationFailure(issues: [ConfigIssue(key: "cluster.seed", Message("value.host_port", s))])
                    }
                    seed = p
                }
                return json(try await gossip.join(seed: seed, token: token))
            case (.POST, 2, "cluster") where r1 == "leave":
                return json(await gossip.leave())
            case (.POST, 2, "config") where r1 == "export":
                let body = try decode(ConfigExportRequest.self, request)
                let issues = Validators.password("config.secret", body.secret, force: body.force ?? false)
                if !issues.isEmpty { throw ValidationFailure(issues: issues, hint: Message("password.hint_force")) }
                var entries: [String: ConfigEntry] = [:]
                for (k, e) in await config.document.entries where !ConfigSchema.isNodeLocal(k) && e.value != nil { entries[k] = e }
                let file = try ConfigArchive.seal(
                    ConfigArchive.Contents(exportedBy: node.nodeName, exportedAt: Date(), entries: entries), secret: body.secret)
                logger.notice("configuration exported", metadata: ["entries": "\(entries.count)"])
                return json(ConfigExportResponse(file: Data(file).base64EncodedString(), entries: entries.count))
            case (.POST, 2, "config") where r1 == "import":
                let body = try decode(ConfigImportRequest.self, request)
                guard let bytes = Data(base64Encoded: body.file) else { throw KeeperError(Message("config.not_archive")) }
                let contents: ConfigArchive.Contents
                do {
                    contents = try ConfigArchive.open(Array(bytes), secret: body.secret)
                } catch {
                    switch error {
                    case .notAnArchive: throw KeeperError(Message("config.not_archive"))
                    case .unsupported(let what): throw KeeperError(Message("config.unsupported_archive", what))
                    case .wrongSecretOrTampered: throw KeeperError(Message("config.wrong_secret"))
                    }
                }
                // Set (with fresh stamps, so the import wins over what the cluster has now and is
                // gossiped to every node), validated all or nothing.
                let changes = contents.entries.keys.sorted().compactMap { k -> (key: String, value: String?)? in
                    guard !ConfigSchema.isNodeLocal(k), let v = contents.entries[k]?.value else { return nil }
                    return (k, v)
                }
                let changed = try await config.set(changes)
                logger.notice("configuration imported", metadata: ["entries": "\(changes.count)", "changed": "\(changed.count)", "from": "\(contents.exportedBy)"])
                return json(ConfigImportResponse(entries: changes.count, changed: changed, exportedBy: contents.exportedBy, exportedAt: contents.exportedAt))
            case (.GET, 1, "cert"):
                return json(try await certInfo(withSecret: withSecret))
            case (.POST, 2, "cert") where r1 == "generate":
                let body = try decode(CertGenerateRequest.self, request)
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
                return json(try await certInfo(withSecret: false))
            case (.POST, 2, "cert") where r1 == "import":
                let body = try decode(CertImportRequest.self, request)
                let issues = Validators.password("cert.secret", body.secret, force: body.force)
                if !issues.isEmpty { throw ValidationFailure(issues: issues, hint: Message("password.hint_force")) }
                guard let data = Data(base64Encoded: body.pkcs12Base64) else {
                    throw CertificateError(Message("cert.not_pkcs12"))
                }
                let bundle = try CertificateTools.importPKCS12(Array(data), passphrase: body.secret)
                let cn = (try? CertificateTools.summarize(chainPEM: bundle.chainPEM).first?.subject) ?? nil
                try await storeCertificate(bundle, secret: body.secret, source: "imported", cn: cn)
                return json(try await certInfo(withSecret: false))
            default:
                return failure(.notFound, "not_found", Message("api.no_route", request.method.rawValue, request.path))
            }
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

    struct DecodingFailure: Error { var detail: String }

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        do {
            return try request.decodeJSON(type)
        } catch {
            throw DecodingFailure(detail: "\(error)")
        }
    }

    private func json<T: Encodable>(_ value: T) -> HTTPResponse { .json(value) }

    private func failure(_ status: HTTPResponseStatus, _ code: String, _ message: Message) -> HTTPResponse {
        .json(APIErrorBody(code: code, message: message), status: status)
    }

    private func saveState(_ state: NodeState) throws {
        try Files.writeJSON(state, to: node.statePath, mode: 0o600)
    }

    private func showConfig(withSecret: Bool) async -> ConfigShow {
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

    private func storeCertificate(_ bundle: CertificateBundle, secret: String, source: String, cn: String?) async throws {
        try CertificateTools.validate(bundle)
        try await config.set([
            ("cert.chain", bundle.chainPEM), ("cert.key", bundle.keyPEM), ("cert.secret", secret),
            ("cert.source", source), ("cert.cn", cn),
        ])
    }

    private func certInfo(withSecret: Bool) async throws -> CertInfo {
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
