import VossBase
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lifecycle rules (PutBucketLifecycleConfiguration) and the decisions they make for one object,
/// version, delete marker or upload at a given time. Pure: the gateway's runner asks, the store acts.
public struct LifecycleRule: Codable, Equatable, Sendable {
    public var id: String
    public var enabled: Bool
    // Filter
    public var prefix: String
    public var tags: [String: String]
    public var sizeGreaterThan: Int64?
    public var sizeLessThan: Int64?
    // Actions
    public var expirationDays: Int?
    public var expirationDate: Date?
    public var expiredObjectDeleteMarker: Bool
    public var noncurrentDays: Int?
    public var newerNoncurrentVersions: Int?
    public var abortIncompleteDays: Int?
    /// How the filter was written (`Filter`, legacy `Prefix`, or none), so GET returns the same shape.
    public var filterStyle: String

    /// Whether the rule's filter selects an object.
    public func selects(key: String, size: Int64, tags objectTags: [String: String]) -> Bool {
        guard enabled, key.utf8.starts(with: prefix.utf8) else { return false }
        for (k, v) in tags where objectTags[k] != v { return false }
        if let g = sizeGreaterThan, !(size > g) { return false }
        if let l = sizeLessThan, !(size < l) { return false }
        return true
    }

    /// Whether the filter needs the object's tags (the runner reads them only then).
    public var needsTags: Bool { !tags.isEmpty }
}

public enum Lifecycle {
    public static let maxRules = 1000

    /// `start + days`, rounded up to the next midnight UTC (as S3 computes expiration times).
    public static func due(_ start: Date, days: Int) -> Date {
        let t = start.timeIntervalSince1970 + Double(days) * 86_400
        let day = (t / 86_400).rounded(.up) * 86_400
        return Date(timeIntervalSince1970: day)
    }

    /// The current object expires (deleted, or a delete marker put on top in a versioned bucket).
    public static func currentExpires(_ rules: [LifecycleRule], key: String, size: Int64, tags: [String: String], modified: Date, now: Date) -> Bool {
        rules.contains { r in
            guard r.selects(key: key, size: size, tags: tags) else { return false }
            if let d = r.expirationDate, now >= d { return true }
            if let days = r.expirationDays, now >= due(modified, days: days) { return true }
            return false
        }
    }

    /// A noncurrent version expires: noncurrent since `since` (when a newer version replaced it),
    /// with `newer` noncurrent versions newer than it.
    public static func noncurrentExpires(
        _ rules: [LifecycleRule], key: String, size: Int64, tags: [String: String], since: Date, newer: Int, now: Date
    ) -> Bool {
        rules.contains { r in
            guard let days = r.noncurrentDays, r.selects(key: key, size: size, tags: tags) else { return false }
            if let keep = r.newerNoncurrentVersions, newer < keep { return false }
            return now >= due(since, days: days)
        }
    }

    /// A delete marker that is the only version left of its key goes.
    public static func markerExpires(_ rules: [LifecycleRule], key: String) -> Bool {
        rules.contains { $0.enabled && $0.expiredObjectDeleteMarker && key.utf8.starts(with: $0.prefix.utf8) && $0.tags.isEmpty }
    }

    /// An incomplete multipart upload is aborted.
    public static func uploadExpires(_ rules: [LifecycleRule], key: String, initiated: Date, now: Date) -> Bool {
        rules.contains { r in
            guard r.enabled, let days = r.abortIncompleteDays, key.utf8.starts(with: r.prefix.utf8), r.tags.isEmpty else { return false }
            return now >= due(initiated, days: days)
        }
    }

    // MARK: the document

    static func positive(_ e: XMLElement?, _ name: String, _ what: String) -> Result<Int?, S3Error> {
        guard let t = e?.childText(name) else { return .success(nil) }
        guard let n = ASCIIDecimal.int(t.trimmingSpaces()), n > 0, n <= 100_000 else {
            return .failure(S3Error.invalidArgument("'\(name)' for \(what) action must be a positive integer"))
        }
        return .success(n)
    }

