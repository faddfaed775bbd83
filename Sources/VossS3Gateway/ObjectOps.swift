import Crypto
import VossBase
import Logging
import Synchronization
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VossBlobStore
import VossChecksums
import VossBlobStore
import VossConfig
import VossS3Core
import VossUpstream
import VossS3Store
import VossSigV4

extension S3Service {
    static func hex(_ b: [UInt8]) -> String { SigV4.hex(b) }

    static func unhex(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let h = it.popFirst() {
            guard let l = it.popFirst(), let hv = SigV4.hexValue(h), let lv = SigV4.hexValue(l) else { return nil }
            out.append(hv << 4 | lv)
        }
        return out
    }

    func checkKey(_ ex: S3Call) throws {
        if let p = S3Names.keyProblem(ex.ctx.key) { throw p }
    }

    func tagsFromHeader(_ ex: S3Call) throws -> [String: String] {
        guard let t = ex.ctx.header("x-amz-tagging") else { return [:] }
        return try Tags.parseHeader(t).get()
    }

    func checksumHeaders(_ c: StoredChecksum?) -> [(String, String)] {
        guard let c else { return [] }
        return [(c.algorithm.headerName, c.value), ("x-amz-checksum-type", c.type)]
    }

    // MARK: PUT

    func putObject(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        try checkKey(ex)
        let headers = try ObjectHeaders.from(ex.ctx.headerPairs).get()
        let tags = try tagsFromHeader(ex)
        let requested = try policyFromHeaders(ex)
        try checkACLAllowed(b, requested)
        let policy = requested ?? .private
        let p = try requirePrincipal(ex)
        let condition = try writeCondition(ex)
        let lock = try newObjectLock(ex, b, now: Date())
        try await precheck(condition, b, key: ex.ctx.key)
        let key = try await newObjectKey(try sseRequest(ex, b))
        // Like S3 since 2025: an object sent without a checksum gets a CRC64NVME one (current SDKs check it).
        let received = try await receiveUncommitted(
            ex, bucket: b, maxSize: state.current.maxPutSize, checksumDefault: .crc64nvme, key: key, inlineUpTo: state.current.inlineMaxBytes)
        let (out, blob, cipher) = (received.out, received.blob, received.cipher)
        let checksum = out.checksum.map { StoredChecksum(algorithm: $0.algorithm, value: Data($0.digest).base64EncodedString(), type: "FULL_OBJECT") }
        let record = ObjectRecord(
            bucketID: b.id, key: ex.ctx.key, size: out.size, etag: Self.etag(out.md5, cipher, key), lastModified: Date(), headers: headers,
            checksum: checksum, policy: policy, tags: tags,
            storage: ObjectStorage(pieces: [.init(blob: blob, size: out.size, iv: cipher?.iv)], encryption: key?.encryption),
            ownerID: p.user.id, versionID: nextVersionID(b), lock: lock)
        let old = try await commitAndRecord(received, record, versioned: b.settings.versioned, condition: condition)
        return .status(
            200,
            headers: [("ETag", "\"\(record.etag)\"")] + checksumHeaders(checksum).filter { $0.0 != "x-amz-checksum-type" }
                + versionHeaders(b, record) + Self.sseHeaders(key?.encryption),
            after: collecting(old))
    }

    /// The ETag of bytes written with `key`: their MD5, except under SSE-C, where (as in S3) it is
    /// not — it is the MD5 of what is stored, which says nothing about the plaintext.
    static func etag(_ md5: [UInt8], _ cipher: PartCipher?, _ key: ObjectKey?) -> String {
        if key?.encryption.mode == .customer, let stored = cipher?.storedMD5 { return stored }
        return hex(md5)
    }

    /// `sink`, encrypting with `key` from a fresh counter block when there is one; the MD5 of the
    /// stored bytes is taken when the platform checks it (`digest`) or an SSE-C ETag needs it.
    func sealing(_ sink: any BlobSink, _ key: ObjectKey?, digest: Bool) -> (any BlobSink, EncryptingSink?) {
        guard let key, let sealed = EncryptingSink(sink, key: key.key, iv: SSE.newIV(), digest: digest || key.encryption.mode == .customer)
        else { return (sink, nil) }
        return (sealed, sealed)
    }

