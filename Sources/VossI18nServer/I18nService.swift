import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VossHTTP
import VossI18n
import VossPosix
import VossWire
import VossWorkerKit

/// Loads bundles laid out as Singleton does: `DIR/PRODUCT/VERSION/COMPONENT/messages_LOCALE.json`,
/// each `{"component": ..., "locale": ..., "messages": {...}}`.
public enum BundleLoader {
    struct BundleFile: Decodable {
        var component: String?
        var locale: String?
        var messages: [String: String]
    }

    public struct LoadProblem: Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func load(directory: String) -> (Catalog, [LoadProblem]) {
        var catalog = Catalog()
        var problems: [LoadProblem] = []
        let fm = FileManager.default
        let products = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        for product in products.sorted() {
            for version in ((try? fm.contentsOfDirectory(atPath: "\(directory)/\(product)")) ?? []).sorted() {
                let vdir = "\(directory)/\(product)/\(version)"
                for component in ((try? fm.contentsOfDirectory(atPath: vdir)) ?? []).sorted() {
                    let cdir = "\(vdir)/\(component)"
                    for file in ((try? fm.contentsOfDirectory(atPath: cdir)) ?? []).sorted()
                    where file.hasPrefix("messages_") && file.hasSuffix(".json") {
                        let path = "\(cdir)/\(file)"
                        let localeText = String(file.dropFirst("messages_".count).dropLast(".json".count))
                        guard let locale = LocaleTag(parsing: localeText) else {
                            problems.append(LoadProblem(path: path, reason: "'\(localeText)' is not a locale"))
                            continue
                        }
                        do {
                            guard let bytes = try Files.read(path, limit: 16 << 20) else { continue }
                            let bundle = try JSONDecoder().decode(BundleFile.self, from: Data(bytes))
                            catalog.add(
                                product: product, version: version, component: component, locale: locale,
                                messages: bundle.messages)
                        } catch {
                            problems.append(LoadProblem(path: path, reason: "\(error)"))
                        }
                    }
                }
            }
        }
        return (catalog, problems)
    }
}

/// The HTTP API of the i18n service (a subset of Singleton's v2 translation API).
public struct I18nRoutes: Sendable {
    let catalog: @Sendable () -> Catalog

    public init(catalog: @escaping @Sendable () -> Catalog) { self.catalog = catalog }

    struct Envelope<T: Encodable>: Encodable {
        struct Response: Encodable {
            var code: Int
            var message: String
            var serverTime: String
        }

        var response: Response
        var signature = ""
        var data: T?

        enum CodingKeys: String, CodingKey { case response, signature, data }

