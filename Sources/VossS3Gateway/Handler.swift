import Crypto
import VossBase
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VossHTTP
import VossBlobStore
import VossS3Core
import VossS3Store
import VossSigV4

/// One request/response exchange on a connection: the transport's side of an `S3Call` (it is the
/// call's body source, and writes the service's answer).
final class Exchange: S3BodySource, @unchecked Sendable {  // used by one task at a time
    let ctx: RequestContext
    let head: HTTPRequestHead
    let reader: PartReader
    let channel: any Channel
    let state: GatewayState
    let draining: @Sendable () -> Bool
    var continueSent = false
    /// The connection must close after the response (body not read and not drainable).
    var closeAfter = false
    var responded = false
    /// Headers every answer on this exchange carries (the REST API's CORS headers).
    var extraHeaders: [(String, String)] = []

    init(
        ctx: RequestContext, head: HTTPRequestHead, reader: PartReader, channel: any Channel, state: GatewayState,
        draining: @escaping @Sendable () -> Bool
    ) {
        self.ctx = ctx
        self.head = head
        self.reader = reader
        self.channel = channel
        self.state = state
        self.draining = draining
    }

    var contentLength: Int64? { ctx.header("content-length").flatMap { ASCIIDecimal.int64($0) } }
    var expectsContinue: Bool { ctx.header("expect")?.lowercased() == "100-continue" }

    func nextBody() async throws -> ByteBuffer? { try await reader.nextBody() }

    /// Tells an `Expect: 100-continue` client to send the body (once we accepted the request).
    func acceptBody() {
        if expectsContinue && !continueSent && !reader.bodyDone {
            continueSent = true
            Responder(channel: channel, requestID: ctx.id, version: head.version, keepAlive: true, counters: state.counters)
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
            channel: channel, requestID: ctx.id, version: head.version,
            keepAlive: head.isKeepAlive && !closeAfter && !draining(), counters: state.counters, extra: extraHeaders)
    }

    func fail(_ e: S3Error) async {
        await responder().sendError(e, resource: ctx.target.resource, headOnly: ctx.isHead)
    }
}

/// How a request says who sent it.
enum CallerClaim {
    case anonymous
    case sigV2(accessKey: String)
    /// A SigV4 header or presigned URL. Any Authorization header counts: an unknown scheme is
    /// refused (InvalidArgument), never served as anonymous.
    case sigV4(accessKey: String?)

    init(authorization: String?, query: [String: String]) {
        if SigV2.isSigV2(authorization: authorization, query: query),
            let ak = SigV2.claimedAccessKey(authorization: authorization, query: query)
        {
            self = .sigV2(accessKey: ak)
        } else if authorization != nil || IdentityCache.claimedAccessKey(authorization: nil, query: query) != nil
            || query["X-Amz-Algorithm"] != nil || query["X-Amz-Signature"] != nil
        {
            self = .sigV4(accessKey: IdentityCache.claimedAccessKey(authorization: authorization, query: query))
        } else {
            self = .anonymous
        }
    }

    var accessKey: String? {
        switch self {
        case .anonymous: nil
        case .sigV2(let k): k
        case .sigV4(let k): k
        }
    }
}

/// Serves S3 over HTTP/1.1 connections (one task per connection).
struct S3Server: Sendable {
    let service: S3Service
    let tls: Bool
    let connections: ConnectionTracker
    let rest: RestAPI
    let draining: @Sendable () -> Bool

    var state: GatewayState { service.state }

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

    /// Request ids: a counter from a random start, mixed by SplitMix64's finaliser (a bijection, so
    /// ids never repeat within a process) — no system call per request.
    static let requestCounter: Atomic<UInt64> = {
        var g = SplitMix64()
        return Atomic(g.next())
    }()

    static func requestID() -> String {
        var mix = SplitMix64(seed: requestCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
        let v = mix.next()
        return String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 {
                let d = UInt8(truncatingIfNeeded: v >> (60 - 4 * UInt64(i))) & 15
                out[i] = d < 10 ? 0x30 + d : 0x37 + d
            }
            return 16
        }
    }

    /// Handles one request; returns whether the connection can carry another.
    func handle(_ head: HTTPRequestHead, reader: PartReader, channel: any Channel, remote: String) async -> Bool {
        state.counters.requests.add(1, ordering: .relaxed)
        let id = Self.requestID()
        // One line per request at debug level (`ose service restart --debug`): who asked for what.
        state.logger.debug("request", metadata: ["request": "\(id)", "client": "\(remote)", "method": "\(head.method.rawValue)", "uri": "\(head.uri)"])
        let settings = state.current
        let uri = head.uri
        let qIndex = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = qIndex.map { String(uri[..<$0]) } ?? uri
        let rawQuery = qIndex.map { String(uri[uri.utf8.index(after: $0)...]) } ?? ""
        var signed = SignedRequest(
            method: head.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
            headers: head.headers.map { ($0.name, $0.value) })
        let query = signed.parseQuery()

        // The REST API (`/api/v1/…` but not `/api/v1/s3/…`) and the portal's files: JSON answers,
        // session tokens, no S3 routing.
        if RestAPI.handles(rawPath) || PortalFiles.handles(rawPath) {
            let ctx = RequestContext(
                id: id, method: head.method.rawValue, headers: signed.headers, rawPath: rawPath, rawQuery: rawQuery, query: query,
                target: S3Target(bucket: nil, key: nil, virtualHosted: false), operation: .listBuckets, principal: nil, auth: nil, tls: tls,
                remote: remote)
            return await serveREST(Exchange(ctx: ctx, head: head, reader: reader, channel: channel, state: state, draining: draining))
        }

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
            id: id, method: head.method.rawValue, headers: signed.headers, rawPath: rawPath, rawQuery: rawQuery, query: query,
            target: target, operation: op, principal: nil, auth: nil, tls: tls, remote: remote)
        let ex = Exchange(ctx: ctx, head: head, reader: reader, channel: channel, state: state, draining: draining)

