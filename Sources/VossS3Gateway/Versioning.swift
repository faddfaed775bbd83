import VossBase
import Foundation
import VossS3Core
import VossS3Store
import Logging
import VossChecksums

/// Versioning (PutBucketVersioning, version ids on writes, reads and deletes by `versionId`,
/// ListObjectVersions) and conditional writes. The store keeps the versions (decision 40).
extension S3Service {
    static let versionAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")

    /// A new version id: 32 characters that need no escaping in a URL.
    static func newVersionID() -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in versionAlphabet[Int(rng.next() as UInt8) % versionAlphabet.count] })
    }

    /// The version id the next write to `b` creates (nil: the null version).
    func nextVersionID(_ b: BucketRecord) -> String? { b.settings.versioning == .enabled ? Self.newVersionID() : nil }

    /// `x-amz-version-id` for an object of `b` (none in a bucket that never had versioning).
    func versionHeaders(_ b: BucketRecord, _ o: ObjectRecord) -> [(String, String)] {
        b.settings.versioned || o.versionID != nil ? [("x-amz-version-id", o.versionName)] : []
    }

    /// The `versionId` query parameter: absent → nil; `null` → the null version.
    func requestedVersion(_ ex: S3Call) throws -> String?? {
        guard let v = ex.ctx.query["versionId"] else { return nil }
        guard !v.isEmpty else { throw S3Error.invalidArgument("Version id cannot be the empty string", name: "versionId", value: v) }
        if v == "null" { return .some(nil) }
        guard Self.isVersionID(v) else { throw S3Error.invalidArgument("Invalid version id specified", name: "versionId", value: v) }
        return .some(v)
    }

    /// Whether `v` has the form of the version ids VOSS makes.
    static func isVersionID(_ v: String) -> Bool {
        v.utf8.count == 32 && v.utf8.allSatisfy { c in versionAlphabet.contains(Character(Unicode.Scalar(c))) }
    }

    /// `If-None-Match: *` / `If-Match: ETAG` on a write (PutObject, CompleteMultipartUpload).
    func writeCondition(_ ex: S3Call) throws -> WriteCondition? {
        if let v = ex.ctx.header("if-none-match") {
            guard v.trimmingCharacters(in: .whitespaces) == "*" else {
                throw S3Error("NotImplemented", message: "If-None-Match on a write supports only '*'.", details: [("Header", "If-None-Match")])
            }
            return .absent
        }
        if let v = ex.ctx.header("if-match") { return .etag(Self.unquote(v)) }
        return nil
    }

    /// Fails early (before a body is read) when a conditional write cannot succeed; the store
    /// checks again when it commits.
    func precheck(_ condition: WriteCondition?, _ b: BucketRecord, key: String) async throws {
        guard let condition else { return }
        let current = try await state.store.object(bucketID: b.id, key: key)
        switch condition {
        case .absent:
            if current != nil { throw S3Error("PreconditionFailed", details: [("Condition", "If-None-Match")]) }
        case .etag(let e):
            guard let current else { throw S3Error.noSuchKey(key) }
            if current.etag != e { throw S3Error("PreconditionFailed", details: [("Condition", "If-Match")]) }
        }
    }

    /// The object a GET/HEAD/copy reads: the current one, or the version asked for. Delete markers
    /// answer as S3 does (404 with `x-amz-delete-marker` when current, 405 when asked for by id).
    /// `current`: the current version when the caller has already read it (`bucketAndObject`).
    func readableObject(
        _ b: BucketRecord, key: String, version: String??, principal: Principal?, policyAllowed: Bool = false,
        current: ObjectRecord?? = nil
    ) async throws -> ObjectRecord {
        let canList = policyAllowed || Access.canRead(bucket: b, principal: principal)
        if let version {
            guard let o = try await state.store.objectVersion(bucketID: b.id, key: key, versionID: version) else {
                throw canList
                    ? S3Error("NoSuchVersion", details: [("Key", key), ("VersionId", version ?? "null")]) : S3Error.accessDenied
            }
            if o.deleteMarker {
                throw S3Error(
                    "MethodNotAllowed", message: "The specified method is not allowed against this resource.",
                    details: [("Method", "GET"), ("ResourceType", "DeleteMarker")],
                    headers: [
                        ("x-amz-delete-marker", "true"), ("x-amz-version-id", o.versionName),
                        ("Last-Modified", HTTPDate.format(o.lastModified)), ("Allow", "DELETE"),
                    ])
            }
            return o
        }
        let found: ObjectRecord?
        if let current { found = current } else { found = try await state.store.object(bucketID: b.id, key: key) }
        if let o = found { return o }
        guard canList else { throw S3Error.accessDenied }
        var e = S3Error.noSuchKey(key)
        if b.settings.versioned, let m = try await state.store.latestDeleteMarker(bucketID: b.id, key: key) {
            e.headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", m.versionName)]
        }
        throw e
    }

    // MARK: configuration

    func putBucketVersioning(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        let body = try await readSmallBody(ex, limit: 64 << 10)
        guard let root = try? XMLParser.parse(body), root.name == "VersioningConfiguration" else { throw S3Error("MalformedXML") }
        if let mfa = root.childText("MfaDelete"), mfa == "Enabled" {
            throw S3Error(
                "InvalidArgument", message: "MFA delete is not supported by VOSS.", details: [("ArgumentName", "MfaDelete")])
        }
        switch root.childText("Status") {
        case "Enabled": b.settings.versioning = .enabled
        case "Suspended":
            if b.settings.objectLock != nil {
                throw S3Error("InvalidBucketState", status: 409, message: "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
            }
            // Suspending a bucket that never had versioning leaves it unversioned (as S3 answers it).
            if b.settings.versioning != nil { b.settings.versioning = .suspended }
        case nil: break
        default: throw S3Error("MalformedXML")
        }
        try await state.store.updateBucket(b)
        state.logger.info("bucket versioning", metadata: ["bucket": "\(b.name)", "status": "\(b.settings.versioning?.rawValue ?? "off")"])
        return .status(200)
    }

    func getBucketVersioning(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .owner)
        var x = XMLWriter()
        x.open("VersioningConfiguration", xmlns: true)
        if let v = b.settings.versioning { x.element("Status", v.rawValue) }
        x.close("VersioningConfiguration")
        return .xml(x.document)
    }

    // MARK: listing

    func listObjectVersions(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .read)
        let q = ex.ctx.query
        let prefix = q["prefix"] ?? ""
        let delimiter = (q["delimiter"] ?? "").isEmpty ? nil : q["delimiter"]
        let maxKeys = try self.maxKeys(ex)
        let encode = q["encoding-type"]
        if let e = encode, e != "url" {
            throw S3Error("InvalidArgument", message: "Invalid Encoding Method specified in Request", details: [("ArgumentName", "encoding-type")])
        }
        func enc(_ s: String) -> String { encode == "url" ? ListEncoding.encode(s) : s }
        let keyMarker = q["key-marker"] ?? ""
        let versionMarker = q["version-id-marker"] ?? ""
        if !versionMarker.isEmpty && keyMarker.isEmpty {
            throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.", name: "version-id-marker", value: versionMarker)
        }
        // Where to start: after every version of the key marker (or past its whole common prefix),
        // or after the given version of it.
        var from = keyMarker
        var maxSeq: Int64 = 0
        var insideKey: String? = nil
        if !versionMarker.isEmpty {
            guard let seq = try await state.store.versionSeq(bucketID: b.id, key: keyMarker, versionID: versionMarker == "null" ? nil : versionMarker) else {
                throw S3Error.invalidArgument("Invalid version id specified", name: "version-id-marker", value: versionMarker)
            }
            maxSeq = seq - 1
            insideKey = keyMarker
        } else if !keyMarker.isEmpty, let resume = ListAccumulator.resumePoint(after: keyMarker, prefix: prefix, delimiter: delimiter) {
            guard let r = resume else { return .xml(versionsXML(b, q, maxKeys: maxKeys, entries: [], truncated: false, enc: enc)) }
            from = r
            maxSeq = VersionSummary.currentSeq
        }
        var entries: [VersionEntry] = []
        var truncated = false
        var previousKey = insideKey
        let batch = min(1000, maxKeys + 1)
        page: while maxKeys > 0 {
            let rows = try await state.store.listVersions(bucketID: b.id, prefix: prefix, from: from, maxSeq: maxSeq, limit: batch)
            if rows.isEmpty { break }
            for r in rows {
                if entries.count == maxKeys {
                    truncated = true
                    break page
                }
                if let d = delimiter, let cp = ListAccumulator.commonPrefix(of: r.key, prefix: prefix, delimiter: d) {
                    entries.append(.prefix(cp))
                    guard let next = ListAccumulator.successor(of: cp) else { break page }
                    from = next
                    maxSeq = VersionSummary.currentSeq
                    continue page
                }
                entries.append(.version(r, latest: r.key != previousKey))
                previousKey = r.key
                from = r.key
                maxSeq = r.seq - 1
            }
            if rows.count < batch { break }
        }
        return .xml(versionsXML(b, q, maxKeys: maxKeys, entries: entries, truncated: truncated, enc: enc))
    }

    enum VersionEntry {
        case version(VersionSummary, latest: Bool)
        case prefix(String)
    }

    func versionsXML(
        _ b: BucketRecord, _ q: [String: String], maxKeys: Int, entries: [VersionEntry], truncated: Bool, enc: (String) -> String
    ) -> String {
        var x = XMLWriter()
        x.open("ListVersionsResult", xmlns: true)
        x.element("Name", b.name)
        x.element("Prefix", enc(q["prefix"] ?? ""))
        x.element("KeyMarker", enc(q["key-marker"] ?? ""))
        x.element("VersionIdMarker", q["version-id-marker"] ?? "")
        if truncated, let last = entries.last {
            switch last {
            case .version(let v, _):
                x.element("NextKeyMarker", enc(v.key))
                x.element("NextVersionIdMarker", v.versionID ?? "null")
            case .prefix(let p):
                x.element("NextKeyMarker", enc(p))
            }
        }
        x.element("MaxKeys", maxKeys)
        if let d = q["delimiter"], !d.isEmpty { x.element("Delimiter", enc(d)) }
        if q["encoding-type"] == "url" { x.element("EncodingType", "url") }
        x.element("IsTruncated", truncated)
        for e in entries {
            switch e {
            case .version(let v, let latest):
                x.open(v.deleteMarker ? "DeleteMarker" : "Version")
                x.element("Key", enc(v.key))
                x.element("VersionId", v.versionID ?? "null")
                x.element("IsLatest", latest)
                x.element("LastModified", HTTPDate.iso(v.lastModified))
                if !v.deleteMarker {
                    x.element("ETag", "\"\(v.etag)\"")
                    if let a = v.checksumAlgorithm { x.element("ChecksumAlgorithm", a.rawValue) }
                    x.element("Size", Int(v.size))
                    x.element("StorageClass", "STANDARD")
                }
                x.open("Owner")
                x.element("ID", b.tenantID)
                x.close("Owner")
                x.close(v.deleteMarker ? "DeleteMarker" : "Version")
            case .prefix(let p):
                x.open("CommonPrefixes")
                x.element("Prefix", enc(p))
                x.close("CommonPrefixes")
            }
        }
        x.close("ListVersionsResult")
        return x.document
    }
}

extension S3Service {
    /// Put/Get/DeleteBucketLifecycleConfiguration (the gateway's runner carries the rules out).
    func bucketLifecycle(_ ex: S3Call) async throws -> S3Response {
        try await bucketSetting(
            ex, \.lifecycle, missing: "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", limit: 1 << 20,
            render: { .xml(Lifecycle.xml($0)) }, parse: { body, _ in try Lifecycle.parse(body).get() })
    }
}
