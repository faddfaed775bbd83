import VossBase

/// The control API as one typed table (`docs/control-api.md`): each route's method, path template,
/// request body and response types. `ose` builds its requests from it, the keeper matches and
/// dispatches with it, and the gateway's admin API matches the identity routes with it, so a route
/// is written once.
///
/// Adding a command: one route here, one handler on the keeper side (`ControlRoutes+….swift`), one
/// spec and action in `ose`, one test.
public struct ControlRoute<Body: Codable & Sendable, Response: Codable & Sendable>: Sendable, CustomStringConvertible {
    public let method: String
    public let template: String
    let segments: [RouteSegment]

    public init(_ method: String, _ template: String) {
        self.method = method
        self.template = template
        segments = RouteSegment.parse(template)
    }

    public var description: String { "\(method) \(template)" }

    /// The request target: parameters filled in (each percent-encoded as one path segment), then the
    /// query, if any.
    public func path(_ params: [String: String] = [:], query: [(String, String)] = []) -> String {
        var out = ""
        for s in segments {
            out += "/"
            switch s {
            case .literal(let l): out += l
            case .parameter(let name): out += RouteSegment.encode(params[name] ?? "")
            }
        }
        if !query.isEmpty {
            out += "?" + query.map { RouteSegment.encode($0.0) + "=" + RouteSegment.encode($0.1) }.joined(separator: "&")
        }
        return out
    }

    /// The parameters, when `method` and the raw (still percent-encoded) `path` are this route's.
    public func match(method m: String, rawPath: String) -> [String: String]? {
        guard m == method else { return nil }
        return RouteSegment.match(segments, rawPath: rawPath)
    }

    /// The untyped view the keeper's router keeps in its table.
    public var erased: AnyControlRoute { AnyControlRoute(method: method, template: template, segments: segments) }
}

/// A route with its types erased: what a router stores, and what the completeness test compares.
public struct AnyControlRoute: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    public let template: String
    let segments: [RouteSegment]

    public var description: String { "\(method) \(template)" }

    public func match(method m: String, rawPath: String) -> [String: String]? {
        guard m == method else { return nil }
        return RouteSegment.match(segments, rawPath: rawPath)
    }

    public static func == (a: AnyControlRoute, b: AnyControlRoute) -> Bool { a.method == b.method && a.template == b.template }
    public func hash(into h: inout Hasher) {
        h.combine(method)
        h.combine(template)
    }
}

enum RouteSegment: Sendable, Equatable {
    case literal(String)
    case parameter(String)

    static func parse(_ template: String) -> [RouteSegment] {
        template.split(separator: "/").map { s in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
    }

    static func match(_ segments: [RouteSegment], rawPath: String) -> [String: String]? {
        let path = rawPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == segments.count else { return nil }
        var params: [String: String] = [:]
        for (s, p) in zip(segments, parts) {
            switch s {
            case .literal(let l):
                guard p == l else { return nil }
            case .parameter(let name):
                guard let v = decode(p), !v.isEmpty else { return nil }
                params[name] = v
            }
        }
        return params
    }

    /// Percent-encodes everything but unreserved characters, so a value is one segment whatever it holds.
    static func encode(_ s: String) -> String { Percent.encode(s.utf8) }

    static func decode<S: StringProtocol>(_ s: S) -> String? { Percent.decodeText(s) }
}

/// No request body.
public struct NoBody: Codable, Sendable, Equatable {
    public init() {}
}

/// What a DELETE of a tenant, user or key answers.
public struct Deleted: Codable, Sendable, Equatable {
    public var deleted: String
    public init(deleted: String) { self.deleted = deleted }
}

/// Every route of the control API.
public enum Routes {
    public static let version = ControlRoute<NoBody, VersionInfo>("GET", "/v1/version")
    public static let show = ControlRoute<NoBody, ConfigShow>("GET", "/v1/show")

