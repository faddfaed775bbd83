import Crypto
import VossBase
import Logging
import Synchronization
import Foundation
import NIOHTTP1
import VossChecksums
import VossBlobStore
import VossConfig
import VossS3Core
import VossUpstream
import VossS3Store
import VossSigV4

extension S3Service {
    static let minPartSize: Int64 = 5 << 20
    static let maxParts = 10_000

    func newUploadID() -> String {
        Data(SecureRandom.bytes(24)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    func createMultipartUpload(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        try checkKey(ex)
        let p = try requirePrincipal(ex)
        // The lock the object gets when the upload completes (its headers, else the bucket's default then).
        let requestedLock = try newObjectLock(ex, b, now: Date())
        let explicitLock = ex.ctx.header("x-amz-object-lock-mode") != nil || ex.ctx.header("x-amz-object-lock-legal-hold") != nil
        let lock = explicitLock ? requestedLock : nil
        let headers = try ObjectHeaders.from(ex.ctx.headerPairs).get()
        let tags = try tagsFromHeader(ex)
        let requested = try policyFromHeaders(ex)
        try checkACLAllowed(b, requested)
        let policy = requested ?? .private
        var algorithm: ChecksumAlgorithm?
        if let a = ex.ctx.header("x-amz-checksum-algorithm") {
            guard let alg = ChecksumAlgorithm(caseInsensitive: a) else {
                throw S3Error.invalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            }
            algorithm = alg
        }
        var type = ex.ctx.header("x-amz-checksum-type")?.uppercased()
        if let t = type, t != "COMPOSITE" && t != "FULL_OBJECT" {
            throw S3Error.invalidRequest("Value for x-amz-checksum-type header is invalid.")
        }
        if let a = algorithm {
            if type == nil { type = a == .crc64nvme ? "FULL_OBJECT" : "COMPOSITE" }
            if type == "FULL_OBJECT" && !a.supportsFullObject {
                throw S3Error.invalidRequest("The FULL_OBJECT checksum type cannot be used with the \(a.rawValue) checksum algorithm.")
            }
            if type == "COMPOSITE" && a == .crc64nvme {
                throw S3Error.invalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
            }
        } else if type != nil {
            throw S3Error.invalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        }
        let key = try await newObjectKey(try sseRequest(ex, b))
        _ = try await readSmallBody(ex, limit: 0)
        // On a platform with its own multipart uploads, the VOSS upload is one of those, to become one blob.
        let platform = try platform(of: b)
        var platformUpload: String?
        var pending: String?
        if let mp = platform.multipart {
            let blob = platform.newID(tenant: b.tenantID)
            // Journalled until the upload is recorded: a crash in between aborts the platform's upload.
            pending = BlobID.partReference(blob, handle: "")
            try await state.store.journalNewBlob(pending!)
            platformUpload = BlobID.partReference(blob, handle: try await mp.start(blob))
        }
        let upload = UploadRecord(
            uploadID: newUploadID(), bucketID: b.id, key: ex.ctx.key, initiated: Date(), headers: headers, policy: policy,
            tags: tags, checksumAlgorithm: algorithm, checksumType: algorithm == nil ? nil : type, ownerID: p.user.id,
            platformUpload: platformUpload, lock: lock, encryption: key?.encryption)
        do { try await state.store.createUpload(upload) } catch {
            await state.collectGarbage([platformUpload, pending].compactMap { $0 })
            throw error
        }
        if let pending { try? await state.store.forgetJournal([pending]) }
        var x = XMLWriter()
        x.open("InitiateMultipartUploadResult", xmlns: true)
        x.element("Bucket", b.name)
        x.element("Key", ex.ctx.key)
        x.element("UploadId", upload.uploadID)
        x.close("InitiateMultipartUploadResult")
        var extra: [(String, String)] = []
        if let a = algorithm { extra.append(("x-amz-checksum-algorithm", a.rawValue)) }
        if let t = upload.checksumType { extra.append(("x-amz-checksum-type", t)) }
        return .xml(x.document, headers: extra + Self.sseHeaders(upload.encryption))
    }

    /// The upload a request names, in the addressed bucket and key.
    func currentUpload(_ ex: S3Call, _ b: BucketRecord) async throws -> UploadRecord {
        let id = ex.ctx.query["uploadId"] ?? ""
        guard let u = try await state.store.upload(id: id), u.bucketID == b.id, u.key == ex.ctx.key else {
            throw S3Error.noSuchUpload(id)
        }
        return u
    }

    /// The data key an upload's parts are encrypted with (SSE-C: the customer's key must come with
    /// every part, as in S3); nil for an upload that is not encrypted.
    func uploadKey(_ ex: S3Call, _ u: UploadRecord) async throws -> ObjectKey? {
        guard let e = u.encryption else {
            if try customerKey(ex, prefix: Self.ssecHeader) != nil {
                throw S3Error.invalidRequest("The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.")
            }
            return nil
        }
        guard let key = try await readKey(ex, e) else { return nil }
        return ObjectKey(key: key, encryption: e)
    }

    func partNumber(_ ex: S3Call) throws -> Int {
        let s = ex.ctx.query["partNumber"] ?? ""
        guard let n = ASCIIDecimal.int(s), (1...Self.maxParts).contains(n) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: s)
        }
        return n
    }

