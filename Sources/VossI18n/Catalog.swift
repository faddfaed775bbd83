/// All translation bundles of all products, as loaded from `etc/voss/i18n/PRODUCT/VERSION/COMPONENT/
/// messages_LOCALE.json` (the Singleton layout). Lookups apply version and locale fallback.
public struct Catalog: Sendable, Equatable {
    /// product → version → component → locale → messages
    public private(set) var bundles: [String: [String: [String: [LocaleTag: [String: String]]]]] = [:]

    public init() {}

    public mutating func add(product: String, version: String, component: String, locale: LocaleTag, messages: [String: String]) {
        bundles[product, default: [:]][version, default: [:]][component, default: [:]][locale] = messages
    }

    public var products: [String] { bundles.keys.sorted() }

    /// Case-insensitive product lookup (`voss` finds `VOSS`).
    public func productName(_ p: String) -> String? {
        bundles[p] != nil ? p : bundles.keys.first { $0.lowercased() == p.lowercased() }
    }

    public func versions(of product: String) -> [String] {
        (bundles[product]?.keys.map { $0 } ?? []).sorted { SemanticVersion.compare($0, $1) == .orderedAscending }
    }

    /// The version that serves `requested`: itself if present, else the newest lower one, else the
    /// newest there is (Singleton's version fallback).
    public func resolveVersion(product: String, requested: String) -> String? {
        let all = versions(of: product)
        if all.contains(requested) { return requested }
        if let lower = all.last(where: { SemanticVersion.compare($0, requested) == .orderedAscending }) { return lower }
        return all.last
    }

    public func components(product: String, version: String) -> [String] {
        bundles[product]?[version]?.keys.sorted() ?? []
    }

    public func locales(product: String, version: String) -> [LocaleTag] {
        let all = bundles[product]?[version]?.values.flatMap { $0.keys } ?? []
        return Array(Set(all)).sorted()
    }

    public struct Resolved: Equatable, Sendable {
        public var version: String
        public var locale: LocaleTag
        public var messages: [String: String]
    }

    public enum LookupError: Error, Equatable, Sendable {
        case unknownProduct(String)
        case unknownComponent(String)
        case invalidLocale(String)
    }

    /// Messages for `component` in the best locale of `locale`'s fallback chain. Keys missing in the
    /// chosen locale are filled from the next locales of the chain (so a partly translated bundle never
    /// shows a bare key).
    public func lookup(product: String, version: String, locale: String, component: String) throws(LookupError) -> Resolved {
        guard let p = productName(product), let v = resolveVersion(product: p, requested: version) else {
            throw .unknownProduct(product)
        }
        guard let tag = LocaleTag(parsing: locale) else { throw .invalidLocale(locale) }
        guard let byLocale = bundles[p]?[v]?[component] else { throw .unknownComponent(component) }
        let chain = tag.fallbackChain()
        guard let chosen = chain.first(where: { byLocale[$0] != nil }) else { throw .unknownComponent(component) }
        var messages: [String: String] = [:]
        for l in chain.reversed() {
            if let m = byLocale[l] { messages.merge(m) { _, new in new } }
        }
        return Resolved(version: v, locale: chosen, messages: messages)
    }

    /// Pseudo-translation: every message wrapped so untranslated (hard-coded) strings stand out.
    public static func pseudo(_ messages: [String: String]) -> [String: String] {
        messages.mapValues { "@@" + $0 + "@@" }
    }
}

public enum SemanticVersion {
    public enum Order { case orderedAscending, orderedSame, orderedDescending }

    /// Compares dotted numeric versions (`1.10.0` > `1.9.2`); non-numeric parts compare as text.
    public static func compare(_ a: String, _ b: String) -> Order {
        let pa = a.split(separator: "."), pb = b.split(separator: ".")
        for i in 0..<max(pa.count, pb.count) {
            let x = i < pa.count ? String(pa[i]) : "0"
            let y = i < pb.count ? String(pb[i]) : "0"
            if let nx = Int(x), let ny = Int(y) {
                if nx != ny { return nx < ny ? .orderedAscending : .orderedDescending }
            } else if x != y {
                return x < y ? .orderedAscending : .orderedDescending
            }
        }
        return .orderedSame
    }
}