        /// `data` is written as `null` on errors, as Singleton clients expect the key.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(response, forKey: .response)
            try c.encode(signature, forKey: .signature)
            if let data { try c.encode(data, forKey: .data) } else { try c.encodeNil(forKey: .data) }
        }
    }

    struct ComponentData: Encodable {
        var productName: String
        var version: String
        var locale: String
        var component: String
        var pseudo: Bool
        var messages: [String: String]
    }

    struct KeyData: Encodable {
        var productName: String
        var version: String
        var locale: String
        var component: String
        var key: String
        var translation: String
        var source: String?
    }

    struct ProductData: Encodable {
        struct Bundle: Encodable {
            var component: String
            var locale: String
            var messages: [String: String]
        }

        var productName: String
        var version: String
        var pseudo: Bool
        var locales: [String]
        var components: [String]
        var bundles: [Bundle]
    }

    struct ListData: Encodable {
        var productName: String
        var version: String
        var components: [String]?
        var locales: [String]?
    }

    struct LanguagesData: Encodable {
        struct Language: Encodable {
            var languageTag: String
            var displayName: String
        }

        var productName: String
        var version: String
        var displayLanguage: String
        var languages: [Language]
    }

    static let displayNames: [String: String] = [
        "en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文", "ja": "日本語", "ko": "한국어", "de": "Deutsch",
        "fr": "Français", "es": "Español", "pt": "Português", "it": "Italiano", "ru": "Русский",
    ]

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD || request.method == .POST else {
            return error(.methodNotAllowed, "Only GET, HEAD and POST are supported.")
        }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "i18n", parts[1] == "api", parts[2] == "v2" else {
            if request.path == "/health" { return .text("ok\n") }
            return error(.notFound, "No such API: \(request.path)")
        }
        let rest = Array(parts.dropFirst(3))
        let pseudo = request.query["pseudo"]?.lowercased() == "true"
        let cat = catalog()
        var response: HTTPResponse
        switch rest.count {
        case 5 where rest[0] == "translation" && rest[1] == "products" && rest[3] == "versions":
            response = product(cat, rest[2], rest[4], request, pseudo: pseudo)
        case 6 where rest[0] == "translation" && rest[1] == "products" && rest[3] == "versions"
            && (rest[5] == "componentlist" || rest[5] == "localelist"):
            response = list(cat, rest[2], rest[4], components: rest[5] == "componentlist")
        case 9 where rest[0] == "translation" && rest[1] == "products" && rest[3] == "versions" && rest[5] == "locales"
            && rest[7] == "components":
            response = component(cat, rest[2], rest[4], rest[6], rest[8], pseudo: pseudo)
        case 11 where rest[0] == "translation" && rest[1] == "products" && rest[5] == "locales" && rest[7] == "components"
            && rest[9] == "keys":
            response = key(cat, rest[2], rest[4], rest[6], rest[8], rest[10], source: request.query["source"], pseudo: pseudo)
        case 2 where rest[0] == "locale" && rest[1] == "supportedLanguageList":
            response = languages(cat, request)
        default:
            response = error(.notFound, "No such API: \(request.path)")
        }
        return withETag(response, request)
    }

    // MARK: routes

    func component(_ cat: Catalog, _ p: String, _ v: String, _ l: String, _ c: String, pseudo: Bool) -> HTTPResponse {
        do {
            let r = try cat.lookup(product: p, version: v, locale: l, component: c)
            return ok(
                ComponentData(
                    productName: cat.productName(p) ?? p, version: r.version, locale: r.locale.description, component: c,
                    pseudo: pseudo, messages: pseudo ? Catalog.pseudo(r.messages) : r.messages))
        } catch {
            return lookupError(error, p, v, l, c)
        }
    }

    func key(_ cat: Catalog, _ p: String, _ v: String, _ l: String, _ c: String, _ k: String, source: String?, pseudo: Bool)
        -> HTTPResponse
    {
        do {
            let r = try cat.lookup(product: p, version: v, locale: l, component: c)
            guard var t = r.messages[k] else { return error(.notFound, "Key '\(k)' is not in component '\(c)'.") }
            if pseudo { t = "@@\(t)@@" }
            return ok(
                KeyData(
                    productName: cat.productName(p) ?? p, version: r.version, locale: r.locale.description, component: c,
                    key: k, translation: t, source: source))
        } catch {
            return lookupError(error, p, v, l, c)
        }
    }

    func product(_ cat: Catalog, _ p: String, _ v: String, _ request: HTTPRequest, pseudo: Bool) -> HTTPResponse {
        guard let name = cat.productName(p), let version = cat.resolveVersion(product: name, requested: v) else {
            return error(.notFound, "Product '\(p)' is not known.")
        }
        let wantedComponents = request.query["components"].map { $0.split(separator: ",").map(String.init) }
            ?? cat.components(product: name, version: version)
        let wantedLocales = request.query["locales"].map { $0.split(separator: ",").map(String.init) }
            ?? cat.locales(product: name, version: version).map(\.description)
        var bundles: [ProductData.Bundle] = []
        for c in wantedComponents {
            for l in wantedLocales {
                do {
                    let r = try cat.lookup(product: name, version: version, locale: l, component: c)
                    bundles.append(.init(component: c, locale: l, messages: pseudo ? Catalog.pseudo(r.messages) : r.messages))
                } catch {
                    return lookupError(error, p, v, l, c)
                }
            }
        }
        return ok(
            ProductData(
                productName: name, version: version, pseudo: pseudo, locales: wantedLocales, components: wantedComponents,
                bundles: bundles))
    }

    func list(_ cat: Catalog, _ p: String, _ v: String, components: Bool) -> HTTPResponse {
        guard let name = cat.productName(p), let version = cat.resolveVersion(product: name, requested: v) else {
            return error(.notFound, "Product '\(p)' is not known.")
        }
        return ok(
            ListData(
                productName: name, version: version,
                components: components ? cat.components(product: name, version: version) : nil,
                locales: components ? nil : cat.locales(product: name, version: version).map(\.description)))
    }

    func languages(_ cat: Catalog, _ request: HTTPRequest) -> HTTPResponse {
        guard let p = request.query["productName"], let v = request.query["version"] else {
            return error(.badRequest, "productName and version are required.")
        }
        guard let name = cat.productName(p), let version = cat.resolveVersion(product: name, requested: v) else {
            return error(.notFound, "Product '\(p)' is not known.")
        }
        let langs = cat.locales(product: name, version: version).map {
            LanguagesData.Language(languageTag: $0.description, displayName: Self.displayNames[$0.description] ?? $0.description)
        }
        return ok(
            LanguagesData(
                productName: name, version: version, displayLanguage: request.query["displayLanguage"] ?? "",
                languages: langs))
    }

    // MARK: helpers

    func lookupError(_ e: Catalog.LookupError, _ p: String, _ v: String, _ l: String, _ c: String) -> HTTPResponse {
        switch e {
        case .unknownProduct: error(.notFound, "Product '\(p)' version '\(v)' is not known.")
        case .unknownComponent: error(.notFound, "Component '\(c)' of '\(p)' has no translations.")
        case .invalidLocale: error(.badRequest, "'\(l)' is not a locale; use a tag such as en, zh-CN or zh-Hans.")
        }
    }

    func ok<T: Encodable>(_ data: T) -> HTTPResponse {
        .json(Envelope(response: .init(code: 200, message: "OK", serverTime: Self.now()), data: data))
    }

    func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        .json(
            Envelope<String>(response: .init(code: Int(status.code), message: message, serverTime: Self.now()), data: nil),
            status: status)
    }

    static func now() -> String { Date().formatted(.iso8601) }

    /// ETag over the data part only (serverTime changes every second); 304 on a matching If-None-Match.
    func withETag(_ response: HTTPResponse, _ request: HTTPRequest) -> HTTPResponse {
        guard response.status == .ok else { return response }
        var hashed = response.body
        if let range = serverTimeRange(hashed) { hashed.removeSubrange(range) }
        let digest = SHA256.hash(data: hashed).prefix(12).map { String(format: "%02x", $0) }.joined()
        let etag = "\"\(digest)\""
        var r = response
        r.headers.replaceOrAdd(name: "ETag", value: etag)
        r.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        if let inm = request.header("if-none-match"), inm.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }) {
            return HTTPResponse(status: .notModified, headers: ["ETag": etag], body: [])
        }
        return r
    }

    private func serverTimeRange(_ body: [UInt8]) -> Range<Int>? {
        let needle = Array("\"serverTime\":\"".utf8)
        guard body.count > needle.count else { return nil }
        for i in 0...(body.count - needle.count) where body[i] == needle[0] && Array(body[i..<(i + needle.count)]) == needle {
            var j = i + needle.count
            while j < body.count && body[j] != UInt8(ascii: "\"") { j += 1 }
            return i..<min(j + 1, body.count)
        }
        return nil
    }
}