    func uploadPart(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let n = try partNumber(ex)
        let u = try await currentUpload(ex, b)
        if let a = u.checksumAlgorithm, let named = try requestedChecksum(ex), named.algorithm != a {
            throw S3Error.invalidRequest("Checksum Type mismatch occurred, expected checksum Type: \(a.rawValue.lowercased()), actual checksum Type: \(named.algorithm.rawValue.lowercased())")
        }
        let key = try await uploadKey(ex, u)
        let (out, blob, cipher) = try await receivePart(ex, b, u, number: n, key: key)
        // The upload's algorithm; for an upload without one, the CRC64NVME its object gets by default
        // (a part sent with another algorithm's checksum is checked, not kept).
        let checksum = out.checksum.flatMap { c in
            u.checksumAlgorithm != nil || c.algorithm == .crc64nvme ? Data(c.digest).base64EncodedString() : nil
        }
        let part = PartRecord(
            uploadID: u.uploadID, partNumber: n, size: out.size, etag: Self.etag(out.md5, cipher, key), blob: blob, checksum: checksum,
            lastModified: Date(), cipher: cipher)
        do {
            try await state.store.putPart(part)
        } catch StoreError.notFound {
            throw S3Error.noSuchUpload(u.uploadID)  // aborted meanwhile; the store journalled the blob as garbage
        } catch {
            if u.platformUpload == nil { await discard(blob) }
            throw error
        }
        var headers: [(String, String)] = [("ETag", "\"\(part.etag)\"")]
        if let c = out.checksum { headers.append((c.algorithm.headerName, Data(c.digest).base64EncodedString())) }
        return .status(200, headers: headers + Self.sseHeaders(u.encryption))
    }

