import VossBase

/// Cross-origin resource sharing for buckets (PutBucketCors): the rules, their XML, and which rule a
/// request matches — for a preflight `OPTIONS` and for the actual request. Pure.
public struct CORSRule: Codable, Equatable, Sendable {
    public var id: String?
    public var allowedOrigins: [String]
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public init(
        id: String? = nil, allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil
    ) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }
}

public enum CORS {
    public static let methods: Set<String> = ["GET", "PUT", "HEAD", "POST", "DELETE"]
    public static let maxRules = 100

    /// A CORSConfiguration document, checked as S3 checks it.
    public static func parse(_ body: [UInt8]) -> Result<[CORSRule], S3Error> {
        guard let root = try? XMLParser.parse(body), root.name == "CORSConfiguration" else { return .failure(S3Error("MalformedXML")) }
        let rules = root.all("CORSRule")
        guard !rules.isEmpty, rules.count <= maxRules else { return .failure(S3Error("MalformedXML")) }
        var out: [CORSRule] = []
        for r in rules {
            let origins = r.all("AllowedOrigin").map(\.text)
            let methods = r.all("AllowedMethod").map(\.text)
            guard !origins.isEmpty, !methods.isEmpty else { return .failure(S3Error("MalformedXML")) }
            for m in methods where !CORS.methods.contains(m) {
                return .failure(S3Error.invalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is \(m)"))
            }
            for o in origins where o.filter({ $0 == "*" }).count > 1 {
                return .failure(S3Error.invalidRequest("AllowedOrigin \"\(o)\" can not have more than one wildcard."))
            }
            let headers = r.all("AllowedHeader").map(\.text)
            let expose = r.all("ExposeHeader").map(\.text)
            // Every value goes into response headers: printable text only (no CR/LF, no NUL).
            for v in origins + methods + headers + expose where v.isEmpty || !ObjectHeaders.isValidHeaderValue(v) {
                return .failure(S3Error.invalidRequest("A CORS rule's values must be non-empty printable text."))
            }
            for h in headers where h.filter({ $0 == "*" }).count > 1 {
                return .failure(S3Error.invalidRequest("AllowedHeader \"\(h)\" can not have more than one wildcard."))
            }
            var maxAge: Int? = nil
            if let m = r.childText("MaxAgeSeconds") {
                guard let n = ASCIIDecimal.int(m.trimmingSpaces()), n >= 0 else { return .failure(S3Error("MalformedXML")) }
                maxAge = n
            }
            let id = r.childText("ID")
            if let id, id.count > 255 { return .failure(S3Error.invalidArgument("The ID of a CORS rule can be up to 255 characters.", name: "ID")) }
            out.append(
                CORSRule(
                    id: id, allowedOrigins: origins, allowedMethods: methods, allowedHeaders: headers,
                    exposeHeaders: expose, maxAgeSeconds: maxAge))
        }
        return .success(out)
    }

    public static func xml(_ rules: [CORSRule]) -> String {
        var x = XMLWriter()
        x.open("CORSConfiguration", xmlns: true)
        for r in rules {
            x.open("CORSRule")
            if let id = r.id { x.element("ID", id) }
            for v in r.allowedHeaders { x.element("AllowedHeader", v) }
            for v in r.allowedMethods { x.element("AllowedMethod", v) }
            for v in r.allowedOrigins { x.element("AllowedOrigin", v) }
            for v in r.exposeHeaders { x.element("ExposeHeader", v) }
            if let m = r.maxAgeSeconds { x.element("MaxAgeSeconds", m) }
            x.close("CORSRule")
        }
        x.close("CORSConfiguration")
        return x.document
    }

    /// `pattern` with at most one `*` matching any run of characters (case-sensitive for origins,
    /// as S3 compares them; header names are compared lower-cased by the caller).
    static func matches(_ pattern: String, _ value: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == value }
        let head = pattern[..<star], tail = pattern[pattern.index(after: star)...]
        return value.utf8.count >= head.utf8.count + tail.utf8.count && value.hasPrefix(head) && value.hasSuffix(tail)
    }

    /// The first rule that allows `origin` to use `method` with `headers` (the preflight's
    /// `Access-Control-Request-Headers`, already split).
    public static func rule(for origin: String, method: String, headers: [String], in rules: [CORSRule]) -> CORSRule? {
        rules.first { r in
            r.allowedOrigins.contains { matches($0, origin) } && r.allowedMethods.contains(method)
                && headers.allSatisfy { h in r.allowedHeaders.contains { matches($0.lowercased(), h.lowercased()) } }
        }
    }

    /// The response headers for a request from `origin` that `rule` allows. `preflight` adds the
    /// allowed methods, headers and max age.
    public static func responseHeaders(_ rule: CORSRule, origin: String, method: String, requestHeaders: [String], preflight: Bool)
        -> [(String, String)]
    {
        let any = rule.allowedOrigins.contains("*")
        var h: [(String, String)] = [("Access-Control-Allow-Origin", any ? "*" : origin)]
        if !any { h.append(("Access-Control-Allow-Credentials", "true")) }
        h.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
        if preflight {
            h.append(("Access-Control-Allow-Methods", rule.allowedMethods.joined(separator: ", ")))
            if !requestHeaders.isEmpty { h.append(("Access-Control-Allow-Headers", requestHeaders.joined(separator: ", "))) }
            if let m = rule.maxAgeSeconds { h.append(("Access-Control-Max-Age", String(m))) }
        }
        if !rule.exposeHeaders.isEmpty { h.append(("Access-Control-Expose-Headers", rule.exposeHeaders.joined(separator: ", "))) }
        return h
    }

    /// `Access-Control-Request-Headers` split into names.
    public static func headerList(_ s: String?) -> [String] {
        (s ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }
}
