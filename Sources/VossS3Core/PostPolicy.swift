import VossBase
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The policy document of a POST object form: an expiration and conditions every form field must
/// meet; each field (but the signature, the file, the policy and `x-ignore-*`) must be named by a
/// condition. Pure.
public struct PostPolicy: Sendable {
    public enum Condition: Equatable, Sendable {
        case equals(field: String, value: String)
        case startsWith(field: String, prefix: String)
        case lengthRange(min: Int64, max: Int64)
    }

    public var expiration: Date
    public var conditions: [Condition]

    static func denied(_ m: String) -> S3Error { S3Error("AccessDenied", message: "Invalid according to Policy: " + m) }

    /// Parses the base64 `policy` form field.
    public static func parse(base64 text: String) -> Result<PostPolicy, S3Error> {
        let bad = S3Error.invalidArgument("Invalid Policy: Invalid JSON.", name: "Policy")
        guard let data = Data(base64Encoded: text.trimmingSpaces()),
            let json = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let root) = json
        else { return .failure(bad) }
        guard case .string(let exp)? = root["expiration"], let expiration = HTTPDate.parse(exp) else {
            return .failure(S3Error.invalidArgument("Invalid Policy: Invalid 'expiration' value.", name: "Policy"))
        }
        guard case .array(let list)? = root["conditions"] else {
            return .failure(S3Error.invalidArgument("Invalid Policy: Policy missing conditions.", name: "Policy"))
        }
        var out: [Condition] = []
        for c in list {
            switch c {
            case .object(let o):
                guard o.count == 1, let (k, v) = o.first, let value = BucketPolicy.strings(v)?.first else { return .failure(bad) }
                out.append(.equals(field: k.lowercased(), value: value))
            case .array(let a):
                guard a.count == 3, case .string(let op) = a[0] else { return .failure(bad) }
                switch op.lowercased() {
                case "eq", "starts-with":
                    guard case .string(var field) = a[1], let value = BucketPolicy.strings(a[2])?.first, field.hasPrefix("$") else {
                        return .failure(bad)
                    }
                    field = String(field.dropFirst()).lowercased()
                    out.append(op.lowercased() == "eq" ? .equals(field: field, value: value) : .startsWith(field: field, prefix: value))
                case "content-length-range":
                    guard let lo = BucketPolicy.strings(a[1])?.first.flatMap({ ASCIIDecimal.int64($0) }),
                        let hi = BucketPolicy.strings(a[2])?.first.flatMap({ ASCIIDecimal.int64($0) }), lo <= hi
                    else { return .failure(bad) }
                    out.append(.lengthRange(min: lo, max: hi))
                default:
                    return .failure(S3Error.invalidArgument("Invalid Policy: Invalid condition operation '\(op)'.", name: "Policy"))
                }
            default:
                return .failure(bad)
            }
        }
        return .success(PostPolicy(expiration: expiration, conditions: out))
    }

    /// Checks the form's fields (names lower-cased; `bucket` included) at `now`.
    public func check(fields: [String: String], now: Date) -> S3Error? {
        if now >= expiration { return Self.denied("Policy expired.") }
        var covered: Set<String> = ["x-amz-signature", "file", "policy", "bucket", "awsaccesskeyid", "signature"]
        for c in conditions {
            switch c {
            case .equals(let f, let v):
                covered.insert(f)
                // Content-Type and the like compare as given; a missing field is "".
                if (fields[f] ?? "") != v { return Self.denied("Policy Condition failed: [\"eq\", \"$\(f)\", \"\(v)\"]") }
            case .startsWith(let f, let p):
                covered.insert(f)
                guard (fields[f] ?? "").hasPrefix(p) else { return Self.denied("Policy Condition failed: [\"starts-with\", \"$\(f)\", \"\(p)\"]") }
            case .lengthRange:
                break
            }
        }
        let extra = fields.keys.filter { !covered.contains($0) && !$0.hasPrefix("x-ignore-") }.sorted()
        if !extra.isEmpty { return Self.denied("Extra input fields: " + extra.joined(separator: ", ")) }
        return nil
    }

    /// The file's size against `content-length-range`.
    public func checkSize(_ size: Int64) -> S3Error? {
        for case .lengthRange(let lo, let hi) in conditions {
            if size > hi {
                return S3Error("EntityTooLarge", details: [("ProposedSize", String(size)), ("MaxSizeAllowed", String(hi))])
            }
            if size < lo {
                return S3Error("EntityTooSmall", details: [("ProposedSize", String(size)), ("MinSizeAllowed", String(lo))])
            }
        }
        return nil
    }
}
