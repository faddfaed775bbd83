import VossBase
import Foundation
import Logging
import VossS3Core
import VossS3Store
import VossChecksums

/// Object lock (WORM): buckets created with it, default retention, per-version retention in
/// GOVERNANCE or COMPLIANCE mode and legal holds. A protected version cannot be deleted (the store
/// checks in the deleting transaction); overwrites and plain deletes make new versions as always.
extension S3Service {
    static let lockNotConfigured = S3Error.invalidRequest("Bucket is missing Object Lock Configuration")

    /// The lock a new version gets: from `x-amz-object-lock-*` headers, else the bucket's default.
    func newObjectLock(_ ex: S3Call, _ b: BucketRecord, now: Date) throws -> ObjectLock? {
        let mode = ex.ctx.header("x-amz-object-lock-mode")
        let until = ex.ctx.header("x-amz-object-lock-retain-until-date")
        let hold = ex.ctx.header("x-amz-object-lock-legal-hold")
        guard let config = b.settings.objectLock else {
            if mode != nil || until != nil || hold != nil { throw Self.lockNotConfigured }
            return nil
        }
        var lock = config.defaultLock(from: now) ?? ObjectLock()
        if mode != nil || until != nil {
            guard let m = mode.flatMap(ObjectLock.Mode.init(rawValue:)) else {
                throw S3Error.invalidArgument("Unknown wormMode directive.", name: "x-amz-object-lock-mode", value: mode ?? "")
            }
            guard let u = until.flatMap(HTTPDate.parse) else {
                throw S3Error.invalidArgument(
                    "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied, the date in ISO 8601.",
                    name: "x-amz-object-lock-retain-until-date", value: until ?? "")
            }
            guard u > now else { throw S3Error.invalidArgument("The retain until date must be in the future!") }
            lock.mode = m
            lock.retainUntil = u
        }
        if let hold {
            guard hold == "ON" || hold == "OFF" else {
                throw S3Error.invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", name: "x-amz-object-lock-legal-hold", value: hold)
            }
            lock.legalHold = hold == "ON"
        }
        return lock.mode == nil && !lock.legalHold ? nil : lock
    }

    /// `x-amz-object-lock-*` answer headers of a version.
    func lockHeaders(_ o: ObjectRecord) -> [(String, String)] {
        guard let l = o.lock else { return [] }
        var h: [(String, String)] = []
        if let m = l.mode, let u = l.retainUntil {
            h.append(("x-amz-object-lock-mode", m.rawValue))
            h.append(("x-amz-object-lock-retain-until-date", HTTPDate.iso(u)))
        }
        h.append(("x-amz-object-lock-legal-hold", l.legalHold ? "ON" : "OFF"))
        return h
    }

    /// The caller asks to bypass GOVERNANCE retention and may (the bucket's owners).
    func bypassesGovernance(_ ex: S3Call, _ b: BucketRecord) -> Bool {
        ex.ctx.header("x-amz-bypass-governance-retention")?.lowercased() == "true" && Access.isOwner(bucket: b, principal: ex.ctx.principal)
    }

