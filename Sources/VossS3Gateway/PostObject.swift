import VossBase
import Foundation
import NIOCore
import VossBlobStore
import VossChecksums
import VossS3Core
import VossS3Store
import VossSigV4
import Synchronization
import VossConfig

/// POST object: an HTML form uploads a file to a bucket. The form carries a base64 policy signed
/// with SigV4 (`x-amz-credential`, `x-amz-date`, `x-amz-signature`); every field must meet the
/// policy's conditions. The body is read as it streams: fields first (bounded), then the file's bytes
/// go to a new blob without being held in memory (on `local`; an upstream platform needs a length
/// first, so there the file is staged in memory up to 64 MiB).
extension S3Service {
    static let postStagingLimit: Int64 = 64 << 20

    func postObject(_ ex: S3Call) async throws -> S3Response {
        guard let ct = ex.ctx.header("content-type"), let boundary = FormDataReader.boundary(contentType: ct) else {
            throw S3Error(
                "PreconditionFailed", message: "Bucket POST must be of the enclosure-type multipart/form-data",
                details: [("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")])
        }
        guard let target = try await state.store.bucket(named: ex.ctx.bucket) else { throw S3Error.noSuchBucket(ex.ctx.bucket) }
        ex.body.acceptBody()
        var reader = FormDataReader(boundary: boundary)
        var fields: [String: String] = [:]
        var file: (filename: String, contentType: String?)?
        var early: [[UInt8]] = []
        var fileEnded = false
        func take(_ e: FormDataReader.Event) throws {
            switch e {
            case .field(let name, let value):
                let n = name.lowercased()
                guard fields[n] == nil else { throw S3Error.invalidArgument("The form field \(name) is given twice.", name: name) }
                if file == nil { fields[n] = value }  // fields after the file are ignored, as S3 does
            case .file(let filename, let type): file = (filename, type)
            case .data(let d): early.append(d)
            case .fileEnd: fileEnded = true
            }
        }
        // The fields, up to the start of the file.
        while file == nil, let buf = try await ex.body.nextBody() {
            state.counters.bytesIn.add(Int64(buf.readableBytes), ordering: .relaxed)
            try buf.withUnsafeReadableBytes { p in try reader.feed(p, emit: take) }
        }
        guard let file else {
            throw S3Error.invalidArgument("POST requires exactly one file upload per request.", name: "file", value: "0")
        }

        // Who signed the form, and does the form meet its policy.
        fields["bucket"] = target.name
        var policy: PostPolicy?
        if let policyText = fields["policy"], let ak = fields["awsaccesskeyid"] {
            // Signature version 2 (what boto3 makes for endpoints other than AWS's): base64 HMAC-SHA1.
            guard let p = try await state.identity.principal(ak) else { throw S3Error("InvalidAccessKeyId", details: [("AWSAccessKeyId", ak)]) }
            let expected = SigV2.signature(secret: p.secret, stringToSign: policyText)
            guard let given = fields["signature"], SigV4.signaturesEqual(given, expected) else { throw S3Error("SignatureDoesNotMatch", details: [("AWSAccessKeyId", ak), ("StringToSign", policyText)]) }
            let parsed = try PostPolicy.parse(base64: policyText).get()
            if let e = parsed.check(fields: fields, now: Date()) { throw e }
            policy = parsed
            ex.ctx.principal = p
        } else if let policyText = fields["policy"] {
            guard fields["x-amz-algorithm"] == SigV4.algorithm else {
                throw S3Error.invalidArgument("POST forms must be signed with AWS4-HMAC-SHA256 (x-amz-algorithm).", name: "x-amz-algorithm")
            }
            let cred = (fields["x-amz-credential"] ?? "").split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard cred.count == 5, cred[3] == "s3", cred[4] == "aws4_request", let date = fields["x-amz-date"], date.hasPrefix(cred[1]),
                let given = fields["x-amz-signature"]
            else {
                throw S3Error.invalidArgument("x-amz-credential, x-amz-date and x-amz-signature must describe a SigV4 signature.", name: "x-amz-credential")
            }
            guard cred[2] == state.current.region || state.platforms.regionNames.contains(cred[2]) else {
                throw S3Error("AuthorizationQueryParametersError", message: "the region '\(cred[2])' is wrong; expecting '\(state.current.region)'", details: [("Region", state.current.region)])
            }
            guard let p = try await state.identity.principal(cred[0]) else {
                throw S3Error("InvalidAccessKeyId", details: [("AWSAccessKeyId", cred[0])])
            }
            let expected = SigV4.signature(key: state.identity.signingKey(p, date: cred[1], region: cred[2]), stringToSign: policyText)
            guard SigV4.signaturesEqual(expected, given.lowercased()) else {
                throw S3Error("SignatureDoesNotMatch", details: [("AWSAccessKeyId", cred[0]), ("StringToSign", policyText), ("SignatureProvided", given)])
            }
            let parsed = try PostPolicy.parse(base64: policyText).get()
            if let e = parsed.check(fields: fields, now: Date()) { throw e }
            policy = parsed
            ex.ctx.principal = p
        }
        let b = try await bucket(ex, access: .write)
        let p = try requirePrincipal(ex)
        guard var key = fields["key"] else { throw S3Error.invalidArgument("Bucket POST must contain a field named 'key'.", name: "key") }
        key = key.replacingOccurrences(of: "${filename}", with: file.filename)
        if let problem = S3Names.keyProblem(key) { throw problem }
        var headerPairs = fields.filter { k, _ in
            ["content-type", "cache-control", "content-disposition", "content-encoding", "expires"].contains(k) || k.hasPrefix("x-amz-meta-")
        }.map { ($0.key, $0.value) }
        if fields["content-type"] == nil, let t = file.contentType { headerPairs.append(("content-type", t)) }
        let headers = try ObjectHeaders.from(headerPairs).get()
        let access = try accessPolicy { fields[$0 == "x-amz-acl" ? "acl" : $0] } ?? .private
        try checkACLAllowed(b, access)
        let tags = try fields["tagging"].map { try Tags.parseXML(Array($0.utf8), max: 10).get() } ?? [:]

        // Encryption: the form's x-amz-server-side-encryption field, else the bucket's default.
        let sse = try fields["x-amz-server-side-encryption"].map(Self.serverSideEncryption) ?? (b.settings.encryption != nil ? .s3 : .none)
        if fields.keys.contains(where: { $0.hasPrefix(Self.ssecHeader) }) {
            throw S3Error("NotImplemented", status: 501, message: "Customer-provided keys (SSE-C) are not taken in browser form uploads; use AES256 or a PUT.")
        }
        let dataKey = try await newObjectKey(sse)

        // The file's bytes.
        let platform = try platform(of: b)
        let staged = b.platform != PlatformConfig.local
        let blob = platform.newID(tenant: b.tenantID)
        try await state.store.journalNewBlob(blob)
        var md5 = RunningMD5()
        // The file's checksum: an x-amz-checksum-ALG field is checked and kept; else CRC64NVME, as for a PUT.
        let given = ChecksumAlgorithm.allCases.compactMap { a in fields[a.headerName].map { (a, $0) } }
        guard given.count <= 1 else { throw S3Error.invalidRequest("Expecting a single x-amz-checksum- field but found \(given.count)") }
        var algorithm = given.first?.0 ?? .crc64nvme
        if let named = fields["x-amz-checksum-algorithm"] {
            guard let a = ChecksumAlgorithm(caseInsensitive: named), given.isEmpty || given[0].0 == a else {
                throw S3Error.invalidRequest("Value for x-amz-checksum-algorithm is invalid or does not match the x-amz-checksum- field.")
            }
            algorithm = a
        }
        if let (a, v) = given.first, a.decode(v) == nil {
            throw S3Error.invalidRequest("Value for \(a.headerName) header is invalid.")
        }
        var crc = RunningChecksum(algorithm)
        var size: Int64 = 0
        var batch = ByteBuffer()
        var stage: [UInt8] = []
        let limit = min(state.current.maxPutSize, policy.flatMap { p in
            p.conditions.compactMap { if case .lengthRange(_, let hi) = $0 { hi } else { nil } }.min()
        } ?? Int64.max)
        var writer: (any BlobSink)? = nil
        var sealed: EncryptingSink? = nil
        do {
            if !staged { (writer, sealed) = sealing(try await platform.makeWriter(blob, length: nil), dataKey, digest: platform.name != BlobID.local) }
            func consume(_ d: [UInt8]) async throws {
                size += Int64(d.count)
                guard size <= limit, !staged || size <= Self.postStagingLimit else {
                    throw S3Error("EntityTooLarge", details: [("ProposedSize", String(size)), ("MaxSizeAllowed", String(min(limit, staged ? Self.postStagingLimit : limit)))])
                }
                d.withUnsafeBytes { r in
                    md5.update(r)
                    crc.update(r)
                }
                if staged {
                    stage += d
                } else if let w = writer {
                    batch.writeBytes(d)
                    if batch.readableBytes >= 1 << 20 {
                        try await w.write(batch)
                        batch.clear()
                    }
                }
            }
            for d in early { try await consume(d) }
            early = []
            while let buf = try await ex.body.nextBody() {
                state.counters.bytesIn.add(Int64(buf.readableBytes), ordering: .relaxed)
                var pieces: [[UInt8]] = []
                try buf.withUnsafeReadableBytes { r in
                    try reader.feed(r) { e in
                        if case .data(let d) = e, !fileEnded { pieces.append(d) }
                        if case .fileEnd = e { fileEnded = true }
                    }
                }
                for d in pieces { try await consume(d) }
            }
            try reader.finish()
            guard fileEnded else { throw S3Error("IncompleteBody") }
            if let e = policy?.checkSize(size) { throw e }
            let sum = crc.finish()
            if let (a, v) = given.first, Data(sum).base64EncodedString() != v {
                throw S3Error("BadDigest", message: "The \(a.rawValue) you specified did not match the calculated checksum.")
            }
            let digest = md5.finish()
            if staged {
                let (w, s) = sealing(try await platform.makeWriter(blob, length: size), dataKey, digest: platform.name != BlobID.local)
                (writer, sealed) = (w, s)
                if !stage.isEmpty { try await w.write(ByteBuffer(bytes: stage)) }
            } else if let w = writer, batch.readableBytes > 0 {
                try await w.write(batch)
            }
            guard let w = writer else { throw S3Error.internalError }
            try await w.commit(md5: digest)
            let record = ObjectRecord(
                bucketID: b.id, key: key, size: size, etag: Self.hex(digest), lastModified: Date(), headers: headers,
                checksum: StoredChecksum(algorithm: algorithm, value: Data(sum).base64EncodedString(), type: "FULL_OBJECT"),
                policy: access, tags: tags,
                storage: ObjectStorage(pieces: [.init(blob: blob, size: size, iv: sealed?.iv)], encryption: dataKey?.encryption),
                ownerID: p.user.id, versionID: nextVersionID(b), lock: b.settings.objectLock?.defaultLock(from: Date()))
            let old = try await state.store.putObject(record, versioned: b.settings.versioned, condition: nil)
            return postAnswer(b, record, fields: fields, after: collecting(old))
        } catch {
            if let w = writer { await w.abort() }
            await discard(blob)
            throw error
        }
    }

