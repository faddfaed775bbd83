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

extension S3Service {
    func listBuckets(_ ex: S3Call) async throws -> S3Response {
        let p = try requirePrincipal(ex)
        let buckets = try await state.store.buckets(tenantID: p.tenant.id).filter { Access.lists(bucket: $0, principal: p) }
        var x = XMLWriter()
        x.open("ListAllMyBucketsResult", xmlns: true)
        x.open("Owner")
        x.element("ID", p.tenant.id)
        x.element("DisplayName", p.tenant.name)
        x.close("Owner")
        x.open("Buckets")
        for b in buckets {
            x.open("Bucket")
            x.element("Name", b.name)
            x.element("CreationDate", HTTPDate.iso(b.createdAt))
            x.element("BucketRegion", b.region)
            x.close("Bucket")
        }
        x.close("Buckets")
        x.close("ListAllMyBucketsResult")
        return .xml(x.document)
    }

    func createBucket(_ ex: S3Call) async throws -> S3Response {
        let p = try requirePrincipal(ex)
        if let problem = S3Names.bucketProblem(ex.ctx.bucket) {
            throw S3Error("InvalidBucketName", message: problem, details: [("BucketName", ex.ctx.bucket)])
        }
        // `/api/…` and `/portal/…` are VOSS's own paths: buckets of these names could not be
        // reached path-style.
        if PortalFiles.reservedBuckets.contains(ex.ctx.bucket) {
            throw S3Error(
                "InvalidBucketName", message: "The bucket name '\(ex.ctx.bucket)' is reserved by VOSS (its REST API and portal).",
                details: [("BucketName", ex.ctx.bucket)])
        }
        let region = state.current.region
        let body = try await readSmallBody(ex, limit: 64 << 10)
        // The LocationConstraint is the region (the default platform) or a platform's name.
        var platformName = state.platforms.defaultName
        if !body.isEmpty {
            guard let root = try? XMLParser.parse(body), root.name == "CreateBucketConfiguration" else {
                throw S3Error("MalformedXML")
            }
            if let lc = root.childText("LocationConstraint"), !lc.isEmpty, lc != region {
                guard state.platforms.platform(named: lc) != nil else {
                    throw S3Error(
                        "IllegalLocationConstraintException",
                        message: "The \(lc) location constraint is incompatible for the region specific endpoint this request was sent to (\(region)); "
                            + "it may name one of this service's storage platforms: \(state.platforms.names.joined(separator: ", ")).")
                }
                platformName = lc
            }
        }
        let policy = try policyFromHeaders(ex) ?? .private
        // Object lock is chosen when the bucket is made (and turns versioning on).
        var settings = BucketSettings()
        if let o = ex.ctx.header("x-amz-object-ownership") {
            guard let ownership = ObjectOwnership(rawValue: o) else {
                throw S3Error.invalidArgument("Invalid x-amz-object-ownership header", name: "x-amz-object-ownership", value: o)
            }
            if ownership == .bucketOwnerEnforced && policy != AccessPolicy() && policy != AccessPolicy(canned: .bucketOwnerFullControl) {
                throw S3Error(
                    "InvalidBucketAclWithObjectOwnership", status: 400,
                    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
            }
            settings.ownership = ownership
        }
        if ex.ctx.header("x-amz-bucket-object-lock-enabled")?.lowercased() == "true" {
            settings.versioning = .enabled
            settings.objectLock = ObjectLockConfiguration()
        }
        guard let platform = state.platforms.platform(named: platformName) else {
            throw PlatformUnavailable(platform: platformName, reason: "it is the default platform but is not configured on this node")
        }
        if try await state.store.bucket(named: ex.ctx.bucket) == nil {
            try await platform.prepare(tenant: p.tenant.id)
        }
        do {
            _ = try await state.store.createBucket(
                name: ex.ctx.bucket, tenantID: p.tenant.id, ownerID: p.user.id, region: region, policy: policy, platform: platformName,
                settings: settings)
        } catch StoreError.bucketExists(let same) {
            throw S3Error(same ? "BucketAlreadyOwnedByYou" : "BucketAlreadyExists", details: [("BucketName", ex.ctx.bucket)])
        }
        state.logger.info("bucket created", metadata: ["bucket": "\(ex.ctx.bucket)", "tenant": "\(p.tenant.name)", "platform": "\(platformName)"])
        return .status(200, headers: [("Location", "/" + ex.ctx.bucket)])
    }

    func deleteBucket(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .owner)
        do {
            try await state.store.deleteBucket(id: b.id)
        } catch StoreError.notEmpty {
            throw S3Error("BucketNotEmpty", details: [("BucketName", b.name)])
        }
        return .status(204)
    }

