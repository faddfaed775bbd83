import VossBase
/// Which bucket and key a request addresses.
public struct S3Target: Equatable, Sendable {
    public var bucket: String?
    public var key: String?
    public var virtualHosted: Bool

    public init(bucket: String?, key: String?, virtualHosted: Bool) {
        self.bucket = bucket
        self.key = key
        self.virtualHosted = virtualHosted
    }

    /// `/bucket/key` for error bodies.
    public var resource: String { "/" + [bucket, key].compactMap { $0 }.joined(separator: "/") }
}

public enum S3Operation: String, Equatable, Sendable {
    case listBuckets = "ListBuckets"
    case createBucket = "CreateBucket"
    case deleteBucket = "DeleteBucket"
    case headBucket = "HeadBucket"
    case getBucketLocation = "GetBucketLocation"
    case listObjects = "ListObjects"
    case listObjectsV2 = "ListObjectsV2"
    case listObjectVersions = "ListObjectVersions"
    case listMultipartUploads = "ListMultipartUploads"
    case getBucketTagging = "GetBucketTagging"
    case putBucketTagging = "PutBucketTagging"
    case deleteBucketTagging = "DeleteBucketTagging"
    case getBucketAcl = "GetBucketAcl"
    case putBucketAcl = "PutBucketAcl"
    case getBucketVersioning = "GetBucketVersioning"
    case putBucketVersioning = "PutBucketVersioning"
    case getBucketPolicy = "GetBucketPolicy"
    case putBucketPolicy = "PutBucketPolicy"
    case deleteBucketPolicy = "DeleteBucketPolicy"
    case getBucketPolicyStatus = "GetBucketPolicyStatus"
    case getBucketCors = "GetBucketCors"
    case putBucketCors = "PutBucketCors"
    case deleteBucketCors = "DeleteBucketCors"
    /// A CORS preflight (`OPTIONS`): anonymous, answered from the bucket's CORS rules.
    case preflight = "PreflightRequest"
    case getBucketLifecycle = "GetBucketLifecycleConfiguration"
    case putBucketLifecycle = "PutBucketLifecycleConfiguration"
    case deleteBucketLifecycle = "DeleteBucketLifecycle"
    case getBucketEncryption = "GetBucketEncryption"
    case putBucketEncryption = "PutBucketEncryption"
    case deleteBucketEncryption = "DeleteBucketEncryption"
    case deleteObjects = "DeleteObjects"
    case putObject = "PutObject"
    case copyObject = "CopyObject"
    case getObject = "GetObject"
    case headObject = "HeadObject"
    case deleteObject = "DeleteObject"
    case createMultipartUpload = "CreateMultipartUpload"
    case uploadPart = "UploadPart"
    case uploadPartCopy = "UploadPartCopy"
    case completeMultipartUpload = "CompleteMultipartUpload"
    case abortMultipartUpload = "AbortMultipartUpload"
    case listParts = "ListParts"
    case getObjectTagging = "GetObjectTagging"
    case putObjectTagging = "PutObjectTagging"
    case deleteObjectTagging = "DeleteObjectTagging"
    case getObjectAcl = "GetObjectAcl"
    case putObjectAcl = "PutObjectAcl"
    /// POST object: a browser form upload (authenticated by the form's signed policy).
    case postObject = "PostObject"
    case getObjectAttributes = "GetObjectAttributes"
    case getBucketOwnershipControls = "GetBucketOwnershipControls"
    case putBucketOwnershipControls = "PutBucketOwnershipControls"
    case deleteBucketOwnershipControls = "DeleteBucketOwnershipControls"
    case getObjectLockConfiguration = "GetObjectLockConfiguration"
    case putObjectLockConfiguration = "PutObjectLockConfiguration"
    case getObjectRetention = "GetObjectRetention"
    case putObjectRetention = "PutObjectRetention"
    case getObjectLegalHold = "GetObjectLegalHold"
    case putObjectLegalHold = "PutObjectLegalHold"

    /// Operations that read object data or metadata only.
    public var isRead: Bool {
        switch self {
        case .listBuckets, .headBucket, .getBucketLocation, .listObjects, .listObjectsV2, .listObjectVersions,
            .listMultipartUploads, .getBucketTagging, .getBucketAcl, .getBucketVersioning, .getBucketPolicy,
            .getBucketCors, .preflight, .getBucketPolicyStatus, .getBucketLifecycle, .getBucketEncryption, .getObject, .headObject, .listParts,
            .getObjectTagging, .getObjectAcl, .getObjectAttributes, .getBucketOwnershipControls, .getObjectLockConfiguration, .getObjectRetention, .getObjectLegalHold:
            true
        default: false
        }
    }