    public static let argsList = ControlRoute<NoBody, ArgList>("GET", "/v1/args")
    public static let argGet = ControlRoute<NoBody, ArgValue>("GET", "/v1/args/{key}")
    public static let argSet = ControlRoute<ArgSetRequest, ArgValue>("PUT", "/v1/args/{key}")
    public static let argDelete = ControlRoute<NoBody, ArgValue>("DELETE", "/v1/args/{key}")

    public static let serviceShow = ControlRoute<NoBody, ServiceShow>("GET", "/v1/service")
    /// `{verb}`: start, stop or restart.
    public static let serviceControl = ControlRoute<ServiceRequest, ServiceShow>("POST", "/v1/service/{verb}")

    public static let certShow = ControlRoute<NoBody, CertInfo>("GET", "/v1/cert")
    public static let certGenerate = ControlRoute<CertGenerateRequest, CertInfo>("POST", "/v1/cert/generate")
    public static let certImport = ControlRoute<CertImportRequest, CertInfo>("POST", "/v1/cert/import")

    public static let dbShow = ControlRoute<NoBody, DBInfo>("GET", "/v1/db")
    public static let dbSet = ControlRoute<DBSetRequest, DBInfo>("PUT", "/v1/db")
    public static let migrationShow = ControlRoute<NoBody, MigrationInfo>("GET", "/v1/migration")
    public static let migrationStart = ControlRoute<MigrationStartRequest, MigrationInfo>("POST", "/v1/migration")

    public static let s3Show = ControlRoute<NoBody, S3Settings>("GET", "/v1/s3")
    public static let s3Set = ControlRoute<S3Settings, S3Settings>("PUT", "/v1/s3")

    public static let platformsShow = ControlRoute<NoBody, PlatformsInfo>("GET", "/v1/platforms")
    /// Makes a platform the default for new buckets (`ose platforms enable NAME`).
    public static let platformEnable = ControlRoute<PlatformEnableRequest, PlatformsInfo>("PUT", "/v1/platforms/default")
    public static let platformSet = ControlRoute<PlatformSetRequest, PlatformsInfo>("PUT", "/v1/platforms/s3/{name}")
    public static let platformDelete = ControlRoute<NoBody, PlatformsInfo>("DELETE", "/v1/platforms/s3/{name}")

    public static let cloudianShow = ControlRoute<NoBody, VendorInfo>("GET", "/v1/cloudian")
    /// `{service}`: admin, s3, iam or console.
    public static let cloudianSet = ControlRoute<VendorSetRequest, VendorInfo>("PUT", "/v1/cloudian/{service}")
    public static let directorShow = ControlRoute<NoBody, DirectorInfo>("GET", "/v1/director")
    public static let directorSet = ControlRoute<DirectorSetRequest, DirectorInfo>("PUT", "/v1/director")
    public static let uiShow = ControlRoute<NoBody, UIPluginInfo>("GET", "/v1/ui")
    public static let uiInstall = ControlRoute<UIInstallRequest, UIPluginInfo>("POST", "/v1/ui")
    public static let uiUninstall = ControlRoute<NoBody, UIPluginInfo>("DELETE", "/v1/ui")
    public static let ecsShow = ControlRoute<NoBody, VendorInfo>("GET", "/v1/ecs")
    /// `{service}`: admin, s3 or console.
    public static let ecsSet = ControlRoute<VendorSetRequest, VendorInfo>("PUT", "/v1/ecs/{service}")

    public static let vipShow = ControlRoute<NoBody, VIPInfo>("GET", "/v1/vip")
    public static let vipSet = ControlRoute<VIPSetRequest, VIPInfo>("PUT", "/v1/vip")
    public static let vipDisable = ControlRoute<NoBody, VIPInfo>("DELETE", "/v1/vip")

    public static let clusterShow = ControlRoute<NoBody, ClusterView>("GET", "/v1/cluster")
    public static let clusterToken = ControlRoute<NoBody, ClusterToken>("GET", "/v1/cluster/token")
    public static let clusterJoin = ControlRoute<ClusterJoinRequest, ClusterView>("POST", "/v1/cluster/join")
    public static let clusterLeave = ControlRoute<NoBody, ClusterView>("POST", "/v1/cluster/leave")

