import VossBase
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VossHTTP
import VossS3Core
import VossS3Store
import VossSigV4

/// One request/response exchange on a connection.
final class Exchange: @unchecked Sendable {  // used by one task at a time
    var ctx: RequestContext
    let reader: PartReader
    let channel: any Channel
    let state: GatewayState
    let draining: @Sendable () -> Bool
    var continueSent = false
    /// The connection must close after the response (body not read and not drainable).
    var closeAfter = false
    var responded = false

    init(ctx: RequestContext, reader: PartReader, channel: any Channel, state: GatewayState, draining: @escaping @Sendable () -> Bool) {
        self.ctx = ctx
        self.reader = reader
        self.channel = channel
        self.state = state
        self.draining = draining
    }

    var contentLength: Int64? { ctx.header("content-length").flatMap { ASCIIDecimal.int64($0) } }
    var expectsContinue: Bool { ctx.header("expect")?.lowercased() == "100-continue" }

    /// Tells an `Expect: 100-continue` client to send the body (once we accepted the request).
    func acceptBody() {
        if expectsContinue && !continueSent && !reader.bodyDone {
            continueSent = true
            Responder(channel: channel, requestID: ctx.id, version: ctx.head.version, keepAlive: true, counters: state.counters)
                .sendContinue()
        }
    }

    func responder() -> Responder {
        responded = true
        if !reader.bodyDone {
            // No Content-Length and no Transfer-Encoding: there is no body (only its end is still queued).
            let hasTE = ctx.header("transfer-encoding") != nil
            let remaining = contentLength.map { $0 - reader.bytesRead } ?? (hasTE ? nil : 0)
            if reader.failed || (expectsContinue && !continueSent && remaining != 0) || (remaining ?? Int64.max) > 1 << 20 {
                closeAfter = true
            }
        }
        return Responder(
            channel: channel, requestID: ctx.id, version: ctx.head.version,
            keepAlive: ctx.head.isKeepAlive && !closeAfter && !draining(), counters: state.counters)
    }

    func fail(_ e: S3Error) async {
        await responder().sendError(e, resource: ctx.target.resource, headOnly: ctx.head.method == .HEAD)
    }
}

/// Serves S3 over HTTP/1.1 connections (one task per connection).
struct S3Server: Sendable {
    let state: GatewayState
    let tls: Bool
    let connections: ConnectionTracker
    let draining: @Sendable () -> Bool

    func serve(_ conn: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, origin: ClientOrigin) async {
        state.counters.connections.add(1, ordering: .relaxed)
        state.counters.open.add(1, ordering: .relaxed)
        defer { state.counters.open.add(-1, ordering: .relaxed) }
        let channel = conn.channel
        var remote = channel.remoteAddress?.description ?? "?"
        do {
            try await conn.executeThenClose { inbound, _ in
                let reader = PartReader(inbound.makeAsyncIterator())
                while let head = try await reader.nextHead() {
                    // Behind the virtual-IP translator, the client is the one its PROXY header names.
                    if let real = origin.address { remote = real }
                    connections.setBusy(channel, true)
                    let keep = await handle(head, reader: reader, channel: channel, remote: remote)
                    connections.setBusy(channel, false)
                    if !keep || draining() { break }
                }
            }
        } catch {
            state.logger.debug("connection ended", metadata: ["peer": "\(remote)", "error": "\(error)"])
        }
    }

