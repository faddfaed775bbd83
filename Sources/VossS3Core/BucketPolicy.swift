import VossBase
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A bucket policy (PutBucketPolicy): JSON statements with Effect, Principal, Action, Resource and
/// Condition, checked as S3 checks them and evaluated for one request. Pure.
public struct BucketPolicy: Codable, Equatable, Sendable {
    public struct Statement: Codable, Equatable, Sendable {
        public var sid: String?
        public var allow: Bool
        /// `*`, tenant (account) ids, user ids or names (`arn:aws:iam::TENANT:user/NAME`).
        public var principals: [String]
        public var actions: [String]
        public var notActions: [String]
        public var resources: [String]
        /// operator → key → values.
        public var conditions: [String: [String: [String]]]
    }

    public var statements: [Statement]
    /// The document as the client sent it (GetBucketPolicy returns it unchanged).
    public var text: String

    public static let maxBytes = 20 * 1024

    /// Everything a statement can be matched against.
    public struct Request: Sendable {
        public var action: String
        /// `arn:aws:s3:::BUCKET` or `arn:aws:s3:::BUCKET/KEY`.
        public var resource: String
        /// nil: anonymous.
        public var tenantID: String?
        public var userID: String?
        public var userName: String?
        public var ownerTenantID: String
        /// Condition keys with their values in this request (`aws:SourceIp`, `s3:prefix`, …).
        public var keys: [String: [String]]

        public init(
            action: String, resource: String, tenantID: String?, userID: String?, userName: String?, ownerTenantID: String,
            keys: [String: [String]]
        ) {
            self.action = action
            self.resource = resource
            self.tenantID = tenantID
            self.userID = userID
            self.userName = userName
            self.ownerTenantID = ownerTenantID
            self.keys = keys
        }
    }

    public enum Decision: Equatable, Sendable { case allow, deny, none }

    static let operators: Set<String> = [
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
        "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
        "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
        "DateGreaterThanEquals", "Bool", "IpAddress", "NotIpAddress", "Null", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    ]

    static func malformed(_ m: String) -> S3Error { S3Error("MalformedPolicy", status: 400, message: m) }

