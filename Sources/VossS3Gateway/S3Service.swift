import VossBase
import Crypto
import Logging
import NIOCore
import VossBlobStore
import VossConfig
import VossS3Core
import VossUpstream
import VossS3Store

/// The S3 operations as a service: `(S3Call) async throws -> S3Response`, with no connection in
/// sight. The call carries what was asked, who asked (verified by the transport), and the body as an
/// async source of bytes; the response is a status, headers and a body (bytes, or a range of an
/// object that the transport sends as it can — sendfile on plain HTTP). Errors are `S3Error`s.
///
/// `S3Server` (Handler.swift, Connection.swift) is the one NIO adapter; tests call the service
/// directly (`Tests/VossS3GatewayTests/S3ServiceTests.swift`).
struct S3Service: Sendable {
    let state: GatewayState

    func handle(_ ex: S3Call) async throws -> S3Response {
        guard ex.ctx.header("origin") != nil else { return try await operate(ex) }
        // A browser's request: the answer (an error too) carries the bucket's CORS headers.
        do {
            var r = try await operate(ex)
            r.headers += await corsHeaders(ex.ctx)
            return r
        } catch var e as S3Error {
            e.headers += await corsHeaders(ex.ctx)
            throw e
        }
    }

    func operate(_ ex: S3Call) async throws -> S3Response {
        switch ex.ctx.operation {
        case .putObject, .postObject, .copyObject, .uploadPart, .uploadPartCopy:
            try await checkQuota(ex)
        default:
            break
        }
        return switch ex.ctx.operation {
        case .listBuckets: try await listBuckets(ex)
        case .createBucket: try await createBucket(ex)
        case .deleteBucket: try await deleteBucket(ex)
        case .headBucket: try await headBucket(ex)
        case .getBucketLocation: try await getBucketLocation(ex)
        case .listObjects, .listObjectsV2: try await listObjects(ex, v2: ex.ctx.operation == .listObjectsV2)
        case .listObjectVersions: try await listObjectVersions(ex)
        case .listMultipartUploads: try await listMultipartUploads(ex)
        case .getBucketTagging, .putBucketTagging, .deleteBucketTagging: try await bucketTagging(ex)
        case .getBucketAcl, .putBucketAcl: try await bucketACL(ex)
        case .getBucketVersioning: try await getBucketVersioning(ex)
        case .putBucketVersioning: try await putBucketVersioning(ex)
        case .getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy: try await bucketPolicy(ex)
        case .getBucketPolicyStatus: try await bucketPolicyStatus(ex)
        case .getBucketCors, .putBucketCors, .deleteBucketCors: try await bucketCors(ex)
        case .preflight: try await preflight(ex)
        case .getBucketLifecycle, .putBucketLifecycle, .deleteBucketLifecycle: try await bucketLifecycle(ex)
        case .getBucketEncryption, .putBucketEncryption, .deleteBucketEncryption: try await bucketEncryption(ex)
        case .deleteObjects: try await deleteObjects(ex)
        case .putObject: try await putObject(ex)
        case .postObject: try await postObject(ex)
        case .copyObject: try await copyObject(ex)
        case .getObject, .headObject: try await getObject(ex, head: ex.ctx.operation == .headObject)
        case .deleteObject: try await deleteObject(ex)
        case .createMultipartUpload: try await createMultipartUpload(ex)
        case .uploadPart: try await uploadPart(ex)
        case .uploadPartCopy: try await uploadPartCopy(ex)
        case .completeMultipartUpload: try await completeMultipartUpload(ex)
        case .abortMultipartUpload: try await abortMultipartUpload(ex)
        case .listParts: try await listParts(ex)
        case .getObjectTagging, .putObjectTagging, .deleteObjectTagging: try await objectTagging(ex)
        case .getObjectAcl, .putObjectAcl: try await objectACL(ex)
        case .getObjectAttributes: try await getObjectAttributes(ex)
        case .getBucketOwnershipControls, .putBucketOwnershipControls, .deleteBucketOwnershipControls: try await ownershipControls(ex)
        case .getObjectLockConfiguration, .putObjectLockConfiguration: try await objectLockConfiguration(ex)
        case .getObjectRetention, .putObjectRetention: try await objectRetention(ex)
        case .getObjectLegalHold, .putObjectLegalHold: try await objectLegalHold(ex)
        }
    }

