import VossBase

/// A PostgreSQL connection URL in the JDBC form the original `ose db set` takes:
/// `jdbc:postgresql://HOST[:PORT][,HOST[:PORT]…]/DATABASE[?sslmode=…&connectTimeout=…]`
/// (`postgresql://` and `postgres://` are accepted too). Several hosts mean "use whichever is
/// writable" (primary and standbys). Pure: parsing and printing only.
public struct PostgresURL: Equatable, Sendable {
    public struct Host: Equatable, Sendable, CustomStringConvertible {
        public var name: String
        public var port: Int

        public init(_ name: String, _ port: Int = 5432) {
            self.name = name
            self.port = port
        }

        public var description: String { name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)" }
    }

    /// libpq/JDBC `sslmode` values.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var hosts: [Host]
    public var database: String
    public var sslMode: SSLMode = .prefer
    /// PEM file with the CA certificates for `verify-ca`/`verify-full` (default: the system's).
    public var sslRootCert: String?
    /// Seconds to wait for a connection to one host.
    public var connectTimeout: Int = 2
    /// Seconds a statement may take before the connection is given up (the request then gets 503).
    public var socketTimeout: Int = 10

    public init(hosts: [Host], database: String) {
        self.hosts = hosts
        self.database = database
    }

    /// The URL parameters understood; any other is an error rather than silently ignored.
    public static let parameters = ["sslmode", "sslrootcert", "connectTimeout", "socketTimeout", "targetServerType", "ApplicationName"]

    /// Canonical JDBC form (what `ose db show` prints).
    public var jdbc: String {
        var s = "jdbc:postgresql://" + hosts.map(\.description).joined(separator: ",") + "/" + Self.escape(database)
        var params: [String] = []
        if sslMode != .prefer { params.append("sslmode=\(sslMode.rawValue)") }
        if let sslRootCert { params.append("sslrootcert=\(Self.escape(sslRootCert))") }
        if connectTimeout != 2 { params.append("connectTimeout=\(connectTimeout)") }
        if socketTimeout != 10 { params.append("socketTimeout=\(socketTimeout)") }
        if !params.isEmpty { s += "?" + params.joined(separator: "&") }
        return s
    }

    public static func parse(_ text: String, key: String = "db.url") -> Result<PostgresURL, ConfigIssue> {
        func fail(_ m: Message) -> Result<PostgresURL, ConfigIssue> { .failure(ConfigIssue(key: key, m)) }
        let raw = text.trimmingWhitespace()
        var rest: Substring
        if let r = ["jdbc:postgresql://", "postgresql://", "postgres://"].first(where: { raw.lowercased().hasPrefix($0) }) {
            rest = raw.dropFirst(r.count)
        } else {
            return fail(Message("db.url_form", raw))
        }
        if rest.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            return fail(Message("db.url_form", raw))
        }
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        guard let slash = rest.firstIndex(of: "/") else { return fail(Message("db.url_no_database", raw)) }
        let hostPart = rest[..<slash]
        guard let database = percentDecode(rest[rest.index(after: slash)...]), !database.isEmpty, !database.contains("/") else {
            return fail(Message("db.url_no_database", raw))
        }
        if hostPart.contains("@") { return fail(Message("db.url_credentials")) }
        var hosts: [Host] = []
        for h in hostPart.split(separator: ",", omittingEmptySubsequences: false) {
            switch parseHost(h) {
            case .success(let host): hosts.append(host)
            case .failure(let bad): return fail(bad.message)
            }
        }
        guard !hosts.isEmpty else { return fail(Message("db.url_host", "")) }
        var url = PostgresURL(hosts: hosts, database: database)
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0])
            guard let value = kv.count > 1 ? percentDecode(kv[1]) : "" else { return fail(Message("db.url_form", raw)) }
            switch name {
            case "sslmode":
                guard let m = SSLMode(rawValue: value) else {
                    return fail(Message("db.url_param_value", name, value, SSLMode.allCases.map(\.rawValue).joined(separator: ", ")))
                }
                url.sslMode = m
            case "ssl":
                // JDBC's older spelling: ssl=true means require.
                guard ["true", "false"].contains(value) else { return fail(Message("db.url_param_value", name, value, "true, false")) }
                url.sslMode = value == "true" ? .require : .disable
            case "sslrootcert":
                guard value.hasPrefix("/") else { return fail(Message("db.url_param_value", name, value, "/PATH/TO/ca.pem")) }
                url.sslRootCert = value
            case "connectTimeout", "socketTimeout":
                guard let n = Int(value), (1...300).contains(n) else {
                    return fail(Message("db.url_param_value", name, value, "1…300"))
                }
                if name == "connectTimeout" { url.connectTimeout = n } else { url.socketTimeout = n }
            case "targetServerType":
                // VOSS always writes to the primary; accept the values that say so.
                guard ["primary", "master", "any"].contains(value) else {
                    return fail(Message("db.url_param_value", name, value, "primary"))
                }
            case "ApplicationName":
                break
            case "user", "password":
                return fail(Message("db.url_credentials"))
            default:
                return fail(Message("db.url_param", name, (parameters + ["ssl"]).joined(separator: ", ")))
            }
        }
        return .success(url)
    }

    struct BadHost: Error {
        var message: Message
        init(_ m: Message) { message = m }
    }

    static func parseHost(_ h: Substring) -> Result<Host, BadHost> {
        guard let (name, portText) = HostPort.split(h) else { return .failure(BadHost(Message("db.url_host", String(h)))) }
        var port = 5432
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { return .failure(BadHost(Message("value.port", String(portText)))) }
            port = p
        }
        return .success(Host(String(name), port))
    }

    static func percentDecode(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            let b = u[i]
            if b == UInt8(ascii: "%") {
                let h1 = u.index(after: i)
                guard h1 < u.endIndex else { return nil }
                let h2 = u.index(after: h1)
                guard h2 < u.endIndex, let hi = hex(u[h1]), let lo = hex(u[h2]) else { return nil }
                bytes.append(hi << 4 | lo)
                i = u.index(after: h2)
            } else {
                bytes.append(b)
                i = u.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "-._~/".contains(c)) {
                out.append(c)
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPad(2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
