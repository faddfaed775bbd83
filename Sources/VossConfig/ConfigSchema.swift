import VossBase

/// Every configuration key VOSS knows: its section (as `ose show` groups them), whether it is a secret,
/// and how its value is validated. `args.*` keys are free-form service arguments; the ones listed in
/// `knownArgs` are read by VOSS itself and validated.
public enum ConfigSchema {
    public struct KeySpec: Sendable {
        public let key: String
        public let secret: Bool
        /// Belongs to this node only (which store this node uses, a migration it runs); never copied
        /// to other nodes.
        public let nodeLocal: Bool
        public let validate: @Sendable (String, String) -> [ConfigIssue]

        public init(
            _ key: String, secret: Bool = false, nodeLocal: Bool = false,
            validate: @escaping @Sendable (String, String) -> [ConfigIssue] = { k, v in Validators.text(k, v) }
        ) {
            self.key = key
            self.secret = secret
            self.nodeLocal = nodeLocal
            self.validate = validate
        }

        public var section: String { String(key.split(separator: ".").first ?? "") }
    }

    /// The order `ose show` prints sections in (mirrors the `ose` command groups).
    public static let sections = [
        "cert", "db", "director", "ui", "platforms", "cloudian", "ecs", "s3", "cluster", "vip", "i18n",
        "args",
    ]

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public static let keys: [KeySpec] = [
        KeySpec("cert.cn"),
        KeySpec("cert.source") { k, v in Validators.oneOf(k, v, ["generated", "imported"]) },
        KeySpec("cert.chain") { k, v in Validators.text(k, v.replacingNewlines(), maxLength: 1 << 20) },
        KeySpec("cert.key", secret: true) { k, v in Validators.text(k, v.replacingNewlines(), maxLength: 1 << 16) },
        KeySpec("cert.secret", secret: true),
        KeySpec("s3.domain") { k, v in Validators.hostName(k, v) },
        KeySpec("s3.region") { k, v in Validators.region(k, v) },
        KeySpec("db.url") { k, v in
            if case .failure(let issue) = PostgresURL.parse(v, key: k) { return [issue] }
            return []
        },
        KeySpec("db.user") { k, v in Validators.nonEmpty(k, v) + Validators.text(k, v, maxLength: 63) },
        KeySpec("db.secret", secret: true),
        // Which metadata store this node serves from: its embedded SQLite file, or PostgreSQL once
        // `ose migration start` has moved its metadata there (or `ose db set` found nothing to move).
        KeySpec("db.active", nodeLocal: true) { k, v in Validators.oneOf(k, v, ["embedded", "postgres"]) },
        // The migration task this node runs; while set the gateway is in maintenance mode.
        KeySpec("db.migrating", nodeLocal: true),
        // The virtual-IP translator (`ose vip`): one virtual address for the whole cluster.
        // Cloudian HyperStore and Dell ECS (`ose cloudian …`, `ose ecs …`): their services, and the
        // platform made from them.
        // The cloud director (`ose director set`), checked before it is saved, and the portal plugin
        // registered in it (`ose ui install`).
        KeySpec("director.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("director.user") { k, v in Validators.systemUser(k, v) },
        KeySpec("director.secret", secret: true),
        KeySpec("director.api_version"),
        KeySpec("director.tls_verify") { k, v in Validators.oneOf(k, v, ["on", "off"]) },
        KeySpec("ui.plugin_id"),
        KeySpec("ui.ose_url") { k, v in Validators.httpURL(k, v) },
        KeySpec("cloudian.admin.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("cloudian.admin.user") { k, v in Validators.nonEmpty(k, v) + Validators.text(k, v, maxLength: 256) },
        KeySpec("cloudian.admin.secret", secret: true),
        KeySpec("cloudian.s3.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("cloudian.s3.region") { k, v in Validators.region(k, v) },
        KeySpec("cloudian.iam.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("cloudian.console.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("cloudian.console.user") { k, v in Validators.nonEmpty(k, v) + Validators.text(k, v, maxLength: 256) },
        KeySpec("cloudian.console.secret", secret: true),
        KeySpec("ecs.admin.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("ecs.admin.user") { k, v in Validators.nonEmpty(k, v) + Validators.text(k, v, maxLength: 256) },
        KeySpec("ecs.admin.secret", secret: true),
        KeySpec("ecs.s3.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("ecs.s3.region") { k, v in Validators.region(k, v) },
        KeySpec("ecs.console.url") { k, v in Validators.httpURL(k, v) },
        KeySpec("ecs.console.user") { k, v in Validators.nonEmpty(k, v) + Validators.text(k, v, maxLength: 256) },
        KeySpec("ecs.console.secret", secret: true),
        KeySpec("vip.address") { k, v in Validators.ipAddress(k, v) },
        KeySpec("vip.port") { k, v in Validators.port(k, v) },
        KeySpec("vip.interface") { k, v in Validators.interfaceName(k, v) },
        KeySpec("vip.own") { k, v in Validators.oneOf(k, v, ["on", "off"]) },
        KeySpec("vip.target") { k, v in Validators.oneOf(k, v, ["https", "http"]) },
        KeySpec("vip.proxy_protocol") { k, v in Validators.oneOf(k, v, ["on", "off"]) },
    ]

    /// Service arguments VOSS itself reads (`ose args set --k KEY --v VALUE`).
    public static let knownArgs: [KeySpec] = [
        KeySpec("log.level") { k, v in Validators.oneOf(k, v, logLevels) },
        KeySpec("worker.restart.max") { k, v in Validators.integer(k, v, in: 0...100_000) },
        KeySpec("worker.restart.period") { k, v in Validators.duration(k, v, in: .seconds(1)...(.seconds(86400))) },
        KeySpec("worker.ping.interval") { k, v in
            Validators.duration(k, v, in: .milliseconds(100)...(.seconds(60)))
        },
        KeySpec("worker.ping.missed") { k, v in Validators.integer(k, v, in: 1...100) },
        KeySpec("worker.stop.timeout") { k, v in Validators.duration(k, v, in: .milliseconds(100)...(.seconds(600))) },
        KeySpec("worker.ready.timeout") { k, v in Validators.duration(k, v, in: .seconds(1)...(.seconds(600))) },
        KeySpec("worker.failed.retry") { k, v in Validators.duration(k, v, in: .seconds(0)...(.seconds(86400))) },
        // The S3 gateway's limits against slow and greedy clients (docs/operations.md, "Limits").
        KeySpec("s3.header_timeout") { k, v in Validators.integer(k, v, in: 1...3600) },
        KeySpec("s3.body_min_rate") { k, v in Validators.integer(k, v, in: 1...(1 << 30)) },
        KeySpec("s3.body_rate_window") { k, v in Validators.integer(k, v, in: 1...600) },
        KeySpec("s3.idle_timeout") { k, v in Validators.integer(k, v, in: 1...86400) },
        KeySpec("s3.max_connections") { k, v in Validators.integer(k, v, in: 1...1_000_000) },
        KeySpec("s3.max_connections_per_client") { k, v in Validators.integer(k, v, in: 1...1_000_000) },
        KeySpec("s3.multipart_expiry_hours") { k, v in Validators.integer(k, v, in: 1...876_000) },
        KeySpec("s3.lifecycle_interval") { k, v in Validators.integer(k, v, in: 1...86_400) },
        KeySpec("s3.sse_key_rotation_days") { k, v in Validators.integer(k, v, in: 1...3650) },
    ]

    public static func spec(for key: String) -> KeySpec? {
        if key.hasPrefix("args.") {
            let arg = String(key.dropFirst(5))
            if let known = knownArgs.first(where: { $0.key == arg }) { return known }
            return KeySpec(key)
        }
        if key == "platforms.default" || PlatformConfig.split(key) != nil {
            let secret = PlatformConfig.split(key).map { PlatformConfig.secretFields.contains($0.field) } ?? false
            return KeySpec(key, secret: secret) { k, v in PlatformConfig.validate(k, v) }
        }
        return keys.first { $0.key == key }
    }

    public static func isSecret(_ key: String) -> Bool { spec(for: key)?.secret ?? false }

    public static func isNodeLocal(_ key: String) -> Bool { spec(for: key)?.nodeLocal ?? false }

    /// Validates one value for `key` (an unknown key is itself an issue).
    public static func validate(key: String, value: String) -> [ConfigIssue] {
        if key.hasPrefix("args.") {
            let arg = String(key.dropFirst(5))
            let keyIssues = Validators.argKey(arg)
            if !keyIssues.isEmpty { return keyIssues }
            if let known = knownArgs.first(where: { $0.key == arg }) { return known.validate(key, value) }
            return Validators.text(key, value)
        }
        if key == "platforms.default" || PlatformConfig.split(key) != nil { return PlatformConfig.validate(key, value) }
        guard let spec = keys.first(where: { $0.key == key }) else {
            return [ConfigIssue(key: key, Message("config.unknown_key", key))]
        }
        return spec.validate(key, value)
    }
}

extension String {
    /// Newlines are legitimate in PEM values; this lets the control-character check ignore them.
    func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}