    /// The IAM action a bucket policy names for this operation (`versioned`: the request names a
    /// version, which S3 authorizes as `…Version`).
    public func policyAction(versioned: Bool) -> String {
        switch self {
        case .listBuckets: "s3:ListAllMyBuckets"
        case .createBucket: "s3:CreateBucket"
        case .deleteBucket: "s3:DeleteBucket"
        case .headBucket, .listObjects, .listObjectsV2: "s3:ListBucket"
        case .getBucketLocation: "s3:GetBucketLocation"
        case .listObjectVersions: "s3:ListBucketVersions"
        case .listMultipartUploads: "s3:ListBucketMultipartUploads"
        case .getBucketTagging: "s3:GetBucketTagging"
        case .putBucketTagging, .deleteBucketTagging: "s3:PutBucketTagging"
        case .getBucketAcl: "s3:GetBucketAcl"
        case .putBucketAcl: "s3:PutBucketAcl"
        case .getBucketVersioning: "s3:GetBucketVersioning"
        case .putBucketVersioning: "s3:PutBucketVersioning"
        case .getBucketPolicy: "s3:GetBucketPolicy"
        case .putBucketPolicy: "s3:PutBucketPolicy"
        case .deleteBucketPolicy: "s3:DeleteBucketPolicy"
        case .getBucketPolicyStatus: "s3:GetBucketPolicyStatus"
        case .getBucketCors, .preflight: "s3:GetBucketCORS"
        case .putBucketCors, .deleteBucketCors: "s3:PutBucketCORS"
        case .getBucketLifecycle: "s3:GetLifecycleConfiguration"
        case .putBucketLifecycle, .deleteBucketLifecycle: "s3:PutLifecycleConfiguration"
        case .getBucketEncryption: "s3:GetEncryptionConfiguration"
        case .putBucketEncryption, .deleteBucketEncryption: "s3:PutEncryptionConfiguration"
        case .deleteObjects, .deleteObject: versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject"
        case .putObject, .postObject, .copyObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload: "s3:PutObject"
        case .getObject, .headObject: versioned ? "s3:GetObjectVersion" : "s3:GetObject"
        case .abortMultipartUpload: "s3:AbortMultipartUpload"
        case .listParts: "s3:ListMultipartUploadParts"
        case .getObjectTagging: versioned ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging"
        case .putObjectTagging: versioned ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging"
        case .deleteObjectTagging: versioned ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging"
        case .getObjectAcl: versioned ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl"
        case .putObjectAcl: versioned ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl"
        case .getBucketOwnershipControls: "s3:GetBucketOwnershipControls"
        case .putBucketOwnershipControls, .deleteBucketOwnershipControls: "s3:PutBucketOwnershipControls"
        case .getObjectAttributes: versioned ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes"
        case .getObjectLockConfiguration: "s3:GetBucketObjectLockConfiguration"
        case .putObjectLockConfiguration: "s3:PutBucketObjectLockConfiguration"
        case .getObjectRetention: "s3:GetObjectRetention"
        case .putObjectRetention: "s3:PutObjectRetention"
        case .getObjectLegalHold: "s3:GetObjectLegalHold"
        case .putObjectLegalHold: "s3:PutObjectLegalHold"
        }
    }

    /// Operations whose body is object data (streamed); the others have small XML bodies or none.
    public var streamsBody: Bool { self == .putObject || self == .uploadPart || self == .postObject }
}

public enum S3Router {
    /// The path prefix of the REST-style path (`/api/v1/s3/BUCKET/KEY`).
    public static let apiPrefix = "/api/v1/s3"