    /// The platform a bucket's new objects go to.
    func platform(of b: BucketRecord) throws -> any BlobPlatform {
        guard let p = state.platforms.platform(named: b.platform) else {
            throw PlatformUnavailable(platform: b.platform, reason: "it is not configured on this node (ose platforms show)")
        }
        return p
    }

    /// Streams the body into a new, journalled blob on the bucket's platform and makes it durable. The
    /// caller commits metadata (or calls `discard`).
    func receiveIntoNewBlob(_ ex: S3Call, bucket b: BucketRecord, maxSize: Int64, checksumDefault: ChecksumAlgorithm? = nil, key: ObjectKey?)
        async throws -> (BodyOutcome, String, PartCipher?)
    {
        let r = try await receiveUncommitted(ex, bucket: b, maxSize: maxSize, checksumDefault: checksumDefault, key: key)
        try await commit(r)
        return (r.out, r.blob, r.cipher)
    }

    /// A body received into a new blob that is not durable yet: `commit` it, or `commitAndRecord`.
    struct ReceivedBlob {
        let out: BodyOutcome
        let blob: String
        let cipher: PartCipher?
        let writer: any BlobSink
        let ticket: JournalTicket?
        /// Where the (possibly encrypted) bytes of a small object were gathered, for the row's transaction.
        var inline: InlineSink? = nil
    }

    func commit(_ r: ReceivedBlob) async throws {
        do {
            try await r.writer.commit(md5: r.out.md5)
        } catch {
            await dropUncommitted(r)
            throw error
        }
    }

    /// After a failed commit: the temporary file goes; the blob itself too, unless its journal entry
    /// failed — it was then never renamed into place, and asking a database that just failed to
    /// collect it would only hold up the client's error (the blob is in no journal to collect).
    func dropUncommitted(_ r: ReceivedBlob) async {
        await r.writer.abort()  // a temp file left by a failed sync; nothing once renamed
        if let t = r.ticket {
            await t.settled()
            if t.failed { return }
        }
        await discard(r.blob)  // the platform may hold it (an upstream that answered badly)
    }

    /// Makes the blob durable and writes its object: for a local blob in one trip off the event loop
    /// (the I/O thread that syncs it queues the metadata write), else one after the other. On failure
    /// the blob is dropped.
    func commitAndRecord(_ r: ReceivedBlob, _ record: ObjectRecord, versioned: Bool, condition: WriteCondition?) async throws -> ObjectRecord? {
        let store = state.store
        if let inline = r.inline {
            // Bytes and row in one transaction: nothing was journalled, nothing to drop if it fails.
            let blob = inline.inline
            return try await withCheckedThrowingContinuation { c in
                store.putObjectSoon(record, versioned: versioned, condition: condition, inline: blob) { c.resume(with: $0) }
            }
        }
        if let gated = r.writer as? any GatedBlobSink {
            do {
                return try await gated.commit(md5: r.out.md5) { done in
                    store.putObjectSoon(record, versioned: versioned, condition: condition, done: done)
                }
            } catch {
                await dropUncommitted(r)
                throw error
            }
        }
        try await commit(r)
        do {
            return try await store.putObject(record, versioned: versioned, condition: condition)
        } catch {
            await discard(r.blob)
            throw error
        }
    }

