import Logging
import NIOPosix
import VossBase
import VossConfig
import VossUpstream
import VossWire

/// Storage platforms (`ose platforms`): the embedded `local` one and S3-compatible upstreams.
extension ControlAPI {
    func platformRoutes(_ r: inout ControlRouter) {
        r.on(Routes.platformsShow) { call, _ in await platforms(withSecret: call.withSecret, check: true) }
        r.on(Routes.platformSet) { call, body in try await setPlatform(call["name"], body) }
        r.on(Routes.platformEnable) { _, body in
            let doc = await config.document
            let known = [PlatformConfig.local] + PlatformConfig.upstreams(Self.platformValues(doc)).map(\.name)
            guard known.contains(body.name) else { throw ControlFailure.notFound(Message("platform.not_found", body.name, known.joined(separator: ", "))) }
            try await config.set([("platforms.default", body.name == PlatformConfig.local ? nil : body.name)])
            return await platforms(withSecret: false, check: false)
        }
        r.on(Routes.cloudianShow) { call, _ in await vendor("cloudian", withSecret: call.withSecret) }
        r.on(Routes.cloudianSet) { call, body in try await setVendor("cloudian", call["service"], body) }
        r.on(Routes.ecsShow) { call, _ in await vendor("ecs", withSecret: call.withSecret) }
        r.on(Routes.ecsSet) { call, body in try await setVendor("ecs", call["service"], body) }
        r.on(Routes.platformDelete) { call, _ in
            let name = call["name"]
            let doc = await config.document
            let keys = doc.values(withPrefix: "platforms.s3.\(name).").map(\.key)
            guard !keys.isEmpty else { throw ControlFailure.notFound(Message("platform.not_found", name, "")) }
            if doc["platforms.default"] == name { throw KeeperError(Message("platform.is_default", name)) }
            try await config.set(keys.map { ($0, nil) })
            return await platforms(withSecret: false, check: false)
        }
    }

    /// The keys platforms are made from: `platforms.*`, `cloudian.*`, `ecs.*`.
    static func platformValues(_ doc: ConfigDocument) -> [String: String] {
        flat(doc.values(withPrefix: "platforms.") + doc.values(withPrefix: "cloudian.") + doc.values(withPrefix: "ecs."))
    }

    static func flat(_ pairs: [(key: String, value: String)]) -> [String: String] {
        Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
    }

    // MARK: Cloudian HyperStore and Dell ECS

    static let vendorServices = ["cloudian": ["admin", "s3", "iam", "console"], "ecs": ["admin", "s3", "console"]]

    func vendor(_ kind: String, withSecret: Bool, notes: [Message] = []) async -> VendorInfo {
        let doc = await config.document
        func service(_ s: String) -> VendorService? {
            guard let url = doc["\(kind).\(s).url"] else { return nil }
            return VendorService(
                url: url, user: doc["\(kind).\(s).user"], secret: withSecret ? doc["\(kind).\(s).secret"] : nil, region: doc["\(kind).\(s).region"])
        }
        return VendorInfo(kind: kind, admin: service("admin"), s3: service("s3"), iam: service("iam"), console: service("console"), notes: notes)
    }

    /// Saves one vendor service after checking it: the admin API must accept the credentials, the
    /// other services must answer. The secrets follow the password policy unless `force`.
    func setVendor(_ kind: String, _ service: String, _ r: VendorSetRequest) async throws -> VendorInfo {
        guard Self.vendorServices[kind]?.contains(service) == true else {
            throw ControlFailure.notFound(Message("api.no_route", "PUT", "/v1/\(kind)/\(service)"))
        }
        let prefix = "\(kind).\(service)."
        var changes: [(key: String, value: String?)] = [(prefix + "url", r.url)]
        var issues = ConfigSchema.validate(key: prefix + "url", value: r.url)
        let withLogin = service == "admin" || service == "console"
        if withLogin {
            let user = r.user ?? ""
            issues += ConfigSchema.validate(key: prefix + "user", value: user)
            issues += Validators.password(prefix + "secret", r.secret ?? "", force: r.force)
            changes += [(prefix + "user", user), (prefix + "secret", r.secret ?? "")]
        }
        if service == "s3" {
            if let region = r.region {
                issues += ConfigSchema.validate(key: prefix + "region", value: region)
                changes.append((prefix + "region", region))
            }
        }
        if !issues.isEmpty {
            let policy = issues.contains { $0.key == prefix + "secret" }
            throw ValidationFailure(issues: issues, hint: policy ? Message("password.hint_force") : nil)
        }
        let group = MultiThreadedEventLoopGroup.singleton
        var problems: [String] = []
        if service == "admin" {
            var values = Self.flat(await config.document.values(withPrefix: kind + "."))
            for c in changes { values[c.key] = c.value }
            values[kind + ".s3.url"] = values[kind + ".s3.url"] ?? r.url  // the admin check does not use it
            if let c = PlatformConfig.upstreams(values).first(where: { $0.name == kind }) {
                problems = await PlatformFactory.checkAdmin(c, group: group)
            }
        } else if let problem = await PlatformFactory.reachable(r.url, group: group) {
            problems = [problem]
        }
        if !problems.isEmpty {
            throw ValidationFailure(issues: problems.map { ConfigIssue(key: prefix + "url", Message("platform.check_failed", $0)) }, hint: nil)
        }
        try await config.set(changes)
        logger.notice("platform service saved", metadata: ["platform": "\(kind)", "service": "\(service)", "url": "\(r.url)"])
        return await vendor(kind, withSecret: false)
    }