    /// Parses and checks a policy for `bucket`.
    public static func parse(_ body: [UInt8], bucket: String) -> Result<BucketPolicy, S3Error> {
        guard body.count <= maxBytes else { return .failure(S3Error("PolicyTooLarge", status: 400, message: "Policies cannot exceed 20 KB.")) }
        guard let text = String(validating: body, as: UTF8.self), let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)),
            case .object(let root) = json
        else { return .failure(malformed("Policies must be valid JSON and the first byte must be '{'")) }
        if let v = root["Version"] {
            guard case .string(let s) = v, s == "2012-10-17" || s == "2008-10-17" else {
                return .failure(malformed("The policy must contain a valid version string"))
            }
        }
        let raw: [JSONValue]
        switch root["Statement"] {
        case .array(let a)?: raw = a
        case .object?: raw = [root["Statement"]!]
        default: return .failure(malformed("Missing required field Statement"))
        }
        guard !raw.isEmpty else { return .failure(malformed("Could not parse the policy: Statement is empty!")) }
        var out: [Statement] = []
        for item in raw {
            guard case .object(let s) = item else { return .failure(malformed("Statements must be objects")) }
            let effect: Bool
            switch s["Effect"] {
            case .string("Allow")?: effect = true
            case .string("Deny")?: effect = false
            default: return .failure(malformed("Invalid effect: \(s["Effect"].map { "\($0)" } ?? "missing")"))
            }
            if s["NotPrincipal"] != nil || s["NotResource"] != nil {
                return .failure(malformed("NotPrincipal and NotResource are not supported by VOSS"))
            }
            guard let principals = principals(s["Principal"]) else { return .failure(malformed("Invalid principal in policy")) }
            let actions = strings(s["Action"]) ?? []
            let notActions = strings(s["NotAction"]) ?? []
            guard !actions.isEmpty || !notActions.isEmpty, actions.isEmpty || notActions.isEmpty else {
                return .failure(malformed("Missing required field Action"))
            }
            for a in actions + notActions where !(a == "*" || a.lowercased().hasPrefix("s3:")) {
                return .failure(malformed("Policy has invalid action"))
            }
            guard let resources = strings(s["Resource"]), !resources.isEmpty else { return .failure(malformed("Missing required field Resource")) }
            for r in resources {
                let arn = "arn:aws:s3:::"
                guard r.hasPrefix(arn) else { return .failure(malformed("Policy has invalid resource")) }
                let rest = r.dropFirst(arn.count)
                let bucketPart = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
                guard matches(String(bucketPart), bucket) else { return .failure(malformed("Policy has invalid resource")) }
            }
            var conditions: [String: [String: [String]]] = [:]
            if let c = s["Condition"] {
                guard case .object(let ops) = c else { return .failure(malformed("Invalid Condition block")) }
                for (op, block) in ops {
                    let base = op.hasSuffix("IfExists") ? String(op.dropLast("IfExists".count)) : op
                    guard operators.contains(base) else { return .failure(malformed("Invalid Condition type : \(op)")) }
                    guard case .object(let kv) = block else { return .failure(malformed("Invalid Condition block")) }
                    var keys: [String: [String]] = [:]
                    for (k, v) in kv {
                        guard let values = strings(v) else { return .failure(malformed("Invalid value for condition key \(k)")) }
                        keys[k.lowercased()] = values
                    }
                    conditions[op] = keys
                }
            }
            out.append(
                Statement(
                    sid: s["Sid"].flatMap { if case .string(let t) = $0 { t } else { nil } }, allow: effect, principals: principals,
                    actions: actions, notActions: notActions, resources: resources, conditions: conditions))
        }
        return .success(BucketPolicy(statements: out, text: text))
    }

    static func strings(_ v: JSONValue?) -> [String]? {
        switch v {
        case .string(let s)?: return [s]
        case .number(let n)?: return [n]
        case .bool(let b)?: return [b ? "true" : "false"]
        case .array(let a)?:
            var out: [String] = []
            for e in a {
                switch e {
                case .string(let s): out.append(s)
                case .number(let n): out.append(n)
                case .bool(let b): out.append(b ? "true" : "false")
                default: return nil
                }
            }
            return out
        default: return nil
        }
    }

    static func principals(_ v: JSONValue?) -> [String]? {
        switch v {
        case .string("*")?: return ["*"]
        case .object(let o)?:
            guard o.count == 1, let aws = o["AWS"] ?? o["CanonicalUser"], let list = strings(aws), !list.isEmpty else { return nil }
            return list
        default: return nil
        }
    }

    /// `pattern` with `*` (any run) and `?` (one character).
    static func matches(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern.unicodeScalars), v = Array(value.unicodeScalars)
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == v[vi]) {
                pi += 1
                vi += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = vi
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                vi = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    static func principalMatches(_ principals: [String], _ r: Request) -> Bool {
        for p in principals {
            if p == "*" { return true }
            guard let tenant = r.tenantID else { continue }
            if p == tenant || p == "arn:aws:iam::\(tenant):root" { return true }
            if let user = r.userID, p == user { return true }
            if let name = r.userName, p == "arn:aws:iam::\(tenant):user/\(name)" { return true }
        }
        return false
    }

    /// Explicit deny wins over allow; `none` when no statement applies.
    public func evaluate(_ r: Request) -> Decision {
        var allowed = false
        for s in statements {
            guard Self.principalMatches(s.principals, r) else { continue }
            let actionMatches =
                s.actions.isEmpty
                ? !s.notActions.contains { Self.matches($0.lowercased(), r.action.lowercased()) }
                : s.actions.contains { Self.matches($0.lowercased(), r.action.lowercased()) }
            guard actionMatches, s.resources.contains(where: { Self.matches($0, r.resource) }) else { continue }
            guard Self.conditionsHold(s.conditions, r.keys) else { continue }
            if !s.allow { return .deny }
            allowed = true
        }
        return allowed ? .allow : .none
    }

    static func conditionsHold(_ conditions: [String: [String: [String]]], _ keys: [String: [String]]) -> Bool {
        for (op, block) in conditions {
            let ifExists = op.hasSuffix("IfExists")
            let base = ifExists ? String(op.dropLast("IfExists".count)) : op
            for (key, wanted) in block {
                guard let have = keys[key] else {
                    if base == "Null" { if wanted.first?.lowercased() != "true" { return false } else { continue } }
                    if ifExists { continue }
                    return false
                }
                if base == "Null" {
                    if wanted.first?.lowercased() == "true" { return false }
                    continue
                }
                // A key with several values (s3:…) holds when any of them matches (negated: none).
                let negated = base.contains("Not")
                let any = have.contains { h in wanted.contains { w in compare(base, h, w) } }
                if negated ? have.contains(where: { h in wanted.contains { w in compare(base, h, w) } }) : !any { return false }
            }
        }
        return true
    }

    /// One value against one condition value, for the positive form of the operator.
    static func compare(_ op: String, _ have: String, _ want: String) -> Bool {
        switch op {
        case "StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals": return have == want
        case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase": return have.lowercased() == want.lowercased()
        case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike": return matches(want, have)
        case "Bool": return have.lowercased() == want.lowercased()
        case "IpAddress", "NotIpAddress": return CIDR(want)?.contains(have) ?? false
        case let n where n.hasPrefix("Numeric"):
            guard let a = Double(have), let b = Double(want), a.isFinite, b.isFinite else { return false }
            switch n {
            case "NumericEquals", "NumericNotEquals": return a == b
            case "NumericLessThan": return a < b
            case "NumericLessThanEquals": return a <= b
            case "NumericGreaterThan": return a > b
            default: return a >= b
            }
        case let d where d.hasPrefix("Date"):
            guard let a = epoch(have), let b = epoch(want) else { return false }
            switch d {
            case "DateEquals", "DateNotEquals": return a == b
            case "DateLessThan": return a < b
            case "DateLessThanEquals": return a <= b
            case "DateGreaterThan": return a > b
            default: return a >= b
            }
        default: return false
        }
    }

    /// A date as epoch seconds: digits, or ISO 8601 (`2026-12-02T10:00:00Z`).
    static func epoch(_ s: String) -> Int64? {
        if let n = ASCIIDecimal.int64(s) { return n }
        return HTTPDate.parse(s).map { Int64($0.timeIntervalSince1970) }
    }

    /// Whether the policy lets anyone in (an Allow for `*` with no condition that narrows it).
    public var isPublic: Bool {
        statements.contains { s in
            s.allow && s.principals.contains("*")
                && !s.conditions.contains { op, block in
                    block.keys.contains { ["aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:principalaccount", "aws:userid", "aws:username"].contains($0) }
                        || op.hasPrefix("Null")
                }
        }
    }
}