    public static func parse(_ body: [UInt8]) -> Result<[LifecycleRule], S3Error> {
        guard let root = try? XMLParser.parse(body), root.name == "LifecycleConfiguration" else { return .failure(S3Error("MalformedXML")) }
        let rules = root.all("Rule")
        guard !rules.isEmpty, rules.count <= maxRules else { return .failure(S3Error("MalformedXML")) }
        var out: [LifecycleRule] = []
        var ids = Set<String>()
        for (i, r) in rules.enumerated() {
            let id = r.childText("ID") ?? "rule-\(i + 1)"
            guard id.count <= 255 else { return .failure(S3Error.invalidArgument("ID length should not exceed allowed limit of 255")) }
            guard ids.insert(id).inserted else { return .failure(S3Error.invalidArgument("Rule ID must be unique. Found same ID for more than one rule")) }
            guard let status = r.childText("Status"), status == "Enabled" || status == "Disabled" else { return .failure(S3Error("MalformedXML")) }
            var rule = LifecycleRule(
                id: id, enabled: status == "Enabled", prefix: "", tags: [:], sizeGreaterThan: nil, sizeLessThan: nil, expirationDays: nil,
                expirationDate: nil, expiredObjectDeleteMarker: false, noncurrentDays: nil, newerNoncurrentVersions: nil,
                abortIncompleteDays: nil, filterStyle: "none")
            // Filter: Prefix | Tag | ObjectSize… | And{…}; or the legacy rule-level Prefix.
            if let f = r.child("Filter") {
                guard r.child("Prefix") == nil else { return .failure(S3Error("MalformedXML")) }
                rule.filterStyle = "filter"
                let parts = f.child("And").map { [$0] } ?? [f]
                guard f.children.count <= 1 else { return .failure(S3Error("MalformedXML")) }
                for p in parts {
                    rule.prefix = p.childText("Prefix") ?? ""
                    for t in p.all("Tag") {
                        guard let k = t.childText("Key") else { return .failure(S3Error("MalformedXML")) }
                        rule.tags[k] = t.childText("Value") ?? ""
                    }
                    for (name, assign) in [("ObjectSizeGreaterThan", 0), ("ObjectSizeLessThan", 1)] {
                        guard let t = p.childText(name) else { continue }
                        guard let n = ASCIIDecimal.int64(t.trimmingSpaces()), n >= 0 else { return .failure(S3Error("MalformedXML")) }
                        if assign == 0 { rule.sizeGreaterThan = n } else { rule.sizeLessThan = n }
                    }
                }
            } else if let p = r.childText("Prefix") {
                rule.prefix = p
                rule.filterStyle = "prefix"
            }
            if let e = r.child("Expiration") {
                switch positive(e, "Days", "Expiration") {
                case .failure(let err): return .failure(err)
                case .success(let d): rule.expirationDays = d
                }
                if let t = e.childText("Date") {
                    guard let d = HTTPDate.parse(t.trimmingSpaces()), Int64(d.timeIntervalSince1970) % 86_400 == 0 else {
                        return .failure(S3Error.invalidArgument("'Date' must be at midnight GMT"))
                    }
                    rule.expirationDate = d
                }
                if let m = e.childText("ExpiredObjectDeleteMarker") {
                    guard m == "true" || m == "false" else { return .failure(S3Error("MalformedXML")) }
                    rule.expiredObjectDeleteMarker = m == "true"
                    if rule.expiredObjectDeleteMarker && !rule.tags.isEmpty {
                        return .failure(S3Error.invalidArgument("ExpiredObjectDeleteMarker cannot be specified with object tags"))
                    }
                }
                let set = [rule.expirationDays != nil, rule.expirationDate != nil, e.childText("ExpiredObjectDeleteMarker") != nil].filter { $0 }
                guard set.count == 1 else { return .failure(S3Error("MalformedXML")) }
            }
            if let n = r.child("NoncurrentVersionExpiration") {
                switch positive(n, "NoncurrentDays", "NoncurrentVersionExpiration") {
                case .failure(let err): return .failure(err)
                case .success(let d):
                    guard let d else { return .failure(S3Error("MalformedXML")) }
                    rule.noncurrentDays = d
                }
                switch positive(n, "NewerNoncurrentVersions", "NoncurrentVersionExpiration") {
                case .failure(let err): return .failure(err)
                case .success(let v): rule.newerNoncurrentVersions = v
                }
            }
            if let a = r.child("AbortIncompleteMultipartUpload") {
                switch positive(a, "DaysAfterInitiation", "AbortIncompleteMultipartUpload") {
                case .failure(let err): return .failure(err)
                case .success(let d):
                    guard let d else { return .failure(S3Error("MalformedXML")) }
                    if !rule.tags.isEmpty {
                        return .failure(S3Error.invalidArgument("AbortIncompleteMultipartUpload cannot be specified with Tags."))
                    }
                    rule.abortIncompleteDays = d
                }
            }
            // Names and filters come back in GetBucketLifecycleConfiguration's XML: printable text only.
            for v in [rule.id, rule.prefix] + rule.tags.keys + rule.tags.values where !ObjectHeaders.isValidHeaderValue(v) {
                return .failure(S3Error.invalidArgument("A rule's ID, prefix and tags must be printable text."))
            }
            if r.child("Transition") != nil || r.child("NoncurrentVersionTransition") != nil {
                return .failure(S3Error("InvalidStorageClass", status: 400, message: "VOSS has one storage class (STANDARD); transitions are not supported."))
            }
            guard rule.expirationDays != nil || rule.expirationDate != nil || rule.expiredObjectDeleteMarker || rule.noncurrentDays != nil
                || rule.abortIncompleteDays != nil
            else { return .failure(S3Error.invalidRequest("At least one action needs to be specified in a rule")) }
            out.append(rule)
        }
        return .success(out)
    }