    // MARK: shared checks

    /// A write that would take the bucket's tenant over its quota is refused (Quotas.swift).
    func checkQuota(_ ex: S3Call) async throws {
        guard try await state.quotas.any(), let b = try await state.store.bucket(named: ex.ctx.bucket) else { return }
        let declared = ex.ctx.header("x-amz-decoded-content-length") ?? ex.ctx.header("content-length")
        let copy = ex.ctx.operation == .copyObject || ex.ctx.operation == .uploadPartCopy
        try await state.quotas.check(tenantID: b.tenantID, incoming: copy ? nil : declared.flatMap { ASCIIDecimal.int64($0) })
    }

    func requirePrincipal(_ ex: S3Call) throws -> Principal {
        guard let p = ex.ctx.principal else { throw S3Error.accessDenied }
        return p
    }

    /// The addressed bucket, checked for existence and access.
    func bucket(_ ex: S3Call, access: BucketAccess) async throws -> BucketRecord {
        guard let b = try await state.store.bucket(named: ex.ctx.bucket) else { throw S3Error.noSuchBucket(ex.ctx.bucket) }
        return try authorize(ex, b, access: access)
    }

    /// The addressed bucket, checked as `bucket(_:access:)` does, with the current version of the
    /// addressed object read in the same trip to the database (nil: no such object, or only
    /// delete markers).
    func bucketAndObject(_ ex: S3Call, access: BucketAccess) async throws -> (BucketRecord, ObjectRecord?) {
        guard let (b, o) = try await state.store.bucketAndObject(named: ex.ctx.bucket, key: ex.ctx.key) else {
            throw S3Error.noSuchBucket(ex.ctx.bucket)
        }
        return (try authorize(ex, b, access: access), o)
    }

    func authorize(_ ex: S3Call, _ b: BucketRecord, access: BucketAccess) throws -> BucketRecord {
        // `x-amz-expected-bucket-owner`: the account (tenant) id the client believes owns the bucket.
        if let expected = ex.ctx.header("x-amz-expected-bucket-owner"), expected != b.tenantID { throw S3Error.accessDenied }
        let p = ex.ctx.principal
        // The bucket policy first: an explicit Deny wins over everything (except that the bucket's
        // owners can always manage the policy itself, so no policy locks them out), an Allow lets
        // in whom the ACLs would not.
        // (DeleteObjects names its keys in the body: it asks the policy about each one.)
        switch ex.ctx.operation == .deleteObjects ? .none : policyDecision(ex, b, key: ex.ctx.target.key) {
        case .deny:
            let managing = [.getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy].contains(ex.ctx.operation)
            if !(managing && Access.isOwner(bucket: b, principal: p)) { throw S3Error.accessDenied }
        case .allow:
            ex.ctx.policyAllowed = true
            return b
        case .none:
            break
        }
        let ok: Bool
        switch access {
        case .read: ok = Access.canRead(bucket: b, principal: p)
        case .readACL: ok = Access.canReadACL(bucket: b, principal: p)
        case .writeACL: ok = Access.canWriteACL(bucket: b, principal: p)
        case .write: ok = Access.canWrite(bucket: b, principal: p)
        case .owner: ok = Access.isOwner(bucket: b, principal: p)
        case .objectRead: ok = true  // decided per object
        }
        guard ok else { throw S3Error.accessDenied }
        return b
    }

    enum BucketAccess { case read, write, owner, objectRead, readACL, writeACL }