    func uploadPartCopy(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let n = try partNumber(ex)
        let u = try await currentUpload(ex, b)
        let (sb, so) = try await copySource(ex)
        let sourceKey = try await readKey(ex, so.storage.encryption, prefix: Self.copySSECHeader)
        let key = try await uploadKey(ex, u)
        var first: Int64 = 0
        var count = so.size
        if let r = ex.ctx.header("x-amz-copy-source-range") {
            guard case .range(let range) = RangeHeader.evaluate(r, size: so.size), r.contains("-"), !r.hasPrefix("bytes=-") else {
                throw S3Error("InvalidRange", message: "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
            }
            first = range.first
            count = range.count
        }
        if count > state.current.maxPutSize { throw S3Error("EntityTooLarge") }
        _ = try await readSmallBody(ex, limit: 0)
        let copy = try await copyPart(so, first: first, count: count, b, u, number: n, sourceKey: sourceKey, key: key)
        let part = PartRecord(
            uploadID: u.uploadID, partNumber: n, size: count, etag: Self.etag(copy.md5, copy.cipher, key), blob: copy.blob,
            checksum: copy.checksum.map { Data($0).base64EncodedString() }, lastModified: Date(), cipher: copy.cipher)
        do { try await state.store.putPart(part) } catch StoreError.notFound { throw S3Error.noSuchUpload(u.uploadID) } catch {
            if u.platformUpload == nil { await discard(copy.blob) }
            throw error
        }
        var x = XMLWriter()
        x.open("CopyPartResult", xmlns: true)
        x.element("LastModified", HTTPDate.iso(part.lastModified))
        x.element("ETag", "\"\(part.etag)\"")
        if let a = u.checksumAlgorithm, let c = part.checksum { x.element(a.xmlName, c) }
        x.close("CopyPartResult")
        let source: [(String, String)] = sb.settings.versioned || so.versionID != nil ? [("x-amz-copy-source-version-id", so.versionName)] : []
        return .xml(x.document, headers: source + Self.sseHeaders(u.encryption))
    }

    /// The platform upload behind a VOSS upload, if its platform assembles parts itself.
    func platformUpload(_ u: UploadRecord) throws -> (blob: String, handle: String, mp: any BlobMultipart)? {
        guard let ref = u.platformUpload, let (blob, handle) = BlobID.splitPartReference(ref) else { return nil }
        guard let mp = try state.platforms.platform(of: blob).multipart else {
            throw PlatformUnavailable(platform: BlobID.platform(of: blob), reason: "it no longer takes multipart uploads")
        }
        return (blob, handle, mp)
    }

    /// Receives one part: into a blob of its own, or as a part of the platform's upload (its record
    /// then names the upload, `BLOB#HANDLE`).
    func receivePart(_ ex: S3Call, _ b: BucketRecord, _ u: UploadRecord, number n: Int, key: ObjectKey?) async throws
        -> (BodyOutcome, String, PartCipher?)
    {
        let max = state.current.maxPutSize
        guard let (blob, handle, mp) = try platformUpload(u) else {
            return try await receiveIntoNewBlob(ex, bucket: b, maxSize: max, checksumDefault: u.partChecksum, key: key)
        }
        let length = try bodyFraming(ex).3
        if let length, length > max { throw S3Error("EntityTooLarge", details: [("ProposedSize", String(length)), ("MaxSizeAllowed", String(max))]) }
        let (sink, sealed) = sealing(try await mp.partWriter(blob, handle: handle, part: n, length: length), key, digest: true)
        do {
            let out = try await receiveBody(ex, into: .blob(sink), maxSize: max, checksumDefault: u.partChecksum)
            try await sink.commit(md5: out.md5)
            return (out, BlobID.partReference(blob, handle: handle), sealed?.cipher)
        } catch {
            await sink.abort()
            throw error
        }
    }

    /// UploadPartCopy's bytes: on the platform itself when it can (a plain range of one of its blobs,
    /// no checksum to compute), else streamed through VOSS.
    func copyPart(
        _ so: ObjectRecord, first: Int64, count: Int64, _ b: BucketRecord, _ u: UploadRecord, number n: Int, sourceKey: SymmetricKey?,
        key: ObjectKey?
    ) async throws -> (md5: [UInt8], checksum: [UInt8]?, blob: String, cipher: PartCipher?) {
        guard let (blob, handle, mp) = try platformUpload(u) else {
            return try await copyBytes(so, first: first, count: count, checksum: u.partChecksum, into: b, sourceKey: sourceKey, key: key)
        }
        let ref = BlobID.partReference(blob, handle: handle)
        let segments = so.storage.segments(first: first, count: count)
        if u.checksumAlgorithm == nil, key == nil, so.storage.encryption == nil, segments.count == 1, let seg = segments.first,
            BlobID.platform(of: seg.blob) == BlobID.platform(of: blob),
            let etag = try await mp.copyPart(blob, handle: handle, part: n, from: seg.blob, offset: seg.offset, count: seg.length),
            let md5 = Self.unhex(etag), md5.count == 16
        {
            return (md5, nil, ref, nil)
        }
        let (sink, sealed) = sealing(try await mp.partWriter(blob, handle: handle, part: n, length: count), key, digest: true)
        do {
            let (md5, sum) = try await pump(so, first: first, count: count, checksum: u.partChecksum, into: sink, sourceKey: sourceKey)
            try await sink.commit(md5: md5)
            return (md5, sum, ref, sealed?.cipher)
        } catch {
            await sink.abort()
            throw error
        }
    }

    static func unquote(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("&quot;") { t = String(t.dropFirst(6).dropLast(6)) }
        if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = String(t.dropFirst().dropLast()) }
        return t
    }

