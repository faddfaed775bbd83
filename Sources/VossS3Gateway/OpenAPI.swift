import Foundation
import VossWire

/// The OpenAPI 3.0 document of the REST API, served at `/api/v1/openapi.json`. Its paths come from
/// `PublicRoutes.all` and the table below; `OpenAPITests` fails when a route has no entry here or a
/// schema it names is missing, and the end-to-end role matrix checks real answers against it.
enum OpenAPI {
    struct Op {
        var summary: String
        /// Who may call it (the handler narrows further, e.g. to one's own tenant).
        var access: String
        var request: String?
        var response: String?
        var status = 200
        var query: [(String, String)] = []
    }

    static let ops: [String: Op] = [
        "GET /api/v1/openapi.json": Op(summary: "This document", access: "public"),
        "GET /api/v1/i18n/{locale}": Op(
            summary: "The portal's strings in a locale, English for what the locale lacks", access: "public", response: "PortalStrings"),
        "POST /api/v1/login": Op(summary: "Log in with a password; answers a session token", access: "public", request: "LoginRequest", response: "LoginResponse"),
        "POST /api/v1/login/director": Op(
            summary: "Log in with a cloud director session token (its organization is the tenant, its rights give the role)", access: "public",
            request: "DirectorLoginRequest", response: "LoginResponse"),
        "POST /api/v1/logout": Op(summary: "End this session", access: "user"),
        "GET /api/v1/me": Op(summary: "The logged-in user", access: "user", response: "Me"),
        "PUT /api/v1/me/password": Op(summary: "Change one's own password (needs the current one)", access: "user", request: "PasswordRequest", response: "Me"),
        "GET /api/v1/tenants": Op(summary: "Tenants (a provider admin sees all; others their own)", access: "user", response: "TenantList"),
        "POST /api/v1/tenants": Op(summary: "Create a tenant", access: "provider-admin", request: "NameRequest", response: "Tenant", status: 201),
        "DELETE /api/v1/tenants/{tenant}": Op(summary: "Delete an empty tenant", access: "provider-admin", response: "Deleted"),
        "GET /api/v1/tenants/{tenant}/quota": Op(summary: "A tenant's storage quota and the bytes it stores", access: "tenant-admin", response: "Quota"),
        "PUT /api/v1/tenants/{tenant}/quota": Op(
            summary: "Set or remove (null) a tenant's storage quota in bytes; writes over it get 403 QuotaExceeded", access: "provider-admin",
            request: "QuotaRequest", response: "Quota"),
        "GET /api/v1/tenants/{tenant}/users": Op(summary: "A tenant's users", access: "tenant-admin", response: "UserList"),
        "POST /api/v1/tenants/{tenant}/users": Op(
            summary: "Create a user (only a provider admin creates provider admins)", access: "tenant-admin", request: "UserCreateRequest", response: "User",
            status: 201),
        "DELETE /api/v1/tenants/{tenant}/users/{user}": Op(summary: "Delete a user, its keys and sessions", access: "tenant-admin", response: "Deleted"),
        "PUT /api/v1/tenants/{tenant}/users/{user}/password": Op(
            summary: "Set another user's password (ends its sessions)", access: "tenant-admin", request: "PasswordRequest", response: "User"),
        "GET /api/v1/tenants/{tenant}/users/{user}/keys": Op(summary: "A user's access keys (no secrets)", access: "user", response: "KeyList"),
        "POST /api/v1/tenants/{tenant}/users/{user}/keys": Op(
            summary: "Create an access key; the secret is in this answer only", access: "user", response: "Key", status: 201),
        "DELETE /api/v1/keys/{key}": Op(summary: "Delete an access key", access: "user", response: "Deleted"),
        "GET /api/v1/platforms": Op(summary: "Storage platforms a bucket can be created on", access: "user", response: "PlatformList"),
        "GET /api/v1/usage": Op(summary: "Buckets, objects and bytes per tenant", access: "tenant-admin", response: "UsageReport"),
        "GET /api/v1/buckets": Op(
            summary: "Buckets the caller may see", access: "user", response: "BucketList", query: [("tenant", "Only this tenant's (provider admins)")]),
        "POST /api/v1/buckets": Op(summary: "Create a bucket on a platform", access: "user", request: "BucketCreateRequest", response: "Bucket", status: 201),
        "DELETE /api/v1/buckets/{bucket}": Op(summary: "Delete an empty bucket", access: "user", response: "Deleted"),
        "GET /api/v1/buckets/{bucket}/usage": Op(summary: "Objects and bytes in a bucket", access: "user", response: "BucketUsage"),
        "GET /api/v1/buckets/{bucket}/objects": Op(
            summary: "Browse objects", access: "user", response: "ObjectList",
            query: [
                ("prefix", "Only keys starting with this"), ("delimiter", "Group keys into folders at this character"),
                ("after", "Continue after this key (the previous page's `next`)"), ("limit", "At most this many entries (1-1000)"),
            ]),
        "GET /api/v1/buckets/{bucket}/objects/{key}": Op(summary: "Download an object (the key percent-encoded as one segment)", access: "user"),
        "PUT /api/v1/buckets/{bucket}/objects/{key}": Op(summary: "Upload an object (the body is its bytes)", access: "user", response: "ObjectStored", status: 201),
        "DELETE /api/v1/buckets/{bucket}/objects/{key}": Op(summary: "Delete an object", access: "user", response: "Deleted"),
        "GET /api/v1/buckets/{bucket}/tags": Op(summary: "A bucket's tags", access: "user", response: "TagSet"),
        "PUT /api/v1/buckets/{bucket}/tags": Op(
            summary: "Replace a bucket's tags (an empty set removes them)", access: "user", request: "TagSet", response: "TagSet"),
        "POST /api/v1/buckets/{bucket}/uploads": Op(
            summary: "Start a multipart upload of a key", access: "user", request: "UploadStartRequest", response: "UploadInfo", status: 201),
        "GET /api/v1/buckets/{bucket}/uploads/{upload}": Op(summary: "An upload and the parts it holds (to resume)", access: "user", response: "UploadInfo"),
        "PUT /api/v1/buckets/{bucket}/uploads/{upload}/parts/{part}": Op(
            summary: "Upload one part (1-10000, the body is its bytes; every part but the last at least 5 MiB)", access: "user", response: "UploadedPart"),
        "POST /api/v1/buckets/{bucket}/uploads/{upload}/complete": Op(
            summary: "Assemble the parts into the object", access: "user", request: "UploadCompleteRequest", response: "ObjectStored", status: 201),
        "DELETE /api/v1/buckets/{bucket}/uploads/{upload}": Op(summary: "Abandon an upload and its parts", access: "user", response: "Deleted"),
        "POST /api/v1/buckets/{bucket}/share": Op(
            summary: "A presigned GET URL for an object, signed with one of the caller's access keys", access: "user", request: "ShareRequest",
            response: "ShareLink", status: 201),
    ]