    func objectLockConfiguration(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        if ex.ctx.operation == .getObjectLockConfiguration {
            guard let c = b.settings.objectLock else {
                throw S3Error(
                    "ObjectLockConfigurationNotFoundError", status: 404, message: "Object Lock configuration does not exist for this bucket",
                    details: [("BucketName", b.name)])
            }
            var x = XMLWriter()
            x.open("ObjectLockConfiguration", xmlns: true)
            x.element("ObjectLockEnabled", "Enabled")
            if let m = c.defaultMode {
                x.open("Rule")
                x.open("DefaultRetention")
                x.element("Mode", m.rawValue)
                if let d = c.defaultDays { x.element("Days", d) }
                if let y = c.defaultYears { x.element("Years", y) }
                x.close("DefaultRetention")
                x.close("Rule")
            }
            x.close("ObjectLockConfiguration")
            return .xml(x.document)
        }
        let body = try await readSmallBody(ex, limit: 64 << 10)
        guard let root = try? XMLParser.parse(body), root.name == "ObjectLockConfiguration", root.childText("ObjectLockEnabled") == "Enabled"
        else { throw S3Error("MalformedXML") }
        guard b.settings.objectLock != nil || b.settings.versioning == .enabled else {
            throw S3Error("InvalidBucketState", status: 409, message: "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        }
        var config = ObjectLockConfiguration()
        if let rule = root.child("Rule") {
            guard let r = rule.child("DefaultRetention"), let m = r.childText("Mode").flatMap(ObjectLock.Mode.init(rawValue:)) else {
                throw S3Error("MalformedXML")
            }
            let days = r.childText("Days").map { ASCIIDecimal.int($0.trimmingSpaces()) }
            let years = r.childText("Years").map { ASCIIDecimal.int($0.trimmingSpaces()) }
            switch (days, years) {
            case (let d??, nil) where d > 0 && d <= 36_500: config.defaultDays = d
            case (nil, let y??) where y > 0 && y <= 100: config.defaultYears = y
            case (nil, nil): throw S3Error("MalformedXML")
            default:
                throw S3Error.invalidArgument("Default retention needs either Days or Years, a positive number (at most 100 years).")
            }
            config.defaultMode = m
        }
        b.settings.objectLock = config
        b.settings.versioning = .enabled
        try await state.store.updateBucket(b)
        return .status(200)
    }

    func objectRetention(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: ex.ctx.operation == .getObjectRetention ? .read : .write)
        guard b.settings.objectLock != nil else { throw Self.lockNotConfigured }
        let o = try await existingObject(ex, b)
        let version: String?? = .some(o.versionID)
        if ex.ctx.operation == .getObjectRetention {
            guard let l = o.lock, let m = l.mode, let u = l.retainUntil else {
                throw S3Error("NoSuchObjectLockConfiguration", status: 404, message: "The specified object does not have a ObjectLock configuration")
            }
            var x = XMLWriter()
            x.open("Retention", xmlns: true)
            x.element("Mode", m.rawValue)
            x.element("RetainUntilDate", HTTPDate.iso(u))
            x.close("Retention")
            return .xml(x.document, headers: versionHeaders(b, o))
        }
        let body = try await readSmallBody(ex, limit: 64 << 10)
        guard let root = try? XMLParser.parse(body), root.name == "Retention" else { throw S3Error("MalformedXML") }
        let now = Date()
        var mode: ObjectLock.Mode? = nil
        var until: Date? = nil
        if let m = root.childText("Mode") {
            guard let mm = ObjectLock.Mode(rawValue: m), let u = root.childText("RetainUntilDate").flatMap(HTTPDate.parse) else {
                throw S3Error("MalformedXML")
            }
            guard u > now else { throw S3Error.invalidArgument("The retain until date must be in the future!") }
            mode = mm
            until = u
        }
        var lock = o.lock ?? ObjectLock()
        // An active retention may only be made stronger, unless GOVERNANCE is bypassed.
        if let oldMode = lock.mode, let oldUntil = lock.retainUntil, oldUntil > now {
            let weaker = mode == nil || (until ?? now) < oldUntil || (oldMode == .compliance && mode != .compliance)
            if weaker && (oldMode == .compliance || !bypassesGovernance(ex, b)) {
                throw S3Error("AccessDenied", message: "Access Denied because object protected by object lock.")
            }
        }
        lock.mode = mode
        lock.retainUntil = until
        _ = try await state.store.updateObject(
            bucketID: b.id, key: o.key, version: version, tags: nil, policy: nil, lock: .some(lock.mode == nil && !lock.legalHold ? nil : lock))
        return .status(200, headers: versionHeaders(b, o))
    }

    func objectLegalHold(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: ex.ctx.operation == .getObjectLegalHold ? .read : .write)
        guard b.settings.objectLock != nil else { throw Self.lockNotConfigured }
        let o = try await existingObject(ex, b)
        if ex.ctx.operation == .getObjectLegalHold {
            guard let l = o.lock else {
                throw S3Error("NoSuchObjectLockConfiguration", status: 404, message: "The specified object does not have a ObjectLock configuration")
            }
            var x = XMLWriter()
            x.open("LegalHold", xmlns: true)
            x.element("Status", l.legalHold ? "ON" : "OFF")
            x.close("LegalHold")
            return .xml(x.document, headers: versionHeaders(b, o))
        }
        let body = try await readSmallBody(ex, limit: 64 << 10)
        guard let root = try? XMLParser.parse(body), root.name == "LegalHold", let status = root.childText("Status"), status == "ON" || status == "OFF"
        else { throw S3Error("MalformedXML") }
        var lock = o.lock ?? ObjectLock()
        lock.legalHold = status == "ON"
        _ = try await state.store.updateObject(
            bucketID: b.id, key: o.key, version: .some(o.versionID), tags: nil, policy: nil,
            lock: .some(lock.mode == nil && !lock.legalHold ? nil : lock))
        return .status(200, headers: versionHeaders(b, o))
    }
}