    func platforms(withSecret: Bool, check: Bool) async -> PlatformsInfo {
        let values = Self.platformValues(await config.document)
        let def = PlatformConfig.defaultPlatform(values)
        var out = [PlatformInfo(name: PlatformConfig.local, kind: "local", isDefault: def == PlatformConfig.local, state: "normal")]
        for c in PlatformConfig.upstreams(values) {
            var i = PlatformInfo(name: c.name, kind: c.kind, isDefault: def == c.name, state: "normal")
            i.url = c.url
            i.region = c.region
            i.accessKey = c.accessKey
            i.secret = withSecret ? c.secret : nil
            i.tenancy = c.tenancy
            i.bucket = c.tenancy == "shared" ? c.bucket : nil
            i.tlsVerify = c.verifyTLS
            i.caFile = c.caFile
            i.quotaGB = c.quotaGB
            if check {
                let problems = await PlatformFactory.check(c, group: MultiThreadedEventLoopGroup.singleton)
                if let first = problems.first {
                    i.state = "unavailable"
                    i.detail = first
                }
            }
            out.append(i)
        }
        return PlatformsInfo(platforms: out)
    }

    func setPlatform(_ name: String, _ r: PlatformSetRequest) async throws -> PlatformsInfo {
        guard PlatformConfig.isValidName(name) else {
            throw ValidationFailure(issues: [ConfigIssue(key: "platforms.s3.\(name)", Message("config.platform_name", name))], hint: nil)
        }
        let c = UpstreamPlatformConfig(
            name: name, url: r.url, region: r.region ?? "us-east-1", accessKey: r.accessKey, secret: r.secret,
            tenancy: r.tenancy ?? "provisioned", bucket: r.bucket ?? "voss", verifyTLS: r.tlsVerify ?? true, caFile: r.caFile,
            quotaGB: r.quotaGB)
        var issues: [ConfigIssue] = []
        for (k, v) in c.keys.sorted(by: { $0.key < $1.key }) { issues += ConfigSchema.validate(key: k, value: v) }
        if !issues.isEmpty { throw ValidationFailure(issues: issues, hint: nil) }
        var notes: [Message] = []
        let problems = await PlatformFactory.check(c, group: MultiThreadedEventLoopGroup.singleton)
        if !problems.isEmpty {
            guard r.force else {
                throw ValidationFailure(
                    issues: problems.map { ConfigIssue(key: "platforms.s3.\(name).url", Message("platform.check_failed", $0)) },
                    hint: Message("platform.check_hint"))
            }
            notes += problems.map { Message("platform.check_failed", $0) }
        }
        // Replace the platform's keys as one change (fields left out are removed).
        let old = await config.document.values(withPrefix: "platforms.s3.\(name).").map(\.key)
        var changes: [(key: String, value: String?)] = old.filter { c.keys[$0] == nil }.map { ($0, nil) }
        changes += c.keys.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        try await config.set(changes)
        logger.notice("storage platform saved", metadata: ["platform": "\(name)", "url": "\(c.url)", "tenancy": "\(c.tenancy)"])
        var info = await platforms(withSecret: false, check: false)
        info.notes = notes
        return info
    }
}
