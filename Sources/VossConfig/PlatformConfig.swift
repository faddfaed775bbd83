import VossBase

/// Storage platforms in the configuration (`ose platforms`): the embedded `local` one is always
/// there; upstreams are `platforms.s3.NAME.FIELD` keys; `platforms.default` names the one new
/// buckets go to when their request names none.
public struct UpstreamPlatformConfig: Sendable, Equatable {
    public var name: String
    /// `s3` (any S3-compatible store; per-tenant users through Ceph RGW's admin API when
    /// `tenancy` is `provisioned`), `cloudian` or `ecs` (made from their sections).
    public var kind: String
    public var url: String
    public var region: String
    public var accessKey: String
    public var secret: String
    /// `provisioned` (a user, keys and bucket per tenant) or `shared` (one bucket, VOSS's keys).
    public var tenancy: String
    public var bucket: String
    public var verifyTLS: Bool
    public var caFile: String?
    public var quotaGB: Int?
    /// `cloudian` and `ecs`: their admin API (HyperStore Admin API, ECS Management REST API).
    public var adminURL: String?
    public var adminUser: String?
    public var adminSecret: String?

    public init(
        name: String, kind: String = "s3", url: String, region: String = "us-east-1", accessKey: String, secret: String,
        tenancy: String = "provisioned", bucket: String = "voss", verifyTLS: Bool = true, caFile: String? = nil, quotaGB: Int? = nil,
        adminURL: String? = nil, adminUser: String? = nil, adminSecret: String? = nil
    ) {
        self.adminURL = adminURL
        self.adminUser = adminUser
        self.adminSecret = adminSecret
        self.name = name
        self.kind = kind
        self.url = url
        self.region = region
        self.accessKey = accessKey
        self.secret = secret
        self.tenancy = tenancy
        self.bucket = bucket
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.quotaGB = quotaGB
    }

    /// The configuration keys for this platform.
    public var keys: [String: String] {
        let p = "platforms.s3.\(name)."
        var out = [
            p + "kind": kind, p + "url": url, p + "region": region, p + "access_key": accessKey, p + "secret": secret, p + "tenancy": tenancy,
            p + "bucket": bucket, p + "tls_verify": verifyTLS ? "on" : "off",
        ]
        if let caFile { out[p + "ca_file"] = caFile }
        if let quotaGB { out[p + "quota_gb"] = String(quotaGB) }
        return out
    }
}

public enum PlatformConfig {
    public static let local = "local"
    public static let fields = ["kind", "url", "region", "access_key", "secret", "tenancy", "bucket", "tls_verify", "ca_file", "quota_gb"]
    public static let secretFields: Set<String> = ["secret"]

    /// `(name, field)` of a `platforms.s3.NAME.FIELD` key.
    public static func split(_ key: String) -> (name: String, field: String)? {
        guard key.hasPrefix("platforms.s3.") else { return nil }
        let rest = key.dropFirst("platforms.s3.".count)
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        return (String(rest[..<dot]), String(rest[rest.index(after: dot)...]))
    }

    /// Platform names: 1–32 of `a-z 0-9 -`, starting with a letter; `local`, `cloudian` and `ecs` are taken.
    public static func isValidName(_ s: String) -> Bool {
        isValidAnyName(s) && !vendorKinds.contains(s)
    }

    static func isValidAnyName(_ s: String) -> Bool {
        guard s != local, let f = s.utf8.first, f >= 97 && f <= 122, s.utf8.count <= 32 else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    /// The platforms made from the `cloudian` and `ecs` sections (`ose cloudian|ecs admin|s3 set`):
    /// named `cloudian` and `ecs`, complete once both the admin API and the S3 service are set.
    public static let vendorKinds = ["cloudian", "ecs"]

    static func vendor(_ kind: String, _ values: [String: String]) -> UpstreamPlatformConfig? {
        guard let s3 = values["\(kind).s3.url"], let admin = values["\(kind).admin.url"] else { return nil }
        return UpstreamPlatformConfig(
            name: kind, kind: kind, url: s3, region: values["\(kind).s3.region"] ?? "us-east-1", accessKey: "", secret: "",
            tenancy: "provisioned", verifyTLS: values["\(kind).tls_verify"] != "off", caFile: values["\(kind).ca_file"],
            quotaGB: values["\(kind).quota_gb"].flatMap { ASCIIDecimal.int($0) }, adminURL: admin, adminUser: values["\(kind).admin.user"],
            adminSecret: values["\(kind).admin.secret"])
    }

    /// Every complete upstream in `values` (flat configuration keys), by name.
    public static func upstreams(_ values: [String: String]) -> [UpstreamPlatformConfig] {
        var names = Set<String>()
        for k in values.keys { if let (n, _) = split(k) { names.insert(n) } }
        return vendorKinds.compactMap { vendor($0, values) } + names.sorted().filter { !vendorKinds.contains($0) }.compactMap { n in
            let p = "platforms.s3.\(n)."
            guard let url = values[p + "url"], let ak = values[p + "access_key"], let sk = values[p + "secret"] else { return nil }
            return UpstreamPlatformConfig(
                name: n, kind: values[p + "kind"] ?? "s3", url: url, region: values[p + "region"] ?? "us-east-1", accessKey: ak, secret: sk,
                tenancy: values[p + "tenancy"] ?? "provisioned", bucket: values[p + "bucket"] ?? "voss",
                verifyTLS: values[p + "tls_verify"] != "off", caFile: values[p + "ca_file"],
                quotaGB: values[p + "quota_gb"].flatMap { ASCIIDecimal.int($0) })
        }
    }

    /// The platform new buckets go to.
    public static func defaultPlatform(_ values: [String: String]) -> String { values["platforms.default"] ?? local }

    /// Validation of one `platforms.*` key's value.
    public static func validate(_ key: String, _ value: String) -> [ConfigIssue] {
        if key == "platforms.default" {
            return value == local || isValidAnyName(value) ? [] : [ConfigIssue(key: key, Message("config.platform_name", value))]
        }
        guard let (name, field) = split(key) else { return [ConfigIssue(key: key, Message("config.unknown_key", key))] }
        guard isValidName(name) else { return [ConfigIssue(key: key, Message("config.platform_name", name))] }
        switch field {
        case "kind": return Validators.oneOf(key, value, ["s3", "cloudian", "ecs"])
        case "url":
            let lower = value.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return [ConfigIssue(key: key, Message("value.http_url", value))] }
            return Validators.text(key, value, maxLength: 2048)
        case "region": return Validators.region(key, value)
        case "access_key", "secret": return Validators.nonEmpty(key, value) + Validators.text(key, value, maxLength: 256)
        case "tenancy": return Validators.oneOf(key, value, ["provisioned", "shared"])
        case "bucket": return Validators.nonEmpty(key, value) + Validators.text(key, value, maxLength: 63)
        case "tls_verify": return Validators.oneOf(key, value, ["on", "off"])
        case "ca_file": return Validators.text(key, value, maxLength: 4096)
        case "quota_gb": return Validators.integer(key, value, in: 1...1_000_000_000)
        default: return [ConfigIssue(key: key, Message("config.unknown_key", key))]
        }
    }
}
