/// BCP-47-ish locale tags as the i18n service and `ose` use them: `en`, `zh-CN`, `zh-Hans`,
/// `zh-Hans-CN`, `pt-BR`. Pure: no ICU, no Foundation.
public struct LocaleTag: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var language: String
    public var script: String?
    public var region: String?

    public init(language: String, script: String? = nil, region: String? = nil) {
        self.language = language
        self.script = script
        self.region = region
    }

    /// Parses `zh_CN`, `zh-cn`, `zh-Hans-CN`, `zh_CN.UTF-8@euro` (POSIX suffixes are dropped).
    /// Returns `nil` for anything that is not a plausible tag.
    public init?(parsing raw: String) {
        var s = Substring(raw)
        if let dot = s.firstIndex(where: { $0 == "." || $0 == "@" }) { s = s[..<dot] }
        let parts = s.split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
        guard let lang = parts.first, (2...3).contains(lang.count), lang.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return nil }
        language = lang.lowercased()
        for p in parts.dropFirst() {
            if p.count == 4, p.allSatisfy({ $0.isASCII && $0.isLetter }), script == nil, region == nil {
                script = p.prefix(1).uppercased() + p.dropFirst().lowercased()
            } else if (p.count == 2 && p.allSatisfy({ $0.isASCII && $0.isLetter }))
                || (p.count == 3 && p.allSatisfy({ $0.isASCII && $0.isNumber })), region == nil
            {
                region = p.uppercased()
            } else {
                return nil
            }
        }
    }

    public var description: String { [language, script, region].compactMap { $0 }.joined(separator: "-") }

    public static func < (a: LocaleTag, b: LocaleTag) -> Bool { a.description < b.description }

    public static let english = LocaleTag(language: "en")

    /// The script a region implies for languages written in more than one (CLDR likely subtags, for
    /// the languages VOSS ships or is likely to).
    static func impliedScript(language: String, region: String?) -> String? {
        switch language {
        case "zh":
            switch region {
            case "TW", "HK", "MO": return "Hant"
            default: return "Hans"
            }
        case "sr": return region == "ME" || region == "RS" ? "Cyrl" : nil
        default: return nil
        }
    }

    /// The locales to try, most specific first, ending with the default:
    /// `zh-CN` → `zh-CN`, `zh-Hans-CN`, `zh-Hans`, `zh`, `en`.
    public func fallbackChain(defaultLocale: LocaleTag = .english) -> [LocaleTag] {
        var chain: [LocaleTag] = [self]
        let script = self.script ?? Self.impliedScript(language: language, region: region)
        if let script {
            if region != nil { chain.append(LocaleTag(language: language, script: script, region: region)) }
            chain.append(LocaleTag(language: language, script: script))
        }
        if region != nil && script == nil { chain.append(LocaleTag(language: language)) }
        chain.append(LocaleTag(language: language))
        chain.append(defaultLocale)
        var seen = Set<LocaleTag>()
        return chain.filter { seen.insert($0).inserted }
    }

    /// The language a POSIX process should speak: `LC_ALL`, else `LC_MESSAGES`, else `LANG`
    /// (`C`/`POSIX`/unset mean English).
    public static func fromPOSIX(environment env: [String: String]) -> LocaleTag {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let v = env[key], !v.isEmpty else { continue }
            if v == "C" || v == "POSIX" || v.hasPrefix("C.") { return .english }
            return LocaleTag(parsing: v) ?? .english
        }
        return .english
    }

    /// Parses an `Accept-Language` header into tags ordered by quality (ties keep header order);
    /// `*` and malformed entries are skipped.
    public static func acceptLanguage(_ header: String) -> [LocaleTag] {
        var weighted: [(LocaleTag, Double, Int)] = []
        for (i, item) in header.split(separator: ",").enumerated() {
            let fields = item.split(separator: ";").map { $0.trimmingCharacters() }
            guard let tagText = fields.first, tagText != "*", let tag = LocaleTag(parsing: tagText) else { continue }
            var q = 1.0
            for f in fields.dropFirst() where f.hasPrefix("q=") {
                q = Double(f.dropFirst(2)) ?? 0
            }
            if q > 0 { weighted.append((tag, q, i)) }
        }
        return weighted.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }.map(\.0)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