    func completeMultipartUpload(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let p = try requirePrincipal(ex)
        let condition = try writeCondition(ex)
        let u: UploadRecord
        do {
            u = try await currentUpload(ex, b)
        } catch let e as S3Error where e.code == "NoSuchUpload" {
            // Sent again after a lost answer (SDKs retry it): the upload completed into this key.
            let id = ex.ctx.query["uploadId"] ?? ""
            guard let done = try await state.store.completedObject(bucketID: b.id, key: ex.ctx.key, uploadID: id) else { throw e }
            _ = try await readSmallBody(ex, limit: 4 << 20)
            return .xml(completeResult(b, done), headers: versionHeaders(b, done))
        }
        try await precheck(condition, b, key: u.key)
        let body = try await readSmallBody(ex, limit: 4 << 20)
        guard let root = try? XMLParser.parse(body), root.name == "CompleteMultipartUpload" else { throw S3Error("MalformedXML") }
        let listed = root.all("Part")
        guard !listed.isEmpty else {
            throw S3Error("MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema")
        }
        var stored: [Int: PartRecord] = [:]
        var after = 0
        while true {
            let batch = try await state.store.parts(uploadID: u.uploadID, after: after, limit: 1000)
            for part in batch { stored[part.partNumber] = part }
            guard let last = batch.last, batch.count == 1000 else { break }
            after = last.partNumber
        }
        var chosen: [PartRecord] = []
        var previous = 0
        for e in listed {
            guard let n = e.childText("PartNumber").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), let etag = e.childText("ETag") else {
                throw S3Error("MalformedXML")
            }
            guard n > previous else { throw S3Error("InvalidPartOrder", details: [("UploadId", u.uploadID)]) }
            previous = n
            guard let part = stored[n], part.etag == Self.unquote(etag) else {
                throw S3Error("InvalidPart", details: [("UploadId", u.uploadID), ("PartNumber", String(n)), ("ETag", etag)])
            }
            if let a = u.checksumAlgorithm {
                guard let c = part.checksum else { throw S3Error("InvalidPart", message: "The upload was created with a \(a.rawValue) checksum; part \(n) was uploaded without one.") }
                if let given = e.childText(a.xmlName), given.trimmingCharacters(in: .whitespaces) != c {
                    throw S3Error("InvalidPart", message: "The \(a.rawValue) of part \(n) does not match the checksum it was uploaded with.", details: [("PartNumber", String(n))])
                }
            }
            chosen.append(part)
        }
        for (i, part) in chosen.enumerated() where i < chosen.count - 1 && part.size < Self.minPartSize {
            throw S3Error("EntityTooSmall", details: [("ProposedSize", String(part.size)), ("MinSizeAllowed", String(Self.minPartSize)), ("PartNumber", String(part.partNumber))])
        }
        // ETag: MD5 of the concatenated binary part MD5s, then -N.
        var md5 = RunningMD5()
        for part in chosen { (Self.unhex(part.etag) ?? []).withUnsafeBytes { md5.update($0) } }
        let etag = Self.hex(md5.finish()) + "-\(chosen.count)"
        var checksum: StoredChecksum?
        if let a = u.checksumAlgorithm {
            let digests = chosen.compactMap { $0.checksum.flatMap { a.decode($0) } }
            if u.checksumType == "FULL_OBJECT" {
                guard let full = MultipartChecksum.fullObject(a, parts: zip(digests, chosen).map { ($0, UInt64($1.size)) }) else {
                    throw S3Error.internalError
                }
                checksum = StoredChecksum(algorithm: a, value: Data(full).base64EncodedString(), type: "FULL_OBJECT")
            } else {
                checksum = StoredChecksum(algorithm: a, value: MultipartChecksum.composite(a, partDigests: digests), type: "COMPOSITE")
            }
            if let expected = ex.ctx.header(a.headerName), checksum?.type == "FULL_OBJECT", expected != checksum?.value {
                throw S3Error("BadDigest", message: "The \(a.rawValue) you specified did not match the calculated checksum.")
            }
        } else {
            // No algorithm asked for: S3's default, a full-object CRC64NVME — when every part has one
            // (a part copied by the platform itself, or kept from before this release, has none).
            let digests = chosen.compactMap { $0.checksum.flatMap { ChecksumAlgorithm.crc64nvme.decode($0) } }
            if digests.count == chosen.count,
                let full = MultipartChecksum.fullObject(.crc64nvme, parts: zip(digests, chosen).map { ($0, UInt64($1.size)) })
            {
                checksum = StoredChecksum(algorithm: .crc64nvme, value: Data(full).base64EncodedString(), type: "FULL_OBJECT")
            }
        }
        let size = chosen.reduce(Int64(0)) { $0 + $1.size }
        // Each part keeps its checksum when the client asked for an algorithm (GetObjectAttributes lists them).
        let partSum = { (p: PartRecord) in u.checksumAlgorithm == nil ? nil : p.checksum }
        var pieces = chosen.map { ObjectStorage.Piece(blob: $0.blob, size: $0.size, iv: $0.cipher?.iv, checksum: partSum($0)) }
        let assembled = try platformUpload(u)
        if let (blob, handle, mp) = assembled {
            // The platform assembles the parts into one blob; the pieces are its stretches (it may
            // assemble parts the client left out: they are skipped).
            try await state.store.journalNewBlob(blob)
            var offsets: [Int: Int64]
            do {
                // The platform knows a part by the MD5 of what it stores (the ciphertext, for encrypted ones).
                offsets = try await mp.complete(blob, handle: handle, parts: chosen.map { ($0.partNumber, $0.cipher?.storedMD5 ?? $0.etag) })
            } catch is AlreadyCompleted {
                // An earlier attempt completed it on the platform; its answer was lost.
                offsets = [:]
                var offset: Int64 = 0
                for part in stored.values.sorted(by: { $0.partNumber < $1.partNumber }) {
                    offsets[part.partNumber] = offset
                    offset += part.size
                }
            } catch UpstreamError.status(_, let code, _) where code == "EntityTooSmall" || code == "InvalidPart" {
                try? await state.store.forgetJournal([blob])
                if code == "InvalidPart" {
                    throw S3Error("InvalidPart", message: "A part on the storage platform differs from the one recorded; upload it again.",
                                  details: [("UploadId", u.uploadID)])
                }
                throw S3Error(
                    "EntityTooSmall",
                    message: "This bucket's storage platform assembles every uploaded part, and one that is not the last is smaller than 5 MiB.",
                    details: [("MinSizeAllowed", String(Self.minPartSize))])
            }
            pieces = chosen.map {
                ObjectStorage.Piece(blob: blob, size: $0.size, offset: offsets[$0.partNumber] ?? 0, iv: $0.cipher?.iv, checksum: partSum($0))
            }
        }
        let record = ObjectRecord(
            bucketID: b.id, key: u.key, size: size, etag: etag, lastModified: Date(), headers: u.headers, checksum: checksum,
            policy: u.policy, tags: u.tags, storage: ObjectStorage(pieces: pieces, encryption: u.encryption), ownerID: p.user.id,
            versionID: nextVersionID(b),
            uploadID: u.uploadID, lock: u.lock ?? b.settings.objectLock?.defaultLock(from: Date()))
        let old: ObjectRecord?
        do {
            old = try await state.store.completeUpload(uploadID: u.uploadID, object: record, versioned: b.settings.versioned, condition: condition)
        } catch StoreError.notFound(let what) where what == "upload" {
            if let (blob, _, _) = assembled { await discard(blob) }
            // Completed by a concurrent retry of this request.
            if let done = try await state.store.completedObject(bucketID: b.id, key: u.key, uploadID: u.uploadID) {
                return .xml(completeResult(b, done), headers: versionHeaders(b, done))
            }
            throw S3Error.noSuchUpload(u.uploadID)
        } catch {
            if let (blob, _, _) = assembled { await discard(blob) }
            throw error
        }
        var garbage = stored.values.map(\.blob).filter { b in !chosen.contains { $0.blob == b } }
        if let old { garbage += old.storage.blobs }
        let collected = garbage
        return .xml(
            completeResult(b, record), headers: versionHeaders(b, record) + Self.sseHeaders(record.storage.encryption),
            after: { [state] in await state.collectGarbage(collected) })
    }

    func completeResult(_ b: BucketRecord, _ o: ObjectRecord) -> String {
        var x = XMLWriter()
        x.open("CompleteMultipartUploadResult", xmlns: true)
        x.element("Location", "/\(b.name)/\(o.key)")
        x.element("Bucket", b.name)
        x.element("Key", o.key)
        x.element("ETag", "\"\(o.etag)\"")
        if let c = o.checksum {
            x.element(c.algorithm.xmlName, c.value)
            x.element("ChecksumType", c.type)
        }
        x.close("CompleteMultipartUploadResult")
        return x.document
    }

    func abortMultipartUpload(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let u = try await currentUpload(ex, b)
        guard let blobs = try await UploadExpiry.abort(state.store, u) else { throw S3Error.noSuchUpload(u.uploadID) }
        let collected = blobs
        return .status(204, after: { [state] in await state.collectGarbage(collected) })
    }

    func listParts(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let u = try await currentUpload(ex, b)
        let marker = Int(ex.ctx.query["part-number-marker"] ?? "0") ?? 0
        let maxParts = try self.maxKeys(ex, name: "max-parts")
        let parts = try await state.store.parts(uploadID: u.uploadID, after: marker, limit: maxParts + 1)
        let shown = Array(parts.prefix(maxParts))
        var x = XMLWriter()
        x.open("ListPartsResult", xmlns: true)
        x.element("Bucket", b.name)
        x.element("Key", u.key)
        x.element("UploadId", u.uploadID)
        x.element("PartNumberMarker", marker)
        if let last = shown.last { x.element("NextPartNumberMarker", last.partNumber) }
        x.element("MaxParts", maxParts)
        x.element("IsTruncated", parts.count > maxParts)
        if let a = u.checksumAlgorithm { x.element("ChecksumAlgorithm", a.rawValue) }
        if let t = u.checksumType { x.element("ChecksumType", t) }
        x.open("Initiator")
        x.element("ID", u.ownerID)
        x.close("Initiator")
        x.open("Owner")
        x.element("ID", b.tenantID)
        x.close("Owner")
        x.element("StorageClass", "STANDARD")
        for part in shown {
            x.open("Part")
            x.element("PartNumber", part.partNumber)
            x.element("LastModified", HTTPDate.iso(part.lastModified))
            x.element("ETag", "\"\(part.etag)\"")
            x.element("Size", Int(part.size))
            if let a = u.checksumAlgorithm, let c = part.checksum { x.element(a.xmlName, c) }
            x.close("Part")
        }
        x.close("ListPartsResult")
        return .xml(x.document)
    }
}

extension UploadRecord {
    /// What its parts are checksummed with: the upload's algorithm, else CRC64NVME (from which the
    /// object's default full-object CRC64NVME is combined at completion, as S3 does).
    var partChecksum: ChecksumAlgorithm { checksumAlgorithm ?? .crc64nvme }
}