/// The i18n worker: serves the routes on the keeper's TCP listener and on its Unix socket.
public final class I18nWorker: WorkerApp {
    let catalog = Mutex(Catalog())
    let servers = Mutex<[HTTPServer]>([])
    let directory = Mutex<String?>(nil)

    public init() {}

    public func start(_ context: WorkerContext) async throws -> [String] {
        try load(context.config, logger: context.logger)
        let routes = I18nRoutes(catalog: { [self] in self.catalog.withLock { $0 } })
        var addresses: [String] = []
        for name in context.listeners.keys.sorted() {
            let server = HTTPServer(group: context.group, configuration: .init(maxBodySize: 64 << 10, serverName: "voss-i18n")) {
                await routes.handle($0)
            }
            addresses.append(try await server.serve(boundSocket: context.listeners[name]!))
            servers.withLock { $0.append(server) }
        }
        let c = catalog.withLock { $0 }
        context.reportStatus(
            "\(c.products.count) products, "
                + c.products.map { p in "\(p) \(c.versions(of: p).joined(separator: "/"))" }.joined(separator: ", "))
        return addresses
    }

    func load(_ config: ConfigSlice, logger: Logger) throws {
        guard let dir = config.values["paths.i18n"] else {
            throw WorkerStartError("no translation bundles configured (paths.i18n)")
        }
        let (loaded, problems) = BundleLoader.load(directory: dir)
        for p in problems { logger.error("cannot load bundle", metadata: ["problem": "\(p)"]) }
        guard !loaded.products.isEmpty else { throw WorkerStartError("no translation bundles found in \(dir)") }
        catalog.withLock { $0 = loaded }
        directory.withLock { $0 = dir }
        logger.info("loaded translation bundles", metadata: ["dir": "\(dir)", "products": "\(loaded.products)"])
    }

    public func reload(_ config: ConfigSlice) async throws {
        try load(config, logger: Logger(label: "voss.i18n"))
    }

    public func drain(grace: Duration) async {
        for s in servers.withLock({ $0 }) { await s.drain(grace: grace) }
    }

    public func counters() -> [String: Int64] {
        var total: [String: Int64] = [:]
        for s in servers.withLock({ $0 }) { total.merge(s.counters.snapshot, uniquingKeysWith: +) }
        return total
    }
}