    static func requestID() -> String {
        var rng = SystemRandomNumberGenerator()
        let v = rng.next() as UInt64
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Handles one request; returns whether the connection can carry another.
    func handle(_ head: HTTPRequestHead, reader: PartReader, channel: any Channel, remote: String) async -> Bool {
        state.counters.requests.add(1, ordering: .relaxed)
        let id = Self.requestID()
        // One line per request at debug level (`ose service restart --debug`): who asked for what.
        state.logger.debug("request", metadata: ["request": "\(id)", "client": "\(remote)", "method": "\(head.method.rawValue)", "uri": "\(head.uri)"])
        let settings = state.current
        let uri = head.uri
        let qIndex = uri.firstIndex(of: "?")
        let rawPath = qIndex.map { String(uri[..<$0]) } ?? uri
        let rawQuery = qIndex.map { String(uri[uri.index(after: $0)...]) } ?? ""
        var signed = SignedRequest(
            method: head.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
            headers: head.headers.map { ($0.name, $0.value) })
        let query = signed.queryParameters
        signed.parsedQuery = query

        // Route.
        let target: S3Target
        let op: S3Operation
        switch S3Router.target(host: head.headers.first(name: "host"), rawPath: rawPath, serviceHost: settings.serviceHost) {
        case .success(let t): target = t
        case .failure(let e): return await quickFail(e, head: head, id: id, reader: reader, channel: channel)
        }
        switch S3Router.operation(method: head.method.rawValue, target: target, query: query, headers: { head.headers.first(name: $0) }) {
        case .success(let o): op = o
        case .failure(let e): return await quickFail(e, head: head, id: id, reader: reader, channel: channel, target: target)
        }
        let ctx = RequestContext(
            id: id, head: head, rawPath: rawPath, rawQuery: rawQuery, query: query, target: target, operation: op,
            principal: nil, auth: nil, tls: tls, remote: remote)
        let ex = Exchange(ctx: ctx, reader: reader, channel: channel, state: state, draining: draining)

        // Authenticate.
        do {
            let authorization = head.headers.first(name: "authorization")
            if SigV2.isSigV2(authorization: authorization, query: query),
                let ak = SigV2.claimedAccessKey(authorization: authorization, query: query)
            {
                let principal = try await state.identity.principal(ak)
                let result = SigV2.verify(signed, virtualHostBucket: target.virtualHosted ? target.bucket : nil, now: Date()) { a in
                    principal?.accessKey == a ? principal?.secret : nil
                }
                switch result {
                case .success: ex.ctx.principal = principal
                case .failure(let f):
                    await ex.fail(S3Error(f.s3Code, message: f.message))
                    return await finish(ex)
                }
            } else if authorization != nil || IdentityCache.claimedAccessKey(authorization: nil, query: query) != nil
                || query["X-Amz-Algorithm"] != nil || query["X-Amz-Signature"] != nil
            {
                // Any Authorization header is verified: an unknown scheme is refused (InvalidArgument),
                // never served as anonymous.
                let ak = IdentityCache.claimedAccessKey(authorization: authorization, query: query)
                let principal = try await ak.asyncMap { try await state.identity.principal($0) } ?? nil
                let identity = state.identity
                let region = settings.region
                let result = SigV4Verifier(region: region).verify(signed, now: Date()) { akid, date in
                    guard let p = principal, p.accessKey == akid else { return nil }
                    return identity.signingKey(p, date: date, region: region)
                }
                switch result {
                case .success(let auth)?:
                    ex.ctx.principal = principal
                    ex.ctx.auth = auth
                case .failure(let f)?:
                    await ex.fail(S3Error(f.s3Code, message: f.message))
                    return await finish(ex)
                case nil:
                    break
                }
            }
        } catch {
            await ex.fail(Self.s3Error(error, state: state, ctx: ctx))
            return await finish(ex)
        }

        if settings.maintenance && !op.isRead {
            await ex.fail(
                S3Error("ServiceUnavailable", status: 503, message: "VOSS is in maintenance mode (a migration is running); writes are paused. Reads work; retry later."))
            return await finish(ex)
        }

        do {
            try await dispatch(ex)
        } catch let e as S3Error {
            if !ex.responded { await ex.fail(e) }
        } catch {
            let e = Self.s3Error(error, state: state, ctx: ex.ctx)
            if !ex.responded { await ex.fail(e) } else { ex.closeAfter = true }
        }
        return await finish(ex)
    }

    /// After the response: read what is left of the body so the connection stays in sync, or close.
    func finish(_ ex: Exchange) async -> Bool {
        if ex.closeAfter { return false }
        if !ex.reader.bodyDone {
            if ex.expectsContinue && !ex.continueSent && (ex.contentLength ?? 0) > 0 { return false }
            guard await ex.reader.drain(limit: 1 << 20) else { return false }
        }
        return ex.ctx.head.isKeepAlive
    }

    func quickFail(_ e: S3Error, head: HTTPRequestHead, id: String, reader: PartReader, channel: any Channel, target: S3Target? = nil) async -> Bool {
        let ctx = RequestContext(
            id: id, head: head, rawPath: "", rawQuery: "", query: [:],
            target: target ?? S3Target(bucket: nil, key: nil, virtualHosted: false), operation: .listBuckets,
            principal: nil, auth: nil, tls: tls, remote: "")
        let ex = Exchange(ctx: ctx, reader: reader, channel: channel, state: state, draining: draining)
        await ex.fail(e)
        return await finish(ex)
    }

    static func s3Error(_ error: any Error, state: GatewayState, ctx: RequestContext) -> S3Error {
        switch error {
        case let e as S3Error: return e
        case let e as StoreError:
            switch e {
            case .unavailable(let why), .readOnly(let why):
                state.logger.warning("metadata store unavailable", metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "why": "\(why)"])
                return S3Error("ServiceUnavailable", status: 503, message: "The metadata store is unavailable (\(why)); retry later.")
            case .notFound(let what): return S3Error("NoSuchKey", message: "\(what) does not exist.")
            default:
                state.logger.error("metadata store error", metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "error": "\(e)"])
                return .internalError
            }
        default:
            state.logger.error("request failed", metadata: ["request": "\(ctx.id)", "client": "\(ctx.remote)", "op": "\(ctx.operation.rawValue)", "error": "\(error)"])
            return .internalError
        }
    }

    func dispatch(_ ex: Exchange) async throws {
        switch ex.ctx.operation {
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
        case .getBucketPolicy: try await bucketConfigAbsent(ex, "NoSuchBucketPolicy", "The bucket policy does not exist")
        case .getBucketCors: try await bucketConfigAbsent(ex, "NoSuchCORSConfiguration", "The CORS configuration does not exist")
        case .getBucketLifecycle: try await bucketConfigAbsent(ex, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
        case .getBucketEncryption: try await bucketConfigAbsent(ex, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
        case .deleteObjects: try await deleteObjects(ex)
        case .putObject: try await putObject(ex)
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
        }
    }

    // MARK: shared checks

    func requirePrincipal(_ ex: Exchange) throws -> Principal {
        guard let p = ex.ctx.principal else { throw S3Error.accessDenied }
        return p
    }

    /// The addressed bucket, checked for existence and access.
    func bucket(_ ex: Exchange, access: BucketAccess) async throws -> BucketRecord {
        guard let b = try await state.store.bucket(named: ex.ctx.bucket) else { throw S3Error.noSuchBucket(ex.ctx.bucket) }
        let p = ex.ctx.principal
        let ok: Bool
        switch access {
        case .read: ok = Access.canRead(bucket: b, principal: p)
        case .write: ok = Access.canWrite(bucket: b, principal: p)
        case .owner: ok = Access.isOwner(bucket: b, principal: p)
        case .objectRead: ok = true  // decided per object
        }
        guard ok else { throw S3Error.accessDenied }
        return b
    }

    enum BucketAccess { case read, write, owner, objectRead }

    func bucketConfigAbsent(_ ex: Exchange, _ code: String, _ message: String) async throws {
        _ = try await bucket(ex, access: .owner)
        throw S3Error(code, status: 404, message: message, details: [("BucketName", ex.ctx.bucket)])
    }
}

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let w): try await f(w)
        case .none: nil
        }
    }
}