    static func s3Error(_ error: any Error, state: GatewayState, ctx: RequestContext) -> S3Error {
        switch error {
        case let e as S3Error: return e
        case let e as StoreError:
            switch e {
            case .unavailable(let why), .readOnly(let why):
                state.logger.warning("metadata store unavailable", metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "why": "\(why)"])
                return S3Error("ServiceUnavailable", status: 503, message: "The metadata store is unavailable (\(why)); retry later.")
            case .notFound(let what): return S3Error("NoSuchKey", message: "\(what) does not exist.", details: [("Key", ctx.key)])
            case .locked:
                return S3Error("AccessDenied", message: "Access Denied because object protected by object lock.")
            case .preconditionFailed:
                return S3Error("PreconditionFailed", details: [("Condition", ctx.header("if-none-match") != nil ? "If-None-Match" : "If-Match")])
            default:
                state.logger.error("metadata store error", metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "error": "\(e)"])
                return .internalError
            }
        case let e as PlatformUnavailable:
            state.logger.warning("storage platform unavailable", metadata: ["request": "\(ctx.id)", "platform": "\(e.platform)", "why": "\(e.reason)"])
            return S3Error("ServiceUnavailable", status: 503, message: "The storage platform '\(e.platform)' is unavailable; retry later.")
        case is PlatformNeedsLength:
            return S3Error("MissingContentLength", message: "This bucket's storage platform needs the length of the body in advance (Content-Length).")
        case let e as UpstreamError:
            state.logger.error("storage platform error", metadata: ["request": "\(ctx.id)", "op": "\(ctx.operation.rawValue)", "error": "\(e)"])
            if e.isUnavailable { return S3Error("ServiceUnavailable", status: 503, message: "The storage platform is unavailable; retry later.") }
            return .internalError
        default:
            state.logger.error(
                "request failed",
                metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "op": "\(ctx.operation.rawValue)", "error": "\(error)"])
            return .internalError
        }
    }
}

/// One request as the service sees it.
final class S3Call: @unchecked Sendable {  // used by one task at a time
    let ctx: RequestContext
    let body: any S3BodySource

    init(ctx: RequestContext, body: any S3BodySource) {
        self.ctx = ctx
        self.body = body
    }
}

/// A request body as it arrives: from the connection, or from memory in a test.
protocol S3BodySource: AnyObject {
    /// The next piece of the body; `nil` at its end.
    func nextBody() async throws -> ByteBuffer?
    /// The operation accepted the request and will read its body (a client that sent
    /// `Expect: 100-continue` is told to go on).
    func acceptBody()
}

/// A body held in memory, handed out in pieces of `piece` bytes (tests; small internal requests).
final class BytesBody: S3BodySource, @unchecked Sendable {
    private var rest: ArraySlice<UInt8>
    private let piece: Int

    init(_ bytes: [UInt8], piece: Int = 64 << 10) {
        rest = bytes[...]
        self.piece = max(1, piece)
    }

    func nextBody() async throws -> ByteBuffer? {
        guard !rest.isEmpty else { return nil }
        let n = min(piece, rest.count)
        let buf = ByteBuffer(bytes: rest.prefix(n))
        rest = rest.dropFirst(n)
        return buf
    }

    func acceptBody() {}
}

/// What an operation answers.
struct S3Response: Sendable {
    enum Body: Sendable {
        case bytes([UInt8])
        /// `count` bytes of `object` from `first`, read from its pieces by the transport.
        /// `key`: the data key to decrypt with (encrypted objects).
        case object(ObjectRecord, first: Int64, count: Int64, key: SymmetricKey?)
    }

    var status: Int
    var headers: [(String, String)]
    var body: Body
    /// A HEAD answer: the headers (with `Content-Length` of what a GET would send) and no body.
    var headOnly = false
    /// Work to do once the answer is on its way (deleting blobs an overwrite or delete released).
    var after: (@Sendable () async -> Void)?

    init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([]), headOnly: Bool = false,
         after: (@Sendable () async -> Void)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.headOnly = headOnly
        self.after = after
    }

    static func status(_ s: Int, headers: [(String, String)] = [], headOnly: Bool = false, after: (@Sendable () async -> Void)? = nil)
        -> S3Response
    {
        S3Response(status: s, headers: headers, headOnly: headOnly, after: after)
    }

    static func xml(_ x: String, status: Int = 200, headers: [(String, String)] = [], after: (@Sendable () async -> Void)? = nil)
        -> S3Response
    {
        S3Response(status: status, headers: [("Content-Type", "application/xml")] + headers, body: .bytes(Array(x.utf8)), after: after)
    }

    /// The body's length (what `Content-Length` says).
    var contentLength: Int64 {
        switch body {
        case .bytes(let b): Int64(b.count)
        case .object(_, _, let count, _): count
        }
    }
}