    static func string(_ description: String? = nil) -> [String: Any] {
        var s: [String: Any] = ["type": "string"]
        if let description { s["description"] = description }
        return s
    }
    static var dateTime: [String: Any] { ["type": "string", "format": "date-time"] }
    static var integer: [String: Any] { ["type": "integer", "format": "int64"] }
    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
    static func object(_ props: [String: [String: Any]], optional: [String] = []) -> [String: Any] {
        ["type": "object", "properties": props, "required": props.keys.filter { !optional.contains($0) }.sorted()]
    }

    static var message: [String: Any] { object(["key": string(), "args": array(string())]) }

    static var schemas: [String: [String: Any]] {
        [
        "Error": object([
            "error": object(
                ["code": string("Stable machine code"), "message": message, "text": string("English text"), "issues": array(["type": "object"]), "hint": message],
                optional: ["issues", "hint"])
        ]),
        "PortalStrings": object([
            "locale": string(), "messages": ["type": "object", "additionalProperties": ["type": "string"]],
            "languages": ["type": "object", "additionalProperties": ["type": "string"]],
        ]),
        "DirectorLoginRequest": object(["token": string("The director's access token (X-VMWARE-VCLOUD-ACCESS-TOKEN)")]),
        "LoginRequest": object(["tenant": string(), "user": string(), "password": string()]),
        "LoginResponse": object(["token": string("Send as Authorization: Bearer TOKEN"), "expiresAt": dateTime, "me": ref("Me")]),
        "Me": object(["id": string(), "tenant": string(), "tenantID": string(), "name": string(), "role": role]),
        "PasswordRequest": object(
            ["password": string(), "current": string("The current password (own password only)"), "force": ["type": "boolean"]],
            optional: ["current", "force"]),
        "NameRequest": object(["name": string()]),
        "Tenant": object(["id": string(), "name": string(), "createdAt": dateTime]),
        "TenantList": object(["tenants": array(ref("Tenant"))]),
        "UserCreateRequest": object(["name": string(), "role": role, "password": string()], optional: ["role", "password"]),
        "User": object(["id": string(), "tenant": string(), "name": string(), "role": role, "createdAt": dateTime]),
        "UserList": object(["users": array(ref("User"))]),
        "Key": object(
            ["accessKey": string(), "secret": string("Only when created"), "tenant": string(), "user": string(), "createdAt": dateTime],
            optional: ["secret"]),
        "KeyList": object(["keys": array(ref("Key"))]),
        "Deleted": object(["deleted": string()]),
        "PlatformList": object([
            "platforms": array(
                object(
                    ["name": string(), "isDefault": ["type": "boolean"], "buckets": integer, "objects": integer, "bytes": integer],
                    optional: ["buckets", "objects", "bytes"]))
        ]),
        "UsageReport": object(["tenants": array(object(["tenant": string(), "buckets": integer, "objects": integer, "bytes": integer]))]),
        "Bucket": object([
            "name": string(), "tenant": string(), "owner": string("The creating user's id"), "platform": string(), "region": string(), "createdAt": dateTime,
        ]),
        "BucketList": object(["buckets": array(ref("Bucket"))]),
        "BucketCreateRequest": object(["name": string(), "platform": string("Default platform when absent")], optional: ["platform"]),
        "BucketUsage": object(["bucket": string(), "objects": integer, "bytes": integer]),
        "ObjectList": object(
            [
                "bucket": string(), "prefix": string(), "delimiter": string(), "prefixes": array(string()), "next": string("Absent on the last page"),
                "objects": array(object(["key": string(), "size": integer, "etag": string(), "lastModified": dateTime])),
            ], optional: ["delimiter", "next"]),
        "ObjectStored": object(["bucket": string(), "key": string(), "etag": string()]),
        "UploadStartRequest": object(["key": string()]),
        "Quota": object(["tenant": string(), "bytes": integer, "used": integer], optional: ["bytes"]),
        "QuotaRequest": object(["bytes": integer], optional: ["bytes"]),
        "TagSet": object(["tags": ["type": "object", "additionalProperties": ["type": "string"]]]),
        "UploadedPart": object(["partNumber": ["type": "integer"], "etag": string(), "size": integer], optional: ["size"]),
        "UploadInfo": object(["bucket": string(), "key": string(), "uploadId": string(), "parts": array(ref("UploadedPart"))]),
        "UploadCompleteRequest": object(["parts": array(ref("UploadedPart"))]),
        "ShareRequest": object(["key": string(), "expiresIn": ["type": "integer", "minimum": 1, "maximum": 604_800]]),
        "ShareLink": object(["url": string(), "expiresAt": dateTime, "accessKey": string()]),
        ]
    }