        // Authenticate.
        do {
            let claim = CallerClaim(authorization: head.headers.first(name: "authorization"), query: query)
            var principal: Principal?
            if let ak = claim.accessKey { principal = try await state.identity.principal(ak) }
            switch verify(claim, signed, principal: principal, target: target, settings: settings) {
            case .success(let v):
                if v.signed {
                    ex.ctx.principal = principal
                    ex.ctx.auth = v.auth
                }
            case .failure(let f):
                await ex.fail(S3Error(f.s3Code, message: f.message, details: f.details))
                return await finish(ex)
            }
        } catch {
            await ex.fail(S3Service.s3Error(error, state: state, ctx: ctx))
            return await finish(ex)
        }

        if settings.maintenance && !op.isRead {
            await ex.fail(
                S3Error("ServiceUnavailable", status: 503, message: "VOSS is in maintenance mode (a migration is running); writes are paused. Reads work; retry later."))
            return await finish(ex)
        }

        let call = S3Call(ctx: ex.ctx, body: ex)
        do {
            let response = try await service.handle(call)
            try await write(response, ex)
            if let after = response.after { await after() }
        } catch let e as S3Error {
            if !ex.responded { await ex.fail(e) } else { ex.closeAfter = true }
        } catch {
            let e = S3Service.s3Error(error, state: state, ctx: ex.ctx)
            if !ex.responded { await ex.fail(e) } else { ex.closeAfter = true }
        }
        return await finish(ex)
    }

    /// Checks the signature of a request that claims to come from `principal` (the claimed key's,
    /// looked up by the caller; nil: no such key). `signed` false: an anonymous request. Both the
    /// async path and the fast path (FastPath.swift) verify callers here.
    func verify(_ claim: CallerClaim, _ signed: SignedRequest, principal: Principal?, target: S3Target, settings: GatewaySettings)
        -> Result<(signed: Bool, auth: AuthContext?), AuthFailure>
    {
        switch claim {
        case .anonymous:
            return .success((false, nil))
        case .sigV2:
            let result = SigV2.verify(signed, virtualHostBucket: target.virtualHosted ? target.bucket : nil, now: Date()) { a in
                principal?.accessKey == a ? principal?.secret : nil
            }
            return result.map { _ in (true, nil) }
        case .sigV4:
            let identity = state.identity
            let verifier = SigV4Verifier(region: settings.region, otherRegions: state.platforms.regionNames)
            let result = verifier.verify(signed, now: Date()) { akid, date, scopeRegion in
                guard let p = principal, p.accessKey == akid else { return nil }
                return identity.signingKey(p, date: date, region: scopeRegion)
            }
            switch result {
            case .success(let auth)?: return .success((true, auth))
            case .failure(let f)?: return .failure(f)
            case nil: return .success((false, nil))
            }
        }
    }

    /// Writes the service's answer.
    func write(_ r: S3Response, _ ex: Exchange) async throws {
        let responder = ex.responder()
        let status = HTTPResponseStatus(statusCode: r.status)
        if r.headOnly {
            if r.status == 304 {
                await responder.send(status, headers: r.headers, headOnly: true)
            } else {
                await responder.sendWithLength(status, headers: r.headers, contentLength: r.contentLength)
            }
            return
        }
        switch r.body {
        case .bytes(let b): await responder.send(status, headers: r.headers, body: b)
        case .object(let o, let first, let count, let key):
            try await sendObjectBytes(responder, o, first: first, count: count, key: key, status: status, headers: r.headers, tls: ex.ctx.tls)
        }
    }

    /// After the response: read what is left of the body so the connection stays in sync, or close.
    func finish(_ ex: Exchange) async -> Bool {
        if ex.closeAfter { return false }
        if !ex.reader.bodyDone {
            if ex.expectsContinue && !ex.continueSent && (ex.contentLength ?? 0) > 0 { return false }
            guard await ex.reader.drain(limit: 1 << 20) else { return false }
        }
        return ex.head.isKeepAlive
    }

    func quickFail(_ e: S3Error, head: HTTPRequestHead, id: String, reader: PartReader, channel: any Channel, target: S3Target? = nil) async -> Bool {
        let ctx = RequestContext(
            id: id, method: head.method.rawValue, headers: [], rawPath: "", rawQuery: "", query: [:],
            target: target ?? S3Target(bucket: nil, key: nil, virtualHosted: false), operation: .listBuckets,
            principal: nil, auth: nil, tls: tls, remote: "")
        let ex = Exchange(ctx: ctx, head: head, reader: reader, channel: channel, state: state, draining: draining)
        await ex.fail(e)
        return await finish(ex)
    }
}