    /// Splits host and path into bucket and key. `serviceHost` is the configured S3 host name
    /// (`s3.example.com`): `BUCKET.s3.example.com` addresses BUCKET (virtual-hosted style).
    public static func target(host: String?, rawPath: String, serviceHost: String?) -> Result<S3Target, S3Error> {
        var hostName = (host ?? "").lowercased()
        if hostName.utf8.first == UInt8(ascii: "[") {
            hostName = ""  // an IPv6 literal is never virtual-hosted
        } else if let colon = hostName.utf8.lastIndex(of: UInt8(ascii: ":")) {
            hostName = String(hostName[..<colon])
        }
        guard let decoded = decodePath(rawPath) else {
            return .failure(S3Error.invalidArgument("The request path is not valid percent-encoding."))
        }
        // No key or bucket may hold U+0000 (`%00`): every operation is refused, not only PUT.
        guard !decoded.utf8.contains(0) else {
            return .failure(S3Error.invalidArgument("The object key must not contain the character U+0000."))
        }
        var path = decoded
        if let service = serviceHost?.lowercased(), !service.isEmpty, hostName.hasSuffix("." + service) {
            let bucket = String(hostName.dropLast(service.count + 1))
            let key = path.utf8.count > 1 ? String(path.dropFirst()) : nil
            return .success(S3Target(bucket: bucket, key: key, virtualHosted: true))
        }
        if path == apiPrefix || path.hasPrefix(apiPrefix + "/") {
            path = String(path.dropFirst(apiPrefix.count))
        }
        guard path.hasPrefix("/") else { return .failure(S3Error.invalidArgument("The request path must start with /.")) }
        let rest = path.dropFirst()
        if rest.isEmpty { return .success(S3Target(bucket: nil, key: nil, virtualHosted: false)) }
        if let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let bucket = String(rest[..<slash])
            let key = String(rest[rest.utf8.index(after: slash)...])
            return .success(S3Target(bucket: bucket, key: key.isEmpty ? nil : key, virtualHosted: false))
        }
        return .success(S3Target(bucket: String(rest), key: nil, virtualHosted: false))
    }

    static func decodePath(_ raw: String) -> String? { Percent.decodeText(raw) }

    /// Bucket sub-resources VOSS does not implement (answered NotImplemented, as S3-compatible stores do).
    static let unsupportedSubresources: Set<String> = [
        "website", "logging", "notification", "replication", "requestPayment",
        "publicAccessBlock", "accelerate", "analytics", "intelligent-tiering", "inventory", "metrics", "torrent", "restore", "select",
    ]

    /// The S3 operation a request performs.
    public static func operation(
        method: String, target: S3Target, query: [String: String], headers: (String) -> String?
    ) -> Result<S3Operation, S3Error> {
        if let bad = query.keys.first(where: { unsupportedSubresources.contains($0) }) {
            return .failure(S3Error("NotImplemented", message: "The ?\(bad) sub-resource is not implemented by VOSS."))
        }
        guard let bucket = target.bucket, !bucket.isEmpty else {
            if method == "GET" { return .success(.listBuckets) }
            return .failure(S3Error("MethodNotAllowed"))
        }
        if method == "OPTIONS" { return .success(.preflight) }
        _ = bucket
        let copySource = headers("x-amz-copy-source") != nil
        if target.key == nil {
            switch method {
            case "GET":
                if query["location"] != nil { return .success(.getBucketLocation) }
                if query["tagging"] != nil { return .success(.getBucketTagging) }
                if query["acl"] != nil { return .success(.getBucketAcl) }
                if query["versioning"] != nil { return .success(.getBucketVersioning) }
                if query["policy"] != nil { return .success(.getBucketPolicy) }
                if query["policyStatus"] != nil { return .success(.getBucketPolicyStatus) }
                if query["object-lock"] != nil { return .success(.getObjectLockConfiguration) }
                if query["ownershipControls"] != nil { return .success(.getBucketOwnershipControls) }
                if query["cors"] != nil { return .success(.getBucketCors) }
                if query["lifecycle"] != nil { return .success(.getBucketLifecycle) }
                if query["encryption"] != nil { return .success(.getBucketEncryption) }
                if query["uploads"] != nil { return .success(.listMultipartUploads) }
                if query["versions"] != nil { return .success(.listObjectVersions) }
                if query["list-type"] == "2" { return .success(.listObjectsV2) }
                return .success(.listObjects)
            case "HEAD":
                return .success(.headBucket)
            case "PUT":
                if query["tagging"] != nil { return .success(.putBucketTagging) }
                if query["acl"] != nil { return .success(.putBucketAcl) }
                if query["versioning"] != nil { return .success(.putBucketVersioning) }
                if query["cors"] != nil { return .success(.putBucketCors) }
                if query["policy"] != nil { return .success(.putBucketPolicy) }
                if query["object-lock"] != nil { return .success(.putObjectLockConfiguration) }
                if query["lifecycle"] != nil { return .success(.putBucketLifecycle) }
                if query["ownershipControls"] != nil { return .success(.putBucketOwnershipControls) }
                if query["encryption"] != nil { return .success(.putBucketEncryption) }
                return .success(.createBucket)
            case "DELETE":
                if query["tagging"] != nil { return .success(.deleteBucketTagging) }
                if query["cors"] != nil { return .success(.deleteBucketCors) }
                if query["policy"] != nil { return .success(.deleteBucketPolicy) }
                if query["lifecycle"] != nil { return .success(.deleteBucketLifecycle) }
                if query["ownershipControls"] != nil { return .success(.deleteBucketOwnershipControls) }
                if query["encryption"] != nil { return .success(.deleteBucketEncryption) }
                return .success(.deleteBucket)
            case "POST":
                if query["delete"] != nil { return .success(.deleteObjects) }
                return .success(.postObject)
            default:
                return .failure(S3Error("MethodNotAllowed"))
            }
        }
        switch method {
        case "GET":
            if query["uploadId"] != nil { return .success(.listParts) }
            if query["tagging"] != nil { return .success(.getObjectTagging) }
            if query["acl"] != nil { return .success(.getObjectAcl) }
            if query["retention"] != nil { return .success(.getObjectRetention) }
            if query["attributes"] != nil { return .success(.getObjectAttributes) }
            if query["legal-hold"] != nil { return .success(.getObjectLegalHold) }
            return .success(.getObject)
        case "HEAD":
            return .success(.headObject)
        case "PUT":
            if query["partNumber"] != nil || query["uploadId"] != nil {
                guard query["partNumber"] != nil, query["uploadId"] != nil else {
                    return .failure(S3Error.invalidRequest("UploadPart needs both partNumber and uploadId."))
                }
                return .success(copySource ? .uploadPartCopy : .uploadPart)
            }
            if query["tagging"] != nil { return .success(.putObjectTagging) }
            if query["acl"] != nil { return .success(.putObjectAcl) }
            if query["retention"] != nil { return .success(.putObjectRetention) }
            if query["legal-hold"] != nil { return .success(.putObjectLegalHold) }
            return .success(copySource ? .copyObject : .putObject)
        case "DELETE":
            if query["uploadId"] != nil { return .success(.abortMultipartUpload) }
            if query["tagging"] != nil { return .success(.deleteObjectTagging) }
            return .success(.deleteObject)
        case "POST":
            if query["uploads"] != nil { return .success(.createMultipartUpload) }
            if query["uploadId"] != nil { return .success(.completeMultipartUpload) }
            return .failure(S3Error("NotImplemented"))
        default:
            return .failure(S3Error("MethodNotAllowed"))
        }
    }
}

