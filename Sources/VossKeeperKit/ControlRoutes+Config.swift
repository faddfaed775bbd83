import Foundation
import Logging
import VossBase
import VossCluster
import VossConfig
import VossWire

/// Version, configuration, service arguments, S3 settings, configuration export and import.
extension ControlAPI {
    func configRoutes(_ r: inout ControlRouter) {
        r.on(Routes.version) { _, _ in info }
        r.on(Routes.show) { call, _ in await showConfig(withSecret: call.withSecret) }
        r.on(Routes.argsList) { _, _ in
            let doc = await config.document
            return ArgList(args: doc.values(withPrefix: "args.").map { ArgValue(key: String($0.key.dropFirst(5)), value: $0.value) })
        }
        r.on(Routes.argGet) { call, _ in
            guard let v = await config.document["args." + call["key"]] else { throw ControlFailure.notFound(Message("args.not_found", call["key"])) }
            return ArgValue(key: call["key"], value: v)
        }
        r.on(Routes.argSet) { call, body in
            try await config.set([("args." + call["key"], body.value)])
            return ArgValue(key: call["key"], value: body.value)
        }
        r.on(Routes.argDelete) { call, _ in
            guard await config.document["args." + call["key"]] != nil else {
                throw ControlFailure.notFound(Message("args.not_found", call["key"]))
            }
            try await config.set([("args." + call["key"], nil)])
            return ArgValue(key: call["key"], value: "")
        }
        r.on(Routes.s3Show) { _, _ in await s3Settings() }
        r.on(Routes.s3Set) { _, body in
            var changes: [(key: String, value: String?)] = []
            if let d = body.domain { changes.append(("s3.domain", d.isEmpty ? nil : d.lowercased())) }
            if let rg = body.region { changes.append(("s3.region", rg)) }
            try await config.set(changes)
            return await s3Settings()
        }
        r.on(Routes.configExport) { _, body in try await exportConfig(body) }
        r.on(Routes.configImport) { _, body in try await importConfig(body) }
    }

    func s3Settings() async -> S3Settings {
        let doc = await config.document
        return S3Settings(domain: doc["s3.domain"], region: doc["s3.region"] ?? "us-east-1")
    }

    func exportConfig(_ body: ConfigExportRequest) async throws -> ConfigExportResponse {
        let issues = Validators.password("config.secret", body.secret, force: body.force ?? false)
        if !issues.isEmpty { throw ValidationFailure(issues: issues, hint: Message("password.hint_force")) }
        var entries: [String: ConfigEntry] = [:]
        for (k, e) in await config.document.entries where !ConfigSchema.isNodeLocal(k) && e.value != nil { entries[k] = e }
        let file = try ConfigArchive.seal(
            ConfigArchive.Contents(exportedBy: node.nodeName, exportedAt: Date(), entries: entries), secret: body.secret)
        logger.notice("configuration exported", metadata: ["entries": "\(entries.count)"])
        return ConfigExportResponse(file: Data(file).base64EncodedString(), entries: entries.count)
    }

    func importConfig(_ body: ConfigImportRequest) async throws -> ConfigImportResponse {
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
        // Set (with fresh stamps, so the import wins over what the cluster has now and is gossiped
        // to every node), validated all or nothing.
        let changes = contents.entries.keys.sorted().compactMap { k -> (key: String, value: String?)? in
            guard !ConfigSchema.isNodeLocal(k), let v = contents.entries[k]?.value else { return nil }
            return (k, v)
        }
        let changed = try await config.set(changes)
        logger.notice(
            "configuration imported",
            metadata: ["entries": "\(changes.count)", "changed": "\(changed.count)", "from": "\(contents.exportedBy)"])
        return ConfigImportResponse(entries: changes.count, changed: changed, exportedBy: contents.exportedBy, exportedAt: contents.exportedAt)
    }
}