extension S3Server {
    /// Sends `count` bytes from `first` of the object's pieces: small bodies in one write, large ones
    /// with sendfile (plain HTTP) or read in chunks (TLS); encrypted ones (`key`) decrypted as read.
    func sendObjectBytes(_ r: Responder, _ o: ObjectRecord, first: Int64, count: Int64, key: SymmetricKey?, status: HTTPResponseStatus,
                         headers: [(String, String)], tls: Bool) async throws
    {
        let segments = o.storage.segments(first: first, count: count)
        let platforms = state.platforms
        if let key {
            return try await sendDecrypted(r, segments, count: count, key: key, status: status, headers: headers)
        }
        if count <= 64 << 10 {
            // Small: read it all (a local page-cache read inline costs less than a thread hop) and send
            // head, body and end in one go — an upstream's error is then still a clean S3 error.
            var out = [UInt8]()
            out.reserveCapacity(Int(count))
            for seg in segments {
                let (blob, off, len) = (seg.blob, seg.offset, seg.length)
                let platform = try platforms.platform(of: blob)
                if let fd = try platform.openFile(blob) {
                    defer { close(fd) }
                    var buf = [UInt8](repeating: 0, count: Int(len))
                    guard buf.withUnsafeMutableBytes({ Self.readFully(fd, into: $0, at: off) }) else { throw S3Error.internalError }
                    out += buf
                } else {
                    let reader = try await platform.read(blob, offset: off, count: len)
                    defer { reader.cancel() }
                    while let b = try await reader.next() { out += b.readableBytesView }
                }
            }
            await r.send(status, headers: headers, body: out)
            return
        }
        // Large: the first segment's source is opened before the head goes out, so a platform that
        // cannot serve gets a proper error answer; a failure later cuts the connection.
        enum Source {
            case file(Int32)
            case stream(any BlobReader)
        }
        func open(_ blob: String, _ off: Int64, _ len: Int64) async throws -> Source {
            let platform = try platforms.platform(of: blob)
            if let fd = try platform.openFile(blob) { return .file(fd) }
            return .stream(try await platform.read(blob, offset: off, count: len))
        }
        var opened: Source? = nil
        if let seg = segments.first { opened = try await open(seg.blob, seg.offset, seg.length) }
        try await r.head(status, headers: headers, contentLength: count)
        for seg in segments {
            let (blob, off, len) = (seg.blob, seg.offset, seg.length)
            let source: Source
            if let o = opened {
                source = o
                opened = nil
            } else {
                source = try await open(blob, off, len)
            }
            switch source {
            case .file(let fd):
                if !tls {
                    let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
                    defer { try? handle.close() }
                    try await r.file(handle, offset: off, count: len)
                } else {
                    defer { close(fd) }
                    var done: Int64 = 0
                    while done < len {
                        let n = Int(min(256 << 10, len - done))
                        let start = off + done
                        let buf: ByteBuffer = try await state.blocking {
                            var b = ByteBuffer()
                            b.reserveCapacity(n)
                            let got = b.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { p in
                                max(0, pread(fd, p.baseAddress!, n, off_t(start)))
                            }
                            if got < n { throw S3Error.internalError }
                            return b
                        }
                        try await r.body(buf)
                        done += Int64(n)
                    }
                }
            case .stream(let reader):
                defer { reader.cancel() }
                while let b = try await reader.next() { try await r.bodyStreamed(b) }
            }
        }
        try await r.end()
    }

    /// An encrypted object's bytes: every segment read through the platform and decrypted (never
    /// sendfile: the file holds ciphertext). Small ones in one write, like plain ones.
    func sendDecrypted(_ r: Responder, _ segments: [ObjectStorage.Segment], count: Int64, key: SymmetricKey, status: HTTPResponseStatus,
                       headers: [(String, String)]) async throws
    {
        if count <= 64 << 10 {
            var out = [UInt8]()
            out.reserveCapacity(Int(count))
            for seg in segments {
                let reader = try await state.read(seg, key: key)
                defer { reader.cancel() }
                while let b = try await reader.next() { out += b.readableBytesView }
            }
            await r.send(status, headers: headers, body: out)
            return
        }
        var opened: (any BlobReader)? = nil
        if let seg = segments.first { opened = try await state.read(seg, key: key) }
        try await r.head(status, headers: headers, contentLength: count)
        for seg in segments {
            let reader: any BlobReader
            if let o = opened {
                reader = o
                opened = nil
            } else {
                reader = try await state.read(seg, key: key)
            }
            defer { reader.cancel() }
            while let b = try await reader.next() { try await r.bodyStreamed(b) }
        }
        try await r.end()
    }
}