extension S3Service {
    /// GetObjectAttributes: the attributes named in `x-amz-object-attributes`, without the body.
    func getObjectAttributes(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .objectRead)
        let o = try await readableObject(
            b, key: ex.ctx.key, version: try requestedVersion(ex), principal: ex.ctx.principal, policyAllowed: ex.ctx.policyAllowed)
        guard ex.ctx.policyAllowed || Access.canRead(object: o, in: b, principal: ex.ctx.principal) else { throw S3Error.accessDenied }
        // As S3: an SSE-C object's attributes need its key too.
        if o.storage.encryption?.mode == .customer { _ = try await readKey(ex, o.storage.encryption) }
        let known: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
        let wanted = Set((ex.ctx.header("x-amz-object-attributes") ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty })
        guard !wanted.isEmpty else {
            throw S3Error.invalidRequest("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
        }
        if let bad = wanted.first(where: { !known.contains($0) }) {
            throw S3Error.invalidArgument("Invalid attribute name specified.", name: "x-amz-object-attributes", value: bad)
        }
        let maxText = ex.ctx.header("x-amz-max-parts") ?? "1000"
        guard let maxParts = ASCIIDecimal.int(maxText).map({ min($0, 1000) }), maxParts >= 0 else {
            throw S3Error.invalidArgument("Provided max-parts not an integer or within integer range", name: "max-parts", value: maxText)
        }
        let markerText = ex.ctx.header("x-amz-part-number-marker") ?? "0"
        guard let marker = ASCIIDecimal.int(markerText), marker >= 0 else {
            throw S3Error.invalidArgument("Part number marker must be an integer.", name: "part-number-marker", value: markerText)
        }
        var x = XMLWriter()
        x.open("GetObjectAttributesResponse", xmlns: true)
        if wanted.contains("ETag") { x.element("ETag", o.etag) }
        if wanted.contains("Checksum"), let c = o.checksum {
            x.open("Checksum")
            x.element(c.algorithm.xmlName, c.value)
            x.element("ChecksumType", c.type)
            x.close("Checksum")
        }
        if wanted.contains("ObjectParts"), o.etag.contains("-") {
            let parts = o.storage.pieces
            let shown = parts.enumerated().dropFirst(marker).prefix(maxParts)
            x.open("ObjectParts")
            x.element("PartsCount", parts.count)
            x.element("PartNumberMarker", marker)
            if let last = shown.last { x.element("NextPartNumberMarker", last.offset + 1) }
            x.element("MaxParts", maxParts)
            x.element("IsTruncated", marker + shown.count < parts.count)
            for (i, p) in shown {
                x.open("Part")
                x.element("PartNumber", i + 1)
                x.element("Size", Int(p.size))
                if let c = p.checksum, let a = o.checksum?.algorithm { x.element(a.xmlName, c) }
                x.close("Part")
            }
            x.close("ObjectParts")
        }
        if wanted.contains("StorageClass") { x.element("StorageClass", "STANDARD") }
        if wanted.contains("ObjectSize") { x.element("ObjectSize", Int(o.size)) }
        x.close("GetObjectAttributesResponse")
        return .xml(x.document, headers: [("Last-Modified", HTTPDate.format(o.lastModified))] + versionHeaders(b, o))
    }
}
