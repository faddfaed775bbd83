import Logging
import NIOPosix
import VossBase
import VossConfig
import VossUpstream
import VossWire

/// The cloud director (`ose director set|show`) and the portal plugin in it (`ose ui install|uninstall|show`).
/// Nothing is saved unless the director answered: its API versions, one VOSS speaks, and the login.
extension ControlAPI {
    func directorRoutes(_ r: inout ControlRouter) {
        r.on(Routes.directorShow) { call, _ in await directorInfo(withSecret: call.withSecret) }
        r.on(Routes.directorSet) { _, body in try await setDirector(body) }
        r.on(Routes.uiShow) { _, _ in await uiInfo(check: true) }
        r.on(Routes.uiInstall) { _, body in try await installUI(body) }
        r.on(Routes.uiUninstall) { _, _ in try await uninstallUI() }
    }

    func directorInfo(withSecret: Bool) async -> DirectorInfo {
        let doc = await config.document
        guard let url = doc["director.url"] else { return DirectorInfo(configured: false) }
        return DirectorInfo(
            configured: true, url: url, user: doc["director.user"], secret: withSecret ? doc["director.secret"] : nil,
            apiVersion: doc["director.api_version"], tlsVerify: doc["director.tls_verify"] != "off")
    }

    func setDirector(_ r: DirectorSetRequest) async throws -> DirectorInfo {
        var issues = ConfigSchema.validate(key: "director.url", value: r.url)
        issues += ConfigSchema.validate(key: "director.user", value: r.user)
        issues += Validators.password("director.secret", r.secret, force: r.force)
        if !issues.isEmpty {
            throw ValidationFailure(issues: issues, hint: issues.contains { $0.key == "director.secret" } ? Message("password.hint_force") : nil)
        }
        let verify = !(r.insecure ?? false)
        let version: String
        do {
            let client = try DirectorClient(url: r.url, tls: UpstreamTLSOptions(verify: verify), group: MultiThreadedEventLoopGroup.singleton)
            defer { client.close() }
            let versions: [String]
            do { versions = try await client.versions() } catch {
                throw ValidationFailure(issues: [ConfigIssue(key: "director.url", Message("director.unreachable", r.url, "\(error)"))])
            }
            guard let v = DirectorClient.pick(versions) else {
                throw ValidationFailure(issues: [
                    ConfigIssue(key: "director.url", Message("director.no_version", versions.joined(separator: ", "), String(DirectorClient.minimumVersion)))
                ])
            }
            version = v
            do { _ = try await client.providerLogin(user: r.user, password: r.secret, version: v) } catch {
                throw ValidationFailure(issues: [ConfigIssue(key: "director.secret", Message("director.login_failed", r.user, "\(error)"))])
            }
        }
        try await config.set([
            ("director.url", r.url), ("director.user", r.user), ("director.secret", r.secret), ("director.api_version", version),
            ("director.tls_verify", verify ? nil : "off"),
        ])
        logger.notice("cloud director saved", metadata: ["url": "\(r.url)", "user": "\(r.user)", "api_version": "\(version)"])
        return await directorInfo(withSecret: false)
    }

    /// A provider session with the saved director settings.
    func directorSession() async throws -> (DirectorClient, String, String) {
        let doc = await config.document
        guard let url = doc["director.url"], let user = doc["director.user"], let secret = doc["director.secret"] else {
            throw KeeperError(Message("director.not_configured"))
        }
        let client = try DirectorClient(
            url: url, tls: UpstreamTLSOptions(verify: doc["director.tls_verify"] != "off"), group: MultiThreadedEventLoopGroup.singleton)
        let version = doc["director.api_version"] ?? "36.0"
        do {
            return (client, try await client.providerLogin(user: user, password: secret, version: version), version)
        } catch {
            client.close()
            throw KeeperError(Message("director.login_failed", user, "\(error)"))
        }
    }

    func uiInfo(check: Bool) async -> UIPluginInfo {
        let doc = await config.document
        guard let id = doc["ui.plugin_id"] else { return UIPluginInfo(installed: false) }
        var info = UIPluginInfo(installed: true, id: id, name: DirectorPlugin.name, version: VossVersion.current, oseURL: doc["ui.ose_url"])
        guard check else { return info }
        do {
            let (client, token, version) = try await directorSession()
            defer { client.close() }
            if let p = try await client.uiPlugins(token: token, version: version).first(where: { $0.id == id }) {
                info.status = p.plugin_status ?? (p.enabled == false ? "disabled" : "ready")
                info.version = p.version
            } else {
                info.status = "missing"
                info.detail = Message("ui.missing_in_director").english
            }
        } catch {
            info.status = "unknown"
            info.detail = "\(error)"
        }
        return info
    }

    func installUI(_ r: UIInstallRequest) async throws -> UIPluginInfo {
        let issues = ConfigSchema.validate(key: "ui.ose_url", value: r.oseURL)
        if !issues.isEmpty { throw ValidationFailure(issues: issues) }
        let (client, token, version) = try await directorSession()
        defer { client.close() }
        // Replace: an earlier VOSS plugin (by name and vendor) is removed first.
        for p in try await client.uiPlugins(token: token, version: version)
        where p.pluginName == DirectorPlugin.name && p.vendor == DirectorPlugin.vendor {
            if let id = p.id { try await client.remove(pluginID: id, token: token, version: version) }
        }
        let registered = try await client.register(DirectorPlugin.metadata(version: VossVersion.current, oseURL: r.oseURL), token: token, version: version)
        guard let id = registered.id else { throw KeeperError(Message("ui.no_id")) }
        do {
            try await client.upload(
                pluginID: id, fileName: DirectorPlugin.fileName, zip: DirectorPlugin.zip(version: VossVersion.current, oseURL: r.oseURL), token: token,
                version: version)
            try await client.publishAll(pluginID: id, token: token, version: version)
        } catch {
            // Half a plugin is worse than none: take the registration back.
            try? await client.remove(pluginID: id, token: token, version: version)
            throw error
        }
        try await config.set([("ui.plugin_id", id), ("ui.ose_url", r.oseURL)])
        logger.notice("portal plugin installed in the director", metadata: ["plugin": "\(id)", "ose_url": "\(r.oseURL)"])
        return await uiInfo(check: true)
    }

    func uninstallUI() async throws -> UIPluginInfo {
        let doc = await config.document
        guard let id = doc["ui.plugin_id"] else { return UIPluginInfo(installed: false) }
        let (client, token, version) = try await directorSession()
        defer { client.close() }
        try await client.remove(pluginID: id, token: token, version: version)
        try await config.set([("ui.plugin_id", nil), ("ui.ose_url", nil)])
        logger.notice("portal plugin removed from the director", metadata: ["plugin": "\(id)"])
        return UIPluginInfo(installed: false)
    }
}