    public static func xml(_ rules: [LifecycleRule]) -> String {
        var x = XMLWriter()
        x.open("LifecycleConfiguration", xmlns: true)
        for r in rules {
            x.open("Rule")
            x.element("ID", r.id)
            switch r.filterStyle {
            case "prefix": x.element("Prefix", r.prefix)
            case "filter":
                x.open("Filter")
                let many = (r.prefix.isEmpty ? 0 : 1) + r.tags.count + (r.sizeGreaterThan == nil ? 0 : 1) + (r.sizeLessThan == nil ? 0 : 1) > 1
                if many { x.open("And") }
                if !r.prefix.isEmpty || (!many && r.tags.isEmpty && r.sizeGreaterThan == nil && r.sizeLessThan == nil) { x.element("Prefix", r.prefix) }
                for (k, v) in r.tags.sorted(by: { $0.key < $1.key }) {
                    x.open("Tag")
                    x.element("Key", k)
                    x.element("Value", v)
                    x.close("Tag")
                }
                if let g = r.sizeGreaterThan { x.element("ObjectSizeGreaterThan", String(g)) }
                if let l = r.sizeLessThan { x.element("ObjectSizeLessThan", String(l)) }
                if many { x.close("And") }
                x.close("Filter")
            default: break
            }
            x.element("Status", r.enabled ? "Enabled" : "Disabled")
            if r.expirationDays != nil || r.expirationDate != nil || r.expiredObjectDeleteMarker {
                x.open("Expiration")
                if let d = r.expirationDays { x.element("Days", d) }
                if let d = r.expirationDate { x.element("Date", HTTPDate.iso(d)) }
                if r.expiredObjectDeleteMarker { x.element("ExpiredObjectDeleteMarker", true) }
                x.close("Expiration")
            }
            if let d = r.noncurrentDays {
                x.open("NoncurrentVersionExpiration")
                x.element("NoncurrentDays", d)
                if let n = r.newerNoncurrentVersions { x.element("NewerNoncurrentVersions", n) }
                x.close("NoncurrentVersionExpiration")
            }
            if let d = r.abortIncompleteDays {
                x.open("AbortIncompleteMultipartUpload")
                x.element("DaysAfterInitiation", d)
                x.close("AbortIncompleteMultipartUpload")
            }
            x.close("Rule")
        }
        x.close("LifecycleConfiguration")
        return x.document
    }
}