    /// `success_action_redirect` (303 to it, with bucket, key and ETag), else `success_action_status`
    /// (200, 201 with a PostResponse document, or 204 — the default).
    func postAnswer(_ b: BucketRecord, _ o: ObjectRecord, fields: [String: String], after: (@Sendable () async -> Void)?) -> S3Response {
        let location = "/\(b.name)/\(SigV4.uriEncode(o.key.utf8, encodeSlash: false))"
        var headers = [("ETag", "\"\(o.etag)\""), ("Location", location)] + versionHeaders(b, o) + Self.sseHeaders(o.storage.encryption)
        if let redirect = fields["success_action_redirect"] ?? fields["redirect"], let url = URLComponents(string: redirect),
            url.scheme == "http" || url.scheme == "https"
        {
            var u = url
            u.queryItems = (u.queryItems ?? []) + [
                URLQueryItem(name: "bucket", value: b.name), URLQueryItem(name: "key", value: o.key),
                URLQueryItem(name: "etag", value: "\"\(o.etag)\""),
            ]
            headers[1] = ("Location", u.string ?? redirect)
            return .status(303, headers: headers, after: after)
        }
        switch fields["success_action_status"] {
        case "200": return .status(200, headers: headers, after: after)
        case "201":
            var x = XMLWriter()
            x.open("PostResponse")
            x.element("Location", location)
            x.element("Bucket", b.name)
            x.element("Key", o.key)
            x.element("ETag", "\"\(o.etag)\"")
            x.close("PostResponse")
            return .xml(x.document, status: 201, headers: headers, after: after)
        default: return .status(204, headers: headers, after: after)
        }
    }
}
