import VossBase
import Foundation
import Logging
import VossS3Core
import VossS3Store

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