    /// `inlineUpTo`: a body of at most this many bytes, declared in advance, for an object in a local
    /// bucket, is gathered in memory (encrypted first, with a key) for `commitAndRecord` to write with
    /// the object's row (decision 50). Only a PUT of a whole object asks (0: never).
    func receiveUncommitted(
        _ ex: S3Call, bucket b: BucketRecord, maxSize: Int64, checksumDefault: ChecksumAlgorithm? = nil, key: ObjectKey?, inlineUpTo: Int = 0
    ) async throws -> ReceivedBlob {
        let platform = try platform(of: b)
        let length = try bodyFraming(ex).3
        if let length, length > maxSize {
            throw S3Error("EntityTooLarge", details: [("ProposedSize", String(length)), ("MaxSizeAllowed", String(maxSize))])
        }
        if let length, length <= Int64(inlineUpTo), platform.name == BlobID.local {
            let sink = InlineSink(blob: state.platforms.inline.newID(tenant: b.tenantID), store: state.store, limit: Int(length))
            let (writer, sealed) = sealing(sink, key, digest: false)
            let out = try await receiveBody(ex, into: .blob(writer), maxSize: maxSize, checksumDefault: checksumDefault)
            return ReceivedBlob(out: out, blob: sink.blob, cipher: sealed?.cipher, writer: writer, ticket: nil, inline: sink)
        }
        let blob = platform.newID(tenant: b.tenantID)
        // A local blob's journal entry is written while its bytes arrive; the blob is renamed into
        // place only once the entry is durable (`GatedBlobSink`). An upstream's writer may send bytes
        // at once, so its entry comes first.
        let ticket = platform.name == BlobID.local ? state.store.journalNewBlobSoon(blob) : nil
        if ticket == nil { try await state.store.journalNewBlob(blob) }
        let writer: any BlobSink
        let sealed: EncryptingSink?
        do {
            let raw = try await platform.makeWriter(blob, length: length)
            if let ticket {
                if let gated = raw as? any GatedBlobSink {
                    gated.publishAfter { try ticket.wait(timeout: 120) }
                } else {
                    await ticket.settled()
                    try ticket.wait(timeout: 0)
                }
            }
            (writer, sealed) = sealing(raw, key, digest: platform.name != BlobID.local)
        } catch {
            await forgetJournal(blob, ticket)
            throw error
        }
        let out: BodyOutcome
        do {
            out = try await receiveBody(ex, into: .blob(writer), maxSize: maxSize, checksumDefault: checksumDefault)
        } catch {
            // Never committed: a local temp file is removed, an upstream PUT never gets its last bytes.
            await writer.abort()
            await forgetJournal(blob, ticket)
            throw error
        }
        return ReceivedBlob(out: out, blob: blob, cipher: sealed?.cipher, writer: writer, ticket: ticket)
    }

    /// Drops the journal entry of a blob that was never written (once its write has finished, so the
    /// removal cannot overtake it on a database that runs writes in parallel).
    func forgetJournal(_ blob: String, _ ticket: JournalTicket?) async {
        await ticket?.settled()
        try? await state.store.forgetJournal([blob])
    }

    /// After the answer: queue the blobs of the object a write or delete replaced for collection
    /// (`GatewayState.collectLater`); the connection goes on to its next request meanwhile.
    func collecting(_ old: ObjectRecord?) -> (@Sendable () async -> Void)? {
        guard let blobs = old?.storage.blobs, !blobs.isEmpty else { return nil }
        return { [state] in await state.collectLater(blobs) }
    }

    /// Drops a blob whose object never committed (it stays journalled if its platform cannot be reached).
    func discard(_ blob: String) async { await state.collectGarbage([blob]) }

    // MARK: GET / HEAD

