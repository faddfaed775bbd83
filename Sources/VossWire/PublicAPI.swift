#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The tenant/provider REST API on the gateway's ports (`/api/v1/…`, docs/rest-api.md): JSON, a session
// token from `POST /api/v1/login` in `Authorization: Bearer TOKEN`. Errors are `APIErrorBody`.
// `/api/v1/openapi.json` describes every route of `PublicRoutes.all`; a test keeps the two equal.

public struct LoginRequest: Codable, Sendable, Equatable {
    public var tenant: String
    public var user: String
    public var password: String
    public init(tenant: String, user: String, password: String) {
        self.tenant = tenant
        self.user = user
        self.password = password
    }
}

/// A cloud director session token (the portal inside the director has it) for a VOSS session.
public struct DirectorLoginRequest: Codable, Sendable, Equatable {
    public var token: String
    public init(token: String) { self.token = token }
}

/// The logged-in user.
public struct MeInfo: Codable, Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var tenantID: String
    public var name: String
    public var role: String
    public init(id: String, tenant: String, tenantID: String, name: String, role: String) {
        self.id = id
        self.tenant = tenant
        self.tenantID = tenantID
        self.name = name
        self.role = role
    }
}

public struct LoginResponse: Codable, Sendable, Equatable {
    public var token: String
    public var expiresAt: Date
    public var me: MeInfo
    public init(token: String, expiresAt: Date, me: MeInfo) {
        self.token = token
        self.expiresAt = expiresAt
        self.me = me
    }
}

public struct PasswordRequest: Codable, Sendable, Equatable {
    public var password: String
    /// The caller's current password, when it changes its own.
    public var current: String?
    /// Skip the password policy.
    public var force: Bool?
    public init(password: String, current: String? = nil, force: Bool? = nil) {
        self.password = password
        self.current = current
        self.force = force
    }
}

public struct UserCreateRequest: Codable, Sendable, Equatable {
    public var name: String
    public var role: String?
    public var password: String?
    public init(name: String, role: String? = nil, password: String? = nil) {
        self.name = name
        self.role = role
        self.password = password
    }
}

public struct BucketInfo: Codable, Sendable, Equatable {
    public var name: String
    public var tenant: String
    public var owner: String
    public var platform: String
    public var region: String
    public var createdAt: Date
    public init(name: String, tenant: String, owner: String, platform: String, region: String, createdAt: Date) {
        self.name = name
        self.tenant = tenant
        self.owner = owner
        self.platform = platform
        self.region = region
        self.createdAt = createdAt
    }
}

public struct BucketList: Codable, Sendable, Equatable {
    public var buckets: [BucketInfo]
    public init(buckets: [BucketInfo]) { self.buckets = buckets }
}

public struct BucketCreateRequest: Codable, Sendable, Equatable {
    public var name: String
    /// A storage platform's name (`GET /api/v1/platforms`); the default platform when absent.
    public var platform: String?
    public init(name: String, platform: String? = nil) {
        self.name = name
        self.platform = platform
    }
}

public struct BucketUsage: Codable, Sendable, Equatable {
    public var bucket: String
    public var objects: Int
    public var bytes: Int64
    public init(bucket: String, objects: Int, bytes: Int64) {
        self.bucket = bucket
        self.objects = objects
        self.bytes = bytes
    }
}

public struct ObjectEntry: Codable, Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String
    public var lastModified: Date
    public init(key: String, size: Int64, etag: String, lastModified: Date) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

public struct ObjectList: Codable, Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    public var delimiter: String?
    public var objects: [ObjectEntry]
    /// With a delimiter: the "folders" under the prefix.
    public var prefixes: [String]
    /// Pass as `after` for the next page; absent on the last page.
    public var next: String?
    public init(bucket: String, prefix: String, delimiter: String?, objects: [ObjectEntry], prefixes: [String], next: String?) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.objects = objects
        self.prefixes = prefixes
        self.next = next
    }
}

public struct ObjectStored: Codable, Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var etag: String
    public init(bucket: String, key: String, etag: String) {
        self.bucket = bucket
        self.key = key
        self.etag = etag
    }
}

/// A tenant's storage quota and what it stores (bytes; no `bytes`: no quota).
public struct QuotaInfo: Codable, Sendable, Equatable {
    public var tenant: String
    public var bytes: Int64?
    public var used: Int64
    public init(tenant: String, bytes: Int64?, used: Int64) {
        self.tenant = tenant
        self.bytes = bytes
        self.used = used
    }
}

public struct QuotaRequest: Codable, Sendable, Equatable {
    /// The quota in bytes; absent or null removes it.
    public var bytes: Int64?
    public init(bytes: Int64?) { self.bytes = bytes }
}