    public static let configExport = ControlRoute<ConfigExportRequest, ConfigExportResponse>("POST", "/v1/config/export")
    public static let configImport = ControlRoute<ConfigImportRequest, ConfigImportResponse>("POST", "/v1/config/import")

    // Identity: served by the S3 gateway's admin API (the keeper forwards these).
    public static let tenantCreate = ControlRoute<NameRequest, TenantInfo>("POST", "/v1/tenants")
    public static let tenantList = ControlRoute<NoBody, TenantList>("GET", "/v1/tenants")
    public static let tenantDelete = ControlRoute<NoBody, Deleted>("DELETE", "/v1/tenants/{tenant}")
    public static let userCreate = ControlRoute<NameRequest, UserInfo>("POST", "/v1/tenants/{tenant}/users")
    public static let userList = ControlRoute<NoBody, UserList>("GET", "/v1/tenants/{tenant}/users")
    public static let userDelete = ControlRoute<NoBody, Deleted>("DELETE", "/v1/tenants/{tenant}/users/{user}")
    public static let userPassword = ControlRoute<PasswordRequest, UserInfo>("PUT", "/v1/tenants/{tenant}/users/{user}/password")
    public static let keyCreate = ControlRoute<NoBody, KeyInfo>("POST", "/v1/tenants/{tenant}/users/{user}/keys")
    public static let keyList = ControlRoute<NoBody, KeyList>("GET", "/v1/tenants/{tenant}/users/{user}/keys")
    public static let keyDelete = ControlRoute<NoBody, Deleted>("DELETE", "/v1/keys/{key}")

    // Moving a bucket to another platform: served by the S3 gateway (the keeper forwards these).
    public static let bucketMoveStart = ControlRoute<BucketMoveRequest, BucketMoveInfo>("POST", "/v1/migration/buckets")
    public static let bucketMoveList = ControlRoute<NoBody, BucketMoveList>("GET", "/v1/migration/buckets")

    // SSE-S3 keys: served by the S3 gateway (the keeper forwards these).
    public static let encryptionShow = ControlRoute<NoBody, EncryptionInfo>("GET", "/v1/encryption")
    public static let encryptionRotate = ControlRoute<NoBody, EncryptionRotation>("POST", "/v1/encryption/rotate")

    /// Routes the gateway serves on its admin socket (forwarded by the keeper).
    public static let gatewayForwarded: [AnyControlRoute] =
        identity + [bucketMoveStart.erased, bucketMoveList.erased, encryptionShow.erased, encryptionRotate.erased]

    /// The identity routes (forwarded by the keeper to the gateway).
    public static let identity: [AnyControlRoute] = [
        tenantCreate.erased, tenantList.erased, tenantDelete.erased, userCreate.erased, userList.erased, userDelete.erased,
        userPassword.erased, keyCreate.erased, keyList.erased, keyDelete.erased,
    ]

    /// Every route: the keeper's router must serve each (a unit test checks it).
    public static let all: [AnyControlRoute] = [
        version.erased, show.erased, argsList.erased, argGet.erased, argSet.erased, argDelete.erased, serviceShow.erased,
        serviceControl.erased, certShow.erased, certGenerate.erased, certImport.erased, dbShow.erased, dbSet.erased,
        migrationShow.erased, migrationStart.erased, s3Show.erased, s3Set.erased, vipShow.erased, vipSet.erased,
        vipDisable.erased, clusterShow.erased, clusterToken.erased, clusterJoin.erased, clusterLeave.erased,
        configExport.erased, configImport.erased, platformsShow.erased, platformEnable.erased, platformSet.erased,
        platformDelete.erased, cloudianShow.erased, cloudianSet.erased, ecsShow.erased, ecsSet.erased,
        directorShow.erased, directorSet.erased, uiShow.erased, uiInstall.erased, uiUninstall.erased,
    ] + gatewayForwarded
}