/// An IPv4 or IPv6 network (`192.0.2.0/24`, `2001:db8::/32`, or one address).
struct CIDR {
    let bytes: [UInt8]
    let bits: Int

    init?(_ s: String) {
        let parts = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let b = IPAddressBytes.v4(String(parts[0])) ?? IPAddressBytes.v6(String(parts[0])) else { return nil }
        bytes = b
        if parts.count == 2 {
            guard let n = ASCIIDecimal.int(String(parts[1])), n >= 0, n <= b.count * 8 else { return nil }
            bits = n
        } else {
            bits = b.count * 8
        }
    }

    func contains(_ address: String) -> Bool {
        guard let a = IPAddressBytes.v4(address) ?? IPAddressBytes.v6(address) else { return false }
        // An IPv4 client against an IPv4-mapped network and the other way round.
        var have = a, net = bytes
        if have.count == 16, net.count == 4, have.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF][...] { have = Array(have.suffix(4)) }
        if have.count == 4, net.count == 16, net.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF][...] { net = Array(net.suffix(4)) }
        guard have.count == net.count else { return false }
        let shift = net.count == bytes.count ? 0 : 96
        let n = max(0, bits - shift)
        for i in 0..<have.count {
            let used = min(8, max(0, n - i * 8))
            if used == 0 { break }
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - used))
            if have[i] & mask != net[i] & mask { return false }
        }
        return true
    }
}

/// A JSON value as it was written (numbers kept as their text).
enum JSONValue: Decodable, Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }
}