/// A bucket's tags (S3 bucket tagging: at most 50; keys 1-128, values 0-256 characters).
public struct TagSet: Codable, Sendable, Equatable {
    public var tags: [String: String]
    public init(tags: [String: String]) { self.tags = tags }
}

public struct UploadStartRequest: Codable, Sendable, Equatable {
    public var key: String
    public init(key: String) { self.key = key }
}

public struct UploadedPart: Codable, Sendable, Equatable {
    public var partNumber: Int
    public var etag: String
    public var size: Int64?
    public init(partNumber: Int, etag: String, size: Int64? = nil) {
        self.partNumber = partNumber
        self.etag = etag
        self.size = size
    }
}

/// A multipart upload and the parts it holds so far (what a resumed upload need not send again).
public struct UploadInfo: Codable, Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var uploadId: String
    public var parts: [UploadedPart]
    public init(bucket: String, key: String, uploadId: String, parts: [UploadedPart]) {
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
        self.parts = parts
    }
}

public struct UploadCompleteRequest: Codable, Sendable, Equatable {
    public var parts: [UploadedPart]
    public init(parts: [UploadedPart]) { self.parts = parts }
}

public struct ShareRequest: Codable, Sendable, Equatable {
    public var key: String
    /// Seconds, 1 to 604800 (seven days, S3's limit for a presigned URL).
    public var expiresIn: Int
    public init(key: String, expiresIn: Int) {
        self.key = key
        self.expiresIn = expiresIn
    }
}

public struct ShareLink: Codable, Sendable, Equatable {
    public var url: String
    public var expiresAt: Date
    /// The access key that signed it (deleting the key ends the link).
    public var accessKey: String
    public init(url: String, expiresAt: Date, accessKey: String) {
        self.url = url
        self.expiresAt = expiresAt
        self.accessKey = accessKey
    }
}

public struct PlatformEntry: Codable, Sendable, Equatable {
    public var name: String
    public var isDefault: Bool
    /// For provider admins: the buckets on it, their objects and bytes.
    public var buckets: Int?
    public var objects: Int?
    public var bytes: Int64?
    public init(name: String, isDefault: Bool, buckets: Int? = nil, objects: Int? = nil, bytes: Int64? = nil) {
        self.name = name
        self.isDefault = isDefault
        self.buckets = buckets
        self.objects = objects
        self.bytes = bytes
    }
}

public struct PlatformList: Codable, Sendable, Equatable {
    public var platforms: [PlatformEntry]
    public init(platforms: [PlatformEntry]) { self.platforms = platforms }
}

public struct TenantUsage: Codable, Sendable, Equatable {
    public var tenant: String
    public var buckets: Int
    public var objects: Int
    public var bytes: Int64
    public init(tenant: String, buckets: Int, objects: Int, bytes: Int64) {
        self.tenant = tenant
        self.buckets = buckets
        self.objects = objects
        self.bytes = bytes
    }
}

public struct UsageReport: Codable, Sendable, Equatable {
    public var tenants: [TenantUsage]
    public init(tenants: [TenantUsage]) { self.tenants = tenants }
}

public struct PortalStrings: Codable, Sendable, Equatable {
    /// The locale the strings are in (the requested one, or `en` when the service has none for it).
    public var locale: String
    public var messages: [String: String]
    /// The languages the user can switch to: locale → its own name.
    public var languages: [String: String]
    public init(locale: String, messages: [String: String], languages: [String: String]) {
        self.locale = locale
        self.messages = messages
        self.languages = languages
    }
}

/// Every route of the REST API, with who may call it (enforced by the gateway, listed in the OpenAPI
/// document): `public` (no token), `user` (any logged-in user; the handler narrows to what it owns),
/// `tenantAdmin` (the tenant's admins and provider admins), `provider` (provider admins only).
public enum PublicRoutes {
    public static let prefix = "/api/v1"
    public static let openapi = ControlRoute<NoBody, NoBody>("GET", "/api/v1/openapi.json")
    /// The portal's strings in a locale (from the i18n service; English for what it lacks).
    public static let i18n = ControlRoute<NoBody, PortalStrings>("GET", "/api/v1/i18n/{locale}")
    public static let login = ControlRoute<LoginRequest, LoginResponse>("POST", "/api/v1/login")
    public static let directorLogin = ControlRoute<DirectorLoginRequest, LoginResponse>("POST", "/api/v1/login/director")
    public static let logout = ControlRoute<NoBody, NoBody>("POST", "/api/v1/logout")
    public static let me = ControlRoute<NoBody, MeInfo>("GET", "/api/v1/me")
    public static let myPassword = ControlRoute<PasswordRequest, MeInfo>("PUT", "/api/v1/me/password")