    func getObject(_ ex: S3Call, head: Bool) async throws -> S3Response {
        let version = try requestedVersion(ex)
        let b: BucketRecord
        var current: ObjectRecord?? = nil
        if case .none = version {
            let (bucket, o) = try await bucketAndObject(ex, access: .objectRead)
            (b, current) = (bucket, .some(o))
        } else {
            b = try await bucket(ex, access: .objectRead)
        }
        let o = try await readableObject(
            b, key: ex.ctx.key, version: version, principal: ex.ctx.principal, policyAllowed: ex.ctx.policyAllowed, current: current)
        guard ex.ctx.policyAllowed || Access.canRead(object: o, in: b, principal: ex.ctx.principal) else { throw S3Error.accessDenied }
        let key = try await readKey(ex, o.storage.encryption)
        switch Preconditions.evaluate(
            ifMatch: ex.ctx.header("if-match"), ifNoneMatch: ex.ctx.header("if-none-match"),
            ifModifiedSince: ex.ctx.header("if-modified-since"), ifUnmodifiedSince: ex.ctx.header("if-unmodified-since"),
            etag: o.etag, lastModified: o.lastModified)
        {
        case .notModified:
            return .status(
                304, headers: [("ETag", "\"\(o.etag)\""), ("Last-Modified", HTTPDate.format(o.lastModified))] + versionHeaders(b, o),
                headOnly: true)
        case .preconditionFailed:
            throw S3Error("PreconditionFailed", details: [("Condition", "If-Match")])
        case .proceed:
            break
        }
        var range: ByteRange?
        if let pn = ex.ctx.query["partNumber"] {
            guard let n = ASCIIDecimal.int(pn), n >= 1 else { throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: pn) }
            guard n <= o.storage.pieces.count else { throw S3Error("InvalidPartNumber", status: 416, message: "The requested partnumber is not satisfiable") }
            var start: Int64 = 0
            for p in o.storage.pieces.prefix(n - 1) { start += p.size }
            range = o.size == 0 ? nil : ByteRange(first: start, last: start + o.storage.pieces[n - 1].size - 1)
        } else {
            switch RangeHeader.evaluate(ex.ctx.header("range"), size: o.size) {
            case .whole: range = nil
            case .range(let r): range = r
            case .unsatisfiable:
                throw S3Error("InvalidRange", details: [("RangeRequested", ex.ctx.header("range") ?? ""), ("ActualObjectSize", String(o.size))])
            }
        }
        let overrides = ex.ctx.query.filter { $0.key.hasPrefix("response-") }
        for (k, v) in overrides where !ObjectHeaders.isValidHeaderValue(v) {
            throw S3Error.invalidArgument("The \(k) value must not contain control characters.", name: k, value: String(v.prefix(64)))
        }
        let headers = objectHeaders(
            b, o, overrides: overrides, checksums: Self.checksumMode(ex.ctx.header("x-amz-checksum-mode")), range: range)
        let first = range?.first ?? 0
        let count = range?.count ?? o.size
        return S3Response(status: range == nil ? 200 : 206, headers: headers, body: .object(o, first: first, count: count, key: key), headOnly: head)
    }

    /// The headers of a GET or HEAD answer with `o`'s bytes (the transport adds its own): shared by
    /// `getObject` and the synchronous path (FastPath.swift), so both answer alike.
    func objectHeaders(_ b: BucketRecord, _ o: ObjectRecord, overrides: [String: String], checksums: Bool, range: ByteRange?) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("ETag", "\"\(o.etag)\""), ("Last-Modified", HTTPDate.format(o.lastModified)), ("Accept-Ranges", "bytes"),
        ] + versionHeaders(b, o) + lockHeaders(o) + Self.sseHeaders(o.storage.encryption)
        headers += o.headers.responseHeaders(overrides: overrides)
        if !o.tags.isEmpty { headers.append(("x-amz-tagging-count", String(o.tags.count))) }
        if o.storage.pieces.count > 1 { headers.append(("x-amz-mp-parts-count", String(o.storage.pieces.count))) }
        if checksums, range == nil { headers += checksumHeaders(o.checksum) }
        if let range { headers.append(("Content-Range", range.contentRange(size: o.size))) }
        return headers
    }

    /// `x-amz-checksum-mode: ENABLED` asks for the stored checksum.
    static func checksumMode(_ value: String?) -> Bool { value?.uppercased() == "ENABLED" }

    // MARK: DELETE

    func deleteObject(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        try checkKey(ex)
        let p = try requirePrincipal(ex)
        let (headers, released) = try await delete(ex, b, key: ex.ctx.key, version: try requestedVersion(ex), by: p)
        return .status(204, headers: headers, after: collecting(released))
    }

    /// Deletes a key (a delete marker in a versioned bucket) or one version of it; returns the
    /// answer's headers and the version whose data was released.
    func delete(_ ex: S3Call, _ b: BucketRecord, key: String, version: String??, by p: Principal) async throws
        -> (headers: [(String, String)], released: ObjectRecord?)
    {
        if let version {
            let removed = try await state.store.deleteVersion(
                bucketID: b.id, key: key, versionID: version, bypassGovernance: bypassesGovernance(ex, b), now: Date())
            var h = [("x-amz-version-id", version ?? "null")]
            if removed?.deleteMarker == true { h.append(("x-amz-delete-marker", "true")) }
            return (h, removed?.deleteMarker == true ? nil : removed)
        }
        guard b.settings.versioned else { return ([], try await state.store.deleteObject(bucketID: b.id, key: key, marker: nil)) }
        let marker = ObjectRecord.marker(bucketID: b.id, key: key, versionID: nextVersionID(b), ownerID: p.user.id, at: Date())
        let released = try await state.store.deleteObject(bucketID: b.id, key: key, marker: marker)
        return ([("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.versionName)], released)
    }

    // MARK: copy

    /// The source of a CopyObject/UploadPartCopy, checked for read access and the copy preconditions.
    func copySource(_ ex: S3Call) async throws -> (BucketRecord, ObjectRecord) {
        guard var raw = ex.ctx.header("x-amz-copy-source") else { throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey") }
        var version: String?? = nil
        if let q = raw.firstIndex(of: "?") {
            let query = raw[raw.index(after: q)...]
            guard query.hasPrefix("versionId="), case let v = String(query.dropFirst("versionId=".count)), !v.isEmpty else {
                throw S3Error.invalidArgument("The copy source's query must be versionId=VERSION.", name: "x-amz-copy-source", value: raw)
            }
            version = .some(v == "null" ? nil : v)
            raw = String(raw[..<q])
        }
        guard let decoded = SigV4.percentDecode(raw).flatMap({ String(validating: $0, as: UTF8.self) }) else {
            throw S3Error.invalidArgument("Invalid copy source encoding", name: "x-amz-copy-source")
        }
        var s = Substring(decoded)
        if s.hasPrefix("/") { s = s.dropFirst() }
        guard let slash = s.firstIndex(of: "/"), slash != s.startIndex, s.index(after: slash) != s.endIndex else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", name: "x-amz-copy-source", value: raw)
        }
        let bucketName = String(s[..<slash]), key = String(s[s.index(after: slash)...])
        if let p = S3Names.keyProblem(key) { throw p }
        guard let sb = try await state.store.bucket(named: bucketName) else { throw S3Error.noSuchBucket(bucketName) }
        if let expected = ex.ctx.header("x-amz-source-expected-bucket-owner"), expected != sb.tenantID { throw S3Error.accessDenied }
        // The source bucket's policy decides the read of the source (s3:GetObject on it).
        var sourceAllowed = false
        switch policyDecision(ex, sb, key: key, action: version == nil ? "s3:GetObject" : "s3:GetObjectVersion") {
        case .deny: throw S3Error.accessDenied
        case .allow: sourceAllowed = true
        case .none: break
        }
        let so: ObjectRecord
        do {
            so = try await readableObject(sb, key: key, version: version, principal: ex.ctx.principal, policyAllowed: sourceAllowed)
        } catch let e as S3Error where e.code == "MethodNotAllowed" {
            throw S3Error.invalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
        }
        guard sourceAllowed || Access.canRead(object: so, in: sb, principal: ex.ctx.principal) else { throw S3Error.accessDenied }
        let outcome = Preconditions.evaluate(
            ifMatch: ex.ctx.header("x-amz-copy-source-if-match"), ifNoneMatch: ex.ctx.header("x-amz-copy-source-if-none-match"),
            ifModifiedSince: ex.ctx.header("x-amz-copy-source-if-modified-since"),
            ifUnmodifiedSince: ex.ctx.header("x-amz-copy-source-if-unmodified-since"), etag: so.etag,
            lastModified: so.lastModified)
        if outcome != .proceed { throw S3Error("PreconditionFailed", details: [("Condition", "x-amz-copy-source-If-*")]) }
        return (sb, so)
    }

    /// Copies `count` bytes from `first` of `source` (decrypted with `sourceKey`) into a new durable
    /// blob on `target`'s platform (encrypted with `key`), computing MD5 and `checksum` of the plain
    /// bytes on the way; returns them, the blob, and its counter block.
    func copyBytes(
        _ source: ObjectRecord, first: Int64, count: Int64, checksum: ChecksumAlgorithm?, into target: BucketRecord, sourceKey: SymmetricKey?,
        key: ObjectKey?
    ) async throws -> (md5: [UInt8], checksum: [UInt8]?, blob: String, cipher: PartCipher?) {
        let platform = try platform(of: target)
        let blob = platform.newID(tenant: target.tenantID)
        try await state.store.journalNewBlob(blob)
        let writer: any BlobSink
        let sealed: EncryptingSink?
        do { (writer, sealed) = sealing(try await platform.makeWriter(blob, length: count), key, digest: platform.name != BlobID.local) } catch {
            try? await state.store.forgetJournal([blob])
            throw error
        }
        do {
            let (md5, sum) = try await pump(source, first: first, count: count, checksum: checksum, into: writer, sourceKey: sourceKey)
            try await writer.commit(md5: md5)
            return (md5, sum, blob, sealed?.cipher)
        } catch {
            await writer.abort()
            await discard(blob)
            throw error
        }
    }

    /// Reads `count` bytes from `first` of an object (from whichever platforms hold its pieces,
    /// decrypted with `sourceKey`; nil: as stored) into `writer`; returns their MD5 and checksum.
    func pump(
        _ source: ObjectRecord, first: Int64, count: Int64, checksum: ChecksumAlgorithm?, into writer: any BlobSink, sourceKey: SymmetricKey?
    ) async throws -> ([UInt8], [UInt8]?) {
        var md5 = RunningMD5()
        var sum = checksum.map { RunningChecksum($0) }
        for seg in source.storage.segments(first: first, count: count) {
            let reader = try await state.read(seg, key: sourceKey)
            defer { reader.cancel() }
            while let buf = try await reader.next() {
                buf.withUnsafeReadableBytes { raw in
                    md5.update(raw)
                    sum?.update(raw)
                }
                try await writer.write(buf)
            }
        }
        return (md5.finish(), sum?.finish())
    }

    /// A whole-object copy the platform can do itself: a one-blob source on the target's platform,
    /// when the copy needs no checksum VOSS would have to compute. Returns the new blob and its MD5.
    func serverSideCopy(_ source: ObjectRecord, into target: BucketRecord, checksum: ChecksumAlgorithm?) async throws -> (blob: String, md5: [UInt8])? {
        guard source.storage.encryption == nil, source.storage.pieces.count == 1, let piece = source.storage.pieces.first, (piece.offset ?? 0) == 0, piece.size == source.size,
            BlobID.platform(of: piece.blob) == target.platform, checksum == nil || (source.checksum?.algorithm == checksum && source.checksum?.type == "FULL_OBJECT"),
            source.size > 0
        else { return nil }
        let platform = try platform(of: target)
        let blob = platform.newID(tenant: target.tenantID)
        try await state.store.journalNewBlob(blob)
        do {
            guard let etag = try await platform.copy(piece.blob, offset: 0, count: source.size, into: blob) else {
                try? await state.store.forgetJournal([blob])
                return nil
            }
            guard let md5 = Self.unhex(etag), md5.count == 16, etag == source.etag else {
                await discard(blob)
                return nil
            }
            return (blob, md5)
        } catch {
            await discard(blob)
            throw error
        }
    }

    func copyObject(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        try checkKey(ex)
        let p = try requirePrincipal(ex)
        let (sb, so) = try await copySource(ex)
        let sourceKey = try await readKey(ex, so.storage.encryption, prefix: Self.copySSECHeader)
        let sse = try sseRequest(ex, b)
        let requestedACL = try policyFromHeaders(ex)
        try checkACLAllowed(b, requestedACL)
        let replaceMeta = ex.ctx.header("x-amz-metadata-directive")?.uppercased() == "REPLACE"
        let replaceTags = ex.ctx.header("x-amz-tagging-directive")?.uppercased() == "REPLACE"
        if sb.id == b.id && so.key == ex.ctx.key && !replaceMeta && !replaceTags && ex.ctx.header("x-amz-checksum-algorithm") == nil
            && ex.ctx.header("x-amz-server-side-encryption") == nil && ex.ctx.header(Self.ssecHeader + "algorithm") == nil
        {
            throw S3Error.invalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        if so.size > state.current.maxPutSize { throw S3Error.invalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: \(state.current.maxPutSize)") }
        let headers = replaceMeta ? try ObjectHeaders.from(ex.ctx.headerPairs).get() : so.headers
        let tags = replaceTags ? try tagsFromHeader(ex) : so.tags
        let algorithm = ex.ctx.header("x-amz-checksum-algorithm").flatMap { ChecksumAlgorithm(caseInsensitive: $0) } ?? so.checksum?.algorithm
        let key = try await newObjectKey(sse)
        let copy: (md5: [UInt8], checksum: [UInt8]?, blob: String, cipher: PartCipher?)
        let checksum: StoredChecksum?
        if key == nil, let fast = try await serverSideCopy(so, into: b, checksum: algorithm) {
            copy = (fast.md5, nil, fast.blob, nil)
            checksum = algorithm == nil ? nil : so.checksum
        } else {
            copy = try await copyBytes(so, first: 0, count: so.size, checksum: algorithm, into: b, sourceKey: sourceKey, key: key)
            checksum = algorithm.flatMap { a in copy.checksum.map { StoredChecksum(algorithm: a, value: Data($0).base64EncodedString(), type: "FULL_OBJECT") } }
        }
        let record = ObjectRecord(
            bucketID: b.id, key: ex.ctx.key, size: so.size, etag: Self.etag(copy.md5, copy.cipher, key), lastModified: Date(),
            headers: headers, checksum: checksum, policy: requestedACL ?? .private, tags: tags,
            storage: ObjectStorage(pieces: [.init(blob: copy.blob, size: so.size, iv: copy.cipher?.iv)], encryption: key?.encryption),
            ownerID: p.user.id, versionID: nextVersionID(b), lock: try newObjectLock(ex, b, now: Date()))
        let old: ObjectRecord?
        do { old = try await state.store.putObject(record, versioned: b.settings.versioned, condition: nil) } catch {
            await discard(copy.blob)
            throw error
        }
        var answer = versionHeaders(b, record) + Self.sseHeaders(key?.encryption)
        if sb.settings.versioned || so.versionID != nil { answer.append(("x-amz-copy-source-version-id", so.versionName)) }
        var x = XMLWriter()
        x.open("CopyObjectResult", xmlns: true)
        x.element("LastModified", HTTPDate.iso(record.lastModified))
        x.element("ETag", "\"\(record.etag)\"")
        if let c = checksum { x.element(c.algorithm.xmlName, c.value) }
        x.close("CopyObjectResult")
        return .xml(x.document, headers: answer, after: collecting(old))
    }

    // MARK: tagging and ACL

    /// The object (or the version asked for by `versionId`) that a tagging or ACL request addresses.
    func existingObject(_ ex: S3Call, _ b: BucketRecord) async throws -> ObjectRecord {
        try await readableObject(
            b, key: ex.ctx.key, version: try requestedVersion(ex), principal: ex.ctx.principal, policyAllowed: ex.ctx.policyAllowed)
    }

    func objectTagging(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: ex.ctx.operation == .getObjectTagging ? .read : .write)
        let o = try await existingObject(ex, b)
        let version: String?? = ex.ctx.query["versionId"] != nil ? .some(o.versionID) : nil
        let headers = versionHeaders(b, o)
        switch ex.ctx.operation {
        case .getObjectTagging:
            return .xml(Tags.xml(o.tags), headers: headers)
        case .putObjectTagging:
            let body = try await readSmallBody(ex, limit: 64 << 10)
            let tags = try Tags.parseXML(body, max: 10).get()
            _ = try await state.store.updateObject(bucketID: b.id, key: o.key, version: version, tags: tags, policy: nil)
            return .status(200, headers: headers)
        default:
            _ = try await state.store.updateObject(bucketID: b.id, key: o.key, version: version, tags: [:], policy: nil)
            return .status(204, headers: headers)
        }
    }
}

extension Responder {
    /// A HEAD response: the GET's headers, including its Content-Length, and no body.
    func sendWithLength(_ status: HTTPResponseStatus, headers: [(String, String)], contentLength: Int64) async {
        let h = baseHeaders(headers, contentLength: contentLength)
        let channel = self.channel
        let version = self.version
        let f = channel.eventLoop.flatSubmit {
            if ParseErrorFlag.isSet(channel) { return channel.close() }
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: h)), promise: nil)
            return channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        }
        try? await f.get()
    }
}
