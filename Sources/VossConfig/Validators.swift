import VossBase

/// Pure validators for the value forms the configuration accepts. Each returns the issues it finds for
/// `key`; an empty array means the value is fine.
public enum Validators {
    public static func nonEmpty(_ key: String, _ value: String) -> [ConfigIssue] {
        value.trimmingWhitespace().isEmpty ? [ConfigIssue(key: key, Message("value.empty"))] : []
    }

    /// A text value without control characters, at most `maxLength` characters.
    public static func text(_ key: String, _ value: String, maxLength: Int = 4096) -> [ConfigIssue] {
        if value.count > maxLength {
            return [ConfigIssue(key: key, Message("value.too_long", String(maxLength)))]
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return [ConfigIssue(key: key, Message("value.control_char"))]
        }
        return []
    }

    public static func integer(_ key: String, _ value: String, in range: ClosedRange<Int>) -> [ConfigIssue] {
        guard let n = Int(value.trimmingWhitespace()), range.contains(n) else {
            return [
                ConfigIssue(
                    key: key, Message("value.integer_range", String(range.lowerBound), String(range.upperBound)))
            ]
        }
        return []
    }

    public static func port(_ key: String, _ value: String) -> [ConfigIssue] {
        guard let n = Int(value.trimmingWhitespace()), (1...65535).contains(n) else {
            return [ConfigIssue(key: key, Message("value.port", value))]
        }
        return []
    }

    public static func duration(_ key: String, _ value: String, in range: ClosedRange<Duration>) -> [ConfigIssue] {
        guard let d = Duration(parsing: value), range.contains(d) else {
            return [
                ConfigIssue(
                    key: key,
                    Message(
                        "value.duration_range", format(range.lowerBound), format(range.upperBound)))
            ]
        }
        return []
    }

    /// An IPv4 or IPv6 address (no host names: a virtual address must be one).
    public static func ipAddress(_ key: String, _ value: String) -> [ConfigIssue] {
        IPAddressBytes.parse(value) == nil || value.contains("%") ? [ConfigIssue(key: key, Message("value.ip_address", value))] : []
    }

    /// A network interface name as Linux allows it (1–15 characters, no `/`, no blanks).
    public static func interfaceName(_ key: String, _ value: String) -> [ConfigIssue] {
        let ok = (1...15).contains(value.utf8.count) && value != "." && value != ".."
            && value.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0 != "/" && $0 != ":" }
        return ok ? [] : [ConfigIssue(key: key, Message("value.interface", value))]
    }

    public static func oneOf(_ key: String, _ value: String, _ choices: [String]) -> [ConfigIssue] {
        choices.contains(value) ? [] : [ConfigIssue(key: key, Message("value.one_of", choices.joined(separator: ", ")))]
    }

    public static func boolean(_ key: String, _ value: String) -> [ConfigIssue] {
        oneOf(key, value, ["true", "false"])
    }

    /// An `http://` or `https://` URL with a host and an optional port.
    public static func httpURL(_ key: String, _ value: String) -> [ConfigIssue] {
        guard let u = SimpleURL(value), ["http", "https"].contains(u.scheme), !u.host.isEmpty else {
            return [ConfigIssue(key: key, Message("value.http_url", value))]
        }
        if let p = u.port, !(1...65535).contains(p) { return [ConfigIssue(key: key, Message("value.port", String(p)))] }
        return []
    }

    /// A DNS host name (`s3.example.com`).
    public static func hostName(_ key: String, _ value: String) -> [ConfigIssue] {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        let ok = !value.isEmpty && value.count <= 253 && labels.allSatisfy { l in
            (1...63).contains(l.count) && l.first != "-" && l.last != "-"
                && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        return ok ? [] : [ConfigIssue(key: key, Message("value.host_name", value))]
    }

    /// An S3 region name (`us-east-1`, `eu-central-1`, `dc1`).
    public static func region(_ key: String, _ value: String) -> [ConfigIssue] {
        let ok = (1...32).contains(value.count) && value.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        return ok ? [] : [ConfigIssue(key: key, Message("value.region", value))]
    }

    /// A director system administrator: `NAME@system`.
    public static func systemUser(_ key: String, _ value: String) -> [ConfigIssue] {
        let name = value.dropLast("@system".count)
        guard value.hasSuffix("@system"), !name.isEmpty, !name.contains("@") else {
            return [ConfigIssue(key: key, Message("value.system_user", value))]
        }
        return []
    }

    /// The secret policy, as config issues (empty with `force`).
    public static func password(_ key: String, _ value: String, force: Bool) -> [ConfigIssue] {
        if force {
            return value.isEmpty ? [ConfigIssue(key: key, Message("value.empty"))] : []
        }
        return PasswordPolicy.evaluate(value).map { ConfigIssue(key: key, $0.message) }
    }

    /// An argument key: letters, digits, `.`, `_`, `-`; 1 to 128 characters; starting with a letter.
    public static func argKey(_ key: String) -> [ConfigIssue] {
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "."
                || $0 == "_" || $0 == "-"
        }
        guard (1...128).contains(key.count), allowed, let f = key.unicodeScalars.first,
            ("a"..."z").contains(f) || ("A"..."Z").contains(f)
        else {
            return [ConfigIssue(key: "args." + key, Message("args.bad_key", key))]
        }
        return []
    }

    private static func format(_ d: Duration) -> String {
        let ms = d.millisecondsClamped
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

/// Just enough URL parsing for validation (scheme, host, port, path), without Foundation.
public struct SimpleURL: Equatable, Sendable {
    public var scheme: String
    public var host: String
    public var port: Int?
    public var path: String

    public init?(_ text: String) {
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0 == "+" || $0 == "-" || $0 == "." }) else {
            return nil
        }
        var rest = text[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            path = String(rest[slash...])
            rest = rest[..<slash]
        } else {
            path = ""
        }
        if rest.contains("@") { return nil }  // credentials in URLs are not accepted; use --user/--secret
        if rest.hasPrefix("[") {  // IPv6 literal
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty {
                port = nil
            } else {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(rest)
            port = nil
        }
        if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "/" }) { return nil }
    }
}