    public static let tenantList = ControlRoute<NoBody, TenantList>("GET", "/api/v1/tenants")
    public static let tenantCreate = ControlRoute<NameRequest, TenantInfo>("POST", "/api/v1/tenants")
    public static let tenantDelete = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/tenants/{tenant}")
    public static let quotaShow = ControlRoute<NoBody, QuotaInfo>("GET", "/api/v1/tenants/{tenant}/quota")
    public static let quotaSet = ControlRoute<QuotaRequest, QuotaInfo>("PUT", "/api/v1/tenants/{tenant}/quota")
    public static let userList = ControlRoute<NoBody, UserList>("GET", "/api/v1/tenants/{tenant}/users")
    public static let userCreate = ControlRoute<UserCreateRequest, UserInfo>("POST", "/api/v1/tenants/{tenant}/users")
    public static let userDelete = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/tenants/{tenant}/users/{user}")
    public static let userPassword = ControlRoute<PasswordRequest, UserInfo>("PUT", "/api/v1/tenants/{tenant}/users/{user}/password")
    public static let keyList = ControlRoute<NoBody, KeyList>("GET", "/api/v1/tenants/{tenant}/users/{user}/keys")
    public static let keyCreate = ControlRoute<NoBody, KeyInfo>("POST", "/api/v1/tenants/{tenant}/users/{user}/keys")
    public static let keyDelete = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/keys/{key}")

    public static let platforms = ControlRoute<NoBody, PlatformList>("GET", "/api/v1/platforms")
    public static let usage = ControlRoute<NoBody, UsageReport>("GET", "/api/v1/usage")
    public static let bucketList = ControlRoute<NoBody, BucketList>("GET", "/api/v1/buckets")
    public static let bucketCreate = ControlRoute<BucketCreateRequest, BucketInfo>("POST", "/api/v1/buckets")
    public static let bucketDelete = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/buckets/{bucket}")
    public static let bucketUsage = ControlRoute<NoBody, BucketUsage>("GET", "/api/v1/buckets/{bucket}/usage")
    public static let objectList = ControlRoute<NoBody, ObjectList>("GET", "/api/v1/buckets/{bucket}/objects")
    public static let objectGet = ControlRoute<NoBody, NoBody>("GET", "/api/v1/buckets/{bucket}/objects/{key}")
    public static let objectPut = ControlRoute<NoBody, ObjectStored>("PUT", "/api/v1/buckets/{bucket}/objects/{key}")
    public static let objectDelete = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/buckets/{bucket}/objects/{key}")
    public static let share = ControlRoute<ShareRequest, ShareLink>("POST", "/api/v1/buckets/{bucket}/share")
    public static let bucketTags = ControlRoute<NoBody, TagSet>("GET", "/api/v1/buckets/{bucket}/tags")
    public static let bucketTagsSet = ControlRoute<TagSet, TagSet>("PUT", "/api/v1/buckets/{bucket}/tags")
    // Multipart uploads (big files from the portal, resumable part by part).
    public static let uploadStart = ControlRoute<UploadStartRequest, UploadInfo>("POST", "/api/v1/buckets/{bucket}/uploads")
    public static let uploadParts = ControlRoute<NoBody, UploadInfo>("GET", "/api/v1/buckets/{bucket}/uploads/{upload}")
    public static let uploadPart = ControlRoute<NoBody, UploadedPart>("PUT", "/api/v1/buckets/{bucket}/uploads/{upload}/parts/{part}")
    public static let uploadComplete = ControlRoute<UploadCompleteRequest, ObjectStored>("POST", "/api/v1/buckets/{bucket}/uploads/{upload}/complete")
    public static let uploadAbort = ControlRoute<NoBody, Deleted>("DELETE", "/api/v1/buckets/{bucket}/uploads/{upload}")

    public static let all: [AnyControlRoute] = [
        openapi.erased, i18n.erased, login.erased, directorLogin.erased, logout.erased, me.erased, myPassword.erased,
        tenantList.erased, tenantCreate.erased, tenantDelete.erased, quotaShow.erased, quotaSet.erased, userList.erased, userCreate.erased, userDelete.erased,
        userPassword.erased, keyList.erased, keyCreate.erased, keyDelete.erased,
        platforms.erased, usage.erased, bucketList.erased, bucketCreate.erased, bucketDelete.erased, bucketUsage.erased,
        objectList.erased, objectGet.erased, objectPut.erased, objectDelete.erased, share.erased,
        bucketTags.erased, bucketTagsSet.erased, uploadStart.erased, uploadParts.erased, uploadPart.erased, uploadComplete.erased, uploadAbort.erased,
    ]
}
