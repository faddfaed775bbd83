import Foundation
import NIOHTTP1
import VossBase
import VossPosix
import VossWire

/// The web portal's static files (plain HTML, CSS and JavaScript modules in `paths.portal`), served at
/// `/portal/`, and its strings, fetched from the i18n service (`/api/v1/i18n/{locale}`).
enum PortalFiles {
    static let prefix = "/portal"
    /// Bucket names path-style requests could not reach (docs/decisions.md 44).
    static let reservedBuckets: Set<String> = ["api", "portal"]

    static func handles(_ rawPath: String) -> Bool { rawPath == prefix || rawPath.hasPrefix(prefix + "/") }

    /// The `ose` component's messages the REST API answers with, passed to the portal as well.
    static let apiMessagePrefixes = ["rest.", "identity.", "api.", "store.", "password."]

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "json": "application/json; charset=utf-8", "ico": "image/x-icon",
    ]

    /// The file a path names: one segment of letters, digits, `.`, `_`, `-` (never `..`), with a known type.
    static func file(_ rawPath: String) -> (name: String, type: String)? {
        var name = String(rawPath.dropFirst(prefix.count))
        if name.hasPrefix("/") { name.removeFirst() }
        if name.isEmpty { name = "index.html" }
        guard name.utf8.count <= 64, !name.hasPrefix("."),
            name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }),
            let ext = name.split(separator: ".").last, let type = types[String(ext)]
        else { return nil }
        return (name, type)
    }

    /// What the portal's pages may do: only this origin's scripts, styles and API; framed only by
    /// itself and the configured cloud director (whose plugin shows the portal).
    static func securityHeaders(director: String?) -> [(String, String)] {
        let ancestors = ["'self'"] + (director.flatMap(origin).map { [$0] } ?? [])
        return [
            (
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
                    + "base-uri 'none'; frame-ancestors \(ancestors.joined(separator: " "))"
            ),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-cache"),
        ]
    }

    /// `https://vcd.example.com:8443/x` → `https://vcd.example.com:8443` (nothing that is not a plain origin).
    static func origin(_ url: String) -> String? {
        guard let scheme = url.range(of: "://"), ["http", "https"].contains(url[..<scheme.lowerBound].lowercased()) else { return nil }
        let rest = url[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else { return nil }
        return url[..<scheme.upperBound].lowercased() + host
    }
}

extension S3Server {
    func servePortal(_ ex: Exchange, method: String) async throws {
        guard method == "GET" else {
            throw RestError(status: .methodNotAllowed, code: "method_not_allowed", message: Message("rest.no_route", ex.ctx.method, ex.ctx.rawPath))
        }
        if ex.ctx.rawPath == PortalFiles.prefix {
            return await ex.responder().send(.movedPermanently, headers: [("Location", PortalFiles.prefix + "/")], headOnly: ex.ctx.isHead)
        }
        guard let dir = state.current.portalDir else {
            throw RestError(status: .notFound, code: "not_found", message: Message("rest.no_portal"))
        }
        guard let f = PortalFiles.file(ex.ctx.rawPath) else {
            throw RestError(status: .notFound, code: "not_found", message: Message("rest.no_route", ex.ctx.method, ex.ctx.rawPath))
        }
        let path = dir + "/" + f.name
        let bytes: [UInt8]? = try await state.blocking { try? Files.read(path, limit: 4 << 20) }
        guard let bytes else { throw RestError(status: .notFound, code: "not_found", message: Message("rest.no_route", ex.ctx.method, ex.ctx.rawPath)) }
        await ex.responder().send(.ok, headers: [("Content-Type", f.type)] + PortalFiles.securityHeaders(director: state.current.director?.url), body: bytes, headOnly: ex.ctx.isHead)
    }

    /// The portal's strings: the locale's from the i18n service over English's, so a string the
    /// locale lacks shows in English. The i18n service unreachable → 503 (the page says so in English).
    func portalStrings(_ ex: Exchange, _ requested: String) async throws {
        guard (2...20).contains(requested.utf8.count), requested.utf8.allSatisfy({ $0 == 0x2D || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }) else {
            throw RestError.invalid(Message("rest.bad_locale", requested))
        }
        guard let socket = state.current.i18nSocket else {
            throw RestError(status: .serviceUnavailable, code: "unavailable", message: Message("rest.no_i18n"))
        }
        let base = "/i18n/api/v2/translation/products/VOSS/versions/\(VossVersion.current)"
        struct Component: Decodable {
            struct Data: Decodable {
                var locale: String
                var messages: [String: String]
            }
            var data: Data?
        }
        struct Languages: Decodable {
            struct Data: Decodable {
                struct Language: Decodable {
                    var languageTag: String
                    var displayName: String
                }
                var languages: [Language]
            }
            var data: Data?
        }
        let result: (PortalStrings?, Bool) = try await state.blocking {
            func get(_ path: String) -> [UInt8]? {
                guard let r = try? BlockingHTTP.request(unixPath: socket, method: "GET", path: path, timeout: .seconds(5)) else { return nil }
                return r.status == 200 ? r.body : []
            }
            func messages(_ locale: String) -> Component.Data? {
                // The portal's own strings, and the API's error messages (the `ose` component's).
                guard let body = get(base + "/locales/\(locale)/components/portal"),
                    var d = (try? JSONDecoder().decode(Component.self, from: Foundation.Data(body)))?.data
                else { return nil }
                if let body = get(base + "/locales/\(locale)/components/ose"),
                    let o = (try? JSONDecoder().decode(Component.self, from: Foundation.Data(body)))?.data
                {
                    for (k, v) in o.messages where PortalFiles.apiMessagePrefixes.contains(where: { k.hasPrefix($0) }) { d.messages[k] = v }
                }
                return d
            }
            guard let en = messages("en") else { return (nil, false) }
            var all = en.messages
            var locale = "en"
            if requested != "en", let l = messages(requested) {
                all.merge(l.messages) { _, new in new }
                locale = l.locale
            }
            var languages: [String: String] = [:]
            if let body = get("/i18n/api/v2/locale/supportedLanguageList?productName=VOSS&version=\(VossVersion.current)"),
                let ls = (try? JSONDecoder().decode(Languages.self, from: Foundation.Data(body)))?.data
            {
                for l in ls.languages { languages[l.languageTag] = l.displayName }
            }
            return (PortalStrings(locale: locale, messages: all, languages: languages), true)
        }
        guard let strings = result.0 else {
            throw RestError(status: .serviceUnavailable, code: "unavailable", message: Message("rest.no_i18n"), headers: [("Retry-After", "5")])
        }
        await sendJSON(ex, strings)
    }
}
