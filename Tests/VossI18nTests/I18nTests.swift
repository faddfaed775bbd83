import Testing

@testable import VossI18n

@Suite struct LocaleTagTests {
    @Test(arguments: [
        ("zh_CN", "zh-CN"), ("zh-cn", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("zh-hans-cn", "zh-Hans-CN"),
        ("EN", "en"), ("pt_BR@euro", "pt-BR"), ("es-419", "es-419"),
    ])
    func parsing_normalises(raw: String, expected: String) {
        #expect(LocaleTag(parsing: raw)?.description == expected)
    }

    @Test(arguments: ["", "x", "english", "zh-CN-XX-YY", "12", "zh CN"])
    func parsing_rejectsGarbage(raw: String) {
        #expect(LocaleTag(parsing: raw) == nil)
    }

    @Test func fallback_zhCN_goesThroughHansAndZhToEnglish() {
        #expect(LocaleTag(parsing: "zh-CN")!.fallbackChain().map(\.description) == ["zh-CN", "zh-Hans-CN", "zh-Hans", "zh", "en"])
        #expect(LocaleTag(parsing: "zh-TW")!.fallbackChain().map(\.description) == ["zh-TW", "zh-Hant-TW", "zh-Hant", "zh", "en"])
        #expect(LocaleTag(parsing: "pt-BR")!.fallbackChain().map(\.description) == ["pt-BR", "pt", "en"])
        #expect(LocaleTag(parsing: "en")!.fallbackChain().map(\.description) == ["en"])
    }

    @Test func posix_prefersLCALL_thenLCMESSAGES_thenLANG() {
        #expect(LocaleTag.fromPOSIX(environment: ["LANG": "zh_CN.UTF-8"]).description == "zh-CN")
        #expect(LocaleTag.fromPOSIX(environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": "C"]) == .english)
        #expect(LocaleTag.fromPOSIX(environment: ["LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN"]).description == "zh-CN")
        #expect(LocaleTag.fromPOSIX(environment: [:]) == .english)
        #expect(LocaleTag.fromPOSIX(environment: ["LANG": "C.UTF-8"]) == .english)
    }

    @Test func acceptLanguage_ordersByQuality() {
        let tags = LocaleTag.acceptLanguage("fr;q=0.5, zh-CN, en;q=0.8, *;q=0.1, bogus-tag-xx-yy, de;q=0")
        #expect(tags.map(\.description) == ["zh-CN", "en", "fr"])
    }
}

@Suite struct CatalogTests {
    func catalog() -> Catalog {
        var c = Catalog()
        c.add(product: "VOSS", version: "0.1.0", component: "ose", locale: .english, messages: ["a": "Hello", "b": "Bye"])
        c.add(
            product: "VOSS", version: "0.1.0", component: "ose", locale: LocaleTag(parsing: "zh-Hans")!,
            messages: ["a": "你好"])
        c.add(product: "VOSS", version: "0.2.0", component: "ose", locale: .english, messages: ["a": "Hello 2"])
        return c
    }

    @Test func zhCN_resolvesToZhHans_andFillsMissingKeysFromEnglish() throws {
        let r = try catalog().lookup(product: "VOSS", version: "0.1.0", locale: "zh-CN", component: "ose")
        #expect(r.locale.description == "zh-Hans")
        #expect(r.messages == ["a": "你好", "b": "Bye"])
    }

    @Test func unknownLocale_fallsBackToEnglish() throws {
        let r = try catalog().lookup(product: "voss", version: "0.1.0", locale: "ja-JP", component: "ose")
        #expect(r.locale == .english)
    }

    @Test func versionFallback_usesTheNewestLowerVersion() throws {
        let c = catalog()
        #expect(c.resolveVersion(product: "VOSS", requested: "0.1.5") == "0.1.0")
        #expect(c.resolveVersion(product: "VOSS", requested: "9.0") == "0.2.0")
        #expect(c.resolveVersion(product: "VOSS", requested: "0.0.1") == "0.2.0")
    }

    @Test func errors_areTyped() {
        let c = catalog()
        #expect(throws: Catalog.LookupError.unknownProduct("Nope")) {
            try c.lookup(product: "Nope", version: "1", locale: "en", component: "ose")
        }
        #expect(throws: Catalog.LookupError.unknownComponent("portal")) {
            try c.lookup(product: "VOSS", version: "0.1.0", locale: "en", component: "portal")
        }
        #expect(throws: Catalog.LookupError.invalidLocale("!!")) {
            try c.lookup(product: "VOSS", version: "0.1.0", locale: "!!", component: "ose")
        }
    }

    @Test func semanticVersions_compareNumerically() {
        #expect(SemanticVersion.compare("1.10.0", "1.9.2") == .orderedDescending)
        #expect(SemanticVersion.compare("1.0", "1.0.0") == .orderedSame)
    }

    @Test func pseudo_wrapsEveryMessage() {
        #expect(Catalog.pseudo(["a": "x"]) == ["a": "@@x@@"])
    }
}