    func headBucket(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .read)
        return .status(200, headers: [("x-amz-bucket-region", b.region)], headOnly: true)
    }

    func getBucketLocation(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .owner)
        var x = XMLWriter()
        x.raw("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">")
        // A bucket on an upstream platform answers the platform (its LocationConstraint at creation).
        let location = b.platform != PlatformConfig.local ? b.platform : (b.region == "us-east-1" ? "" : b.region)
        x.raw(XMLWriter.escape(location))
        x.raw("</LocationConstraint>")
        return .xml(x.document)
    }

    func maxKeys(_ ex: S3Call, name: String = "max-keys") throws -> Int {
        guard let s = ex.ctx.query[name] else { return 1000 }
        guard let n = ASCIIDecimal.int(s) else {
            throw S3Error.invalidArgument("Provided \(name) not an integer or within integer range", name: name, value: s)
        }
        return min(n, 1000)
    }

    /// Runs the grouping of `ListAccumulator` over the store, continuing after `start`.
    func collect(bucketID: Int64, prefix: String, delimiter: String?, start: String, maxKeys: Int) async throws
        -> (ListAccumulator, [String: ObjectSummary])
    {
        var acc = ListAccumulator(prefix: prefix, delimiter: delimiter, maxKeys: maxKeys)
        var summaries: [String: ObjectSummary] = [:]
        var cursor = start
        var inclusive = false
        guard maxKeys > 0 else { return (acc, [:]) }
        if !start.isEmpty, let resume = ListAccumulator.resumePoint(after: start, prefix: prefix, delimiter: acc.delimiter) {
            guard let r = resume else { return (acc, [:]) }
            cursor = r
            inclusive = true
        }
        // With a delimiter most rows of a batch may roll up into one common prefix and be skipped:
        // start with small batches and grow them while no skip happens, so a listing of 100 "folders"
        // of 10,000 keys each reads a few hundred rows, not a million.
        let full = min(1000, maxKeys + 1)
        /// Offers one row; false when the page is complete.
        func take(_ s: ObjectSummary) -> Bool {
            switch acc.offer(s.key) {
            case .next:
                summaries[s.key] = s
                cursor = s.key
                inclusive = false
            case .skip(let next):
                cursor = next
                inclusive = true
            case .done:
                return false
            }
            return true
        }
        // PostgreSQL: the heads of the groups in one query per page (each head already starts a new group).
        if let delimiter, !delimiter.isEmpty {
            while let batch = try await state.store.listGroupHeads(
                bucketID: bucketID, prefix: prefix, delimiter: delimiter, after: cursor, inclusive: inclusive, limit: full)
            {
                for s in batch where !take(s) { return (acc, summaries) }
                if batch.count < full { return (acc, summaries) }
            }
        }
        var limit = delimiter == nil ? full : min(full, 64)
        outer: while true {
            let batch = try await state.store.listObjects(
                bucketID: bucketID, prefix: prefix, after: cursor, inclusive: inclusive, limit: limit)
            if batch.isEmpty { break }
            for s in batch {
                guard take(s) else { break outer }
                // A skip: the rest of this batch belongs to the common prefix just taken.
                if inclusive { continue outer }
            }
            if batch.count < limit { break }
            limit = min(full, limit * 2)
        }
        return (acc, summaries)
    }

    func listObjects(_ ex: S3Call, v2: Bool) async throws -> S3Response {
        let b = try await bucket(ex, access: .read)
        let q = ex.ctx.query
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"]
        let maxKeys = try self.maxKeys(ex)
        let encode = q["encoding-type"]
        if let e = encode, e != "url" { throw S3Error("InvalidArgument", message: "Invalid Encoding Method specified in Request", details: [("ArgumentName", "encoding-type")]) }
        let urlEncode = encode == "url"
        func enc(_ s: String) -> String { urlEncode ? ListEncoding.encode(s) : s }
        var start = ""
        if v2 {
            if let token = q["continuation-token"] {
                guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8) else {
                    throw S3Error.invalidArgument("The continuation token provided is incorrect", name: "continuation-token")
                }
                start = s
            } else if let sa = q["start-after"] {
                start = sa
            }
        } else {
            start = q["marker"] ?? ""
        }
        let (acc, summaries) = try await collect(bucketID: b.id, prefix: prefix, delimiter: delimiter, start: start, maxKeys: maxKeys)
        let fetchOwner = !v2 || q["fetch-owner"] == "true"
        var x = XMLWriter()
        x.open("ListBucketResult", xmlns: true)
        x.element("Name", b.name)
        x.element("Prefix", enc(prefix))
        if v2 {
            x.element("KeyCount", acc.entries.count)
            if let t = q["continuation-token"] { x.element("ContinuationToken", t) }
            if let sa = q["start-after"] { x.element("StartAfter", enc(sa)) }
            if let next = acc.nextMarker { x.element("NextContinuationToken", Data(next.utf8).base64EncodedString()) }
        } else {
            x.element("Marker", enc(q["marker"] ?? ""))
            if let next = acc.nextMarker, delimiter != nil { x.element("NextMarker", enc(next)) }
        }
        x.element("MaxKeys", maxKeys)
        if let d = delimiter, !d.isEmpty { x.element("Delimiter", enc(d)) }
        if encode == "url" { x.element("EncodingType", "url") }
        x.element("IsTruncated", acc.truncated)
        for e in acc.entries {
            switch e {
            case .key(let k):
                guard let s = summaries[k] else { continue }
                x.open("Contents")
                x.element("Key", enc(k))
                x.element("LastModified", HTTPDate.iso(s.lastModified))
                x.element("ETag", "\"\(s.etag)\"")
                if let a = s.checksumAlgorithm { x.element("ChecksumAlgorithm", a.rawValue) }
                x.element("Size", Int(s.size))
                x.element("StorageClass", "STANDARD")
                if fetchOwner {
                    x.open("Owner")
                    x.element("ID", b.tenantID)
                    x.element("DisplayName", ownerName(ex, tenantID: b.tenantID))
                    x.close("Owner")
                }
                x.close("Contents")
            case .commonPrefix(let p):
                x.open("CommonPrefixes")
                x.element("Prefix", enc(p))
                x.close("CommonPrefixes")
            }
        }
        x.close("ListBucketResult")
        return .xml(x.document)
    }

    func ownerName(_ ex: S3Call, tenantID: String) -> String {
        ex.ctx.principal?.tenant.id == tenantID ? ex.ctx.principal!.tenant.name : tenantID
    }

    func listMultipartUploads(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .write)
        let q = ex.ctx.query
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"]
        let maxUploads = try self.maxKeys(ex, name: "max-uploads")
        let keyMarker = q["key-marker"] ?? ""
        let idMarker = q["upload-id-marker"] ?? ""
        let all = try await state.store.uploads(
            bucketID: b.id, prefix: prefix, keyMarker: keyMarker, uploadIDMarker: keyMarker.isEmpty ? "" : idMarker,
            limit: 10_000)
        var acc = ListAccumulator(prefix: prefix, delimiter: delimiter, maxKeys: maxUploads)
        var shown: [UploadRecord] = []
        var skipBelow: String?
        for u in all {
            if let s = skipBelow, u.key.utf8.lexicographicallyPrecedes(s.utf8) { continue }
            skipBelow = nil
            let before = acc.entries.count
            switch acc.offer(u.key) {
            case .next: shown.append(u)
            case .skip(let s): skipBelow = s
            case .done: break
            }
            if acc.truncated { break }
            _ = before
        }
        var x = XMLWriter()
        x.open("ListMultipartUploadsResult", xmlns: true)
        x.element("Bucket", b.name)
        x.element("KeyMarker", keyMarker)
        x.element("UploadIdMarker", idMarker)
        if acc.truncated, let last = shown.last {
            x.element("NextKeyMarker", last.key)
            x.element("NextUploadIdMarker", last.uploadID)
        }
        x.element("Prefix", prefix)
        if let d = delimiter, !d.isEmpty { x.element("Delimiter", d) }
        x.element("MaxUploads", maxUploads)
        x.element("IsTruncated", acc.truncated)
        for u in shown {
            x.open("Upload")
            x.element("Key", u.key)
            x.element("UploadId", u.uploadID)
            x.open("Initiator")
            x.element("ID", u.ownerID)
            x.close("Initiator")
            x.open("Owner")
            x.element("ID", b.tenantID)
            x.close("Owner")
            x.element("StorageClass", "STANDARD")
            x.element("Initiated", HTTPDate.iso(u.initiated))
            if let a = u.checksumAlgorithm { x.element("ChecksumAlgorithm", a.rawValue) }
            x.close("Upload")
        }
        for p in acc.commonPrefixes {
            x.open("CommonPrefixes")
            x.element("Prefix", p)
            x.close("CommonPrefixes")
        }
        x.close("ListMultipartUploadsResult")
        return .xml(x.document)
    }

    func bucketTagging(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        switch ex.ctx.operation {
        case .getBucketTagging:
            guard let tags = b.tags, !tags.isEmpty else {
                throw S3Error("NoSuchTagSet", details: [("BucketName", b.name)])
            }
            return .xml(Tags.xml(tags))
        case .putBucketTagging:
            let body = try await readSmallBody(ex, limit: 64 << 10)
            b.tags = try Tags.parseXML(body, max: 50).get()
            try await state.store.updateBucket(b)
            return .status(204)
        default:
            b.tags = nil
            try await state.store.updateBucket(b)
            return .status(204)
        }
    }

    func deleteObjects(_ ex: S3Call) async throws -> S3Response {
        // Write access is decided per key: the bucket policy may allow or deny some keys.
        let b = try await bucket(ex, access: .objectRead)
        let p = try requirePrincipal(ex)
        let canWrite = Access.canWrite(bucket: b, principal: p)
        // Without a policy that could let some keys in, no write access is no access at all.
        if !canWrite && b.settings.policy == nil { throw S3Error.accessDenied }
        let body = try await readSmallBody(ex, limit: 2 << 20)
        guard let root = try? XMLParser.parse(body), root.name == "Delete" else { throw S3Error("MalformedXML") }
        let objects = root.all("Object")
        guard objects.count <= 1000 else {
            throw S3Error("MalformedXML", message: "The request may delete at most 1000 objects.")
        }
        let quiet = root.childText("Quiet")?.lowercased() == "true"
        var x = XMLWriter()
        x.open("DeleteResult", xmlns: true)
        var garbage: [String] = []
        func failed(_ key: String, _ version: String?, _ e: S3Error) {
            x.open("Error")
            x.element("Key", key)
            if let version { x.element("VersionId", version) }
            x.element("Code", e.code)
            x.element("Message", e.message)
            x.close("Error")
        }
        for o in objects {
            guard let key = o.childText("Key") else { throw S3Error("MalformedXML") }
            let versionText = o.childText("VersionId")
            if let problem = S3Names.keyProblem(key) {
                failed(key, versionText, problem)
                continue
            }
            if versionText?.isEmpty == true {
                failed(key, versionText, S3Error("NoSuchVersion", details: [("Key", key)]))
                continue
            }
            var version: String?? = nil
            if let v = versionText { version = .some(v == "null" ? nil : v) }
            switch policyDecision(ex, b, key: key, action: version == nil ? "s3:DeleteObject" : "s3:DeleteObjectVersion") {
            case .deny:
                failed(key, versionText, .accessDenied)
                continue
            case .none where !canWrite:
                failed(key, versionText, .accessDenied)
                continue
            default: break
            }
            do {
                let (headers, released) = try await delete(ex, b, key: key, version: version, by: p)
                if let released { garbage += released.storage.blobs }
                if !quiet {
                    x.open("Deleted")
                    x.element("Key", key)
                    if let versionText { x.element("VersionId", versionText) }
                    if headers.contains(where: { $0 == ("x-amz-delete-marker", "true") }) {
                        x.element("DeleteMarker", true)
                        if versionText == nil, let v = headers.first(where: { $0.0 == "x-amz-version-id" }) {
                            x.element("DeleteMarkerVersionId", v.1)
                        }
                    }
                    x.close("Deleted")
                }
            } catch {
                failed(key, versionText, Self.s3Error(error, state: state, ctx: ex.ctx))
            }
        }
        x.close("DeleteResult")
        let collected = garbage
        return .xml(x.document, after: { [state] in await state.collectGarbage(collected) })
    }
}