/// S3's naming rules.
public enum S3Names {
    public static let reservedBuckets: Set<String> = ["api"]
    public static let maxKeyBytes = 1024

    /// `nil` when `name` is a valid bucket name, otherwise why not.
    public static func bucketProblem(_ name: String) -> String? {
        let u = Array(name.utf8)
        guard (3...63).contains(u.count) else { return "Bucket names must be between 3 and 63 characters long." }
        guard u.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) else {
            return "Bucket names can consist only of lowercase letters, numbers, dots (.), and hyphens (-)."
        }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        guard let f = u.first, let l = u.last, alnum(f), alnum(l) else { return "Bucket names must begin and end with a letter or number." }
        if name.contains("..") { return "Bucket names must not contain two adjacent periods." }
        let parts = name.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) {
            return "Bucket names must not be formatted as an IP address."
        }
        for p in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(p) { return "Bucket names must not start with \(p)." }
        for s in ["-s3alias", "--ol-s3", ".mrap", "--x-s3"] where name.hasSuffix(s) { return "Bucket names must not end with \(s)." }
        if reservedBuckets.contains(name) { return "The bucket name '\(name)' is reserved by VOSS (it is the /api path)." }
        return nil
    }

    public static func keyProblem(_ key: String) -> S3Error? {
        if key.utf8.count > maxKeyBytes { return S3Error("KeyTooLongError", details: [("Size", String(key.utf8.count)), ("MaxSizeAllowed", "1024")]) }
        if key.isEmpty { return S3Error.invalidArgument("The object key must not be empty.") }
        // U+0000 ends a C string: a store or file API that meets it would act on a shorter key.
        if key.utf8.contains(0) { return S3Error.invalidArgument("The object key must not contain the character U+0000.") }
        return nil
    }
}