    static var role: [String: Any] { ["type": "string", "enum": ["tenant-user", "tenant-admin", "provider-admin"]] }

    static func operation(_ route: AnyControlRoute, _ op: Op) -> [String: Any] {
        var o: [String: Any] = ["summary": op.summary, "x-voss-access": op.access]
        var params: [[String: Any]] = route.template.split(separator: "/").filter { $0.hasPrefix("{") }.map { seg in
            ["name": String(seg.dropFirst().dropLast()), "in": "path", "required": true, "schema": string()]
        }
        params += op.query.map { ["name": $0.0, "in": "query", "required": false, "description": $0.1, "schema": string()] }
        if !params.isEmpty { o["parameters"] = params }
        if let r = op.request { o["requestBody"] = ["required": true, "content": ["application/json": ["schema": ref(r)]]] }
        var ok: [String: Any] = ["description": "Success"]
        if let r = op.response { ok["content"] = ["application/json": ["schema": ref(r)]] }
        var responses: [String: Any] = [String(op.status): ok]
        let error: [String: Any] = ["description": "Failure", "content": ["application/json": ["schema": ref("Error")]]]
        responses["default"] = error
        o["responses"] = responses
        if op.access == "public" { o["security"] = [[String: [String]]]() }
        return o
    }

    static let document: String = {
        var paths: [String: [String: Any]] = [:]
        for r in PublicRoutes.all {
            guard let op = ops["\(r.method) \(r.template)"] else { continue }
            paths[r.template, default: [:]][r.method.lowercased()] = operation(r, op)
        }
        let doc: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "VOSS REST API", "version": "1", "description": "Tenants, users, access keys, buckets and objects (docs/rest-api.md)."],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": ["session": ["type": "http", "scheme": "bearer", "description": "The token from POST /api/v1/login"]],
            ],
            "security": [["session": [String]()]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }()
}
