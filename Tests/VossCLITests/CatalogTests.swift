import Foundation
import Testing
import VossBase

@testable import VossCLI

/// The bundles the i18n service ships must cover every string `ose` prints.
@Suite struct BundleCatalogTests {
    static let bundleDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc/voss/i18n/VOSS/\(VossVersion.current)/ose")

    struct Bundle: Decodable {
        var component: String
        var locale: String
        var messages: [String: String]
    }

    func load(_ locale: String) throws -> Bundle {
        let data = try Data(contentsOf: Self.bundleDir.appendingPathComponent("messages_\(locale).json"))
        return try JSONDecoder().decode(Bundle.self, from: data)
    }

    static func placeholders(_ s: String) -> Set<String> {
        var out = Set<String>()
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out.insert(String(rest[open...close]))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    @Test func englishBundle_isTheBuiltInCatalog() throws {
        let en = try load("en")
        #expect(en.locale == "en")
        #expect(en.messages == EnglishCatalog.ose)
    }

    @Test func chineseBundle_hasEveryKey_withTheSamePlaceholders() throws {
        let zh = try load("zh-Hans")
        #expect(zh.locale == "zh-Hans")
        #expect(Set(zh.messages.keys) == Set(EnglishCatalog.ose.keys))
        for (k, english) in EnglishCatalog.ose {
            guard let chinese = zh.messages[k] else { continue }
            #expect(Self.placeholders(chinese) == Self.placeholders(english), "placeholders differ for \(k)")
            #expect(chinese != english || k.hasPrefix("args.set_done") || !english.contains(where: \.isLetter)
                || ["section.director", "section.cloudian", "section.ecs", "section.s3", "col.pid", "col.id"].contains(k),
                "\(k) is not translated")
        }
    }

    @Test func everyKeyTheCommandTableUses_isInTheCatalog() {
        for c in CommandTable.commands {
            #expect(EnglishCatalog.ose[c.summaryKey] != nil, "\(c.summaryKey)")
            for o in c.options { #expect(EnglishCatalog.ose[o.helpKey] != nil, "\(o.helpKey)") }
        }
        for o in CommandTable.global { #expect(EnglishCatalog.ose[o.helpKey] != nil, "\(o.helpKey)") }
    }
}

@Suite struct PositionalPlatformTests {
    @Test func theOriginalsFormIsAccepted() {
        #expect(Parser.positionalPlatform(["platforms", "enable", "ceph1"]) == ["platforms", "enable", "--name", "ceph1"])
        #expect(Parser.positionalPlatform(["--json", "platforms", "enable", "x"]) == ["--json", "platforms", "enable", "--name", "x"])
        #expect(Parser.positionalPlatform(["platforms", "enable", "--name", "x"]) == ["platforms", "enable", "--name", "x"])
        #expect(Parser.positionalPlatform(["service", "enable", "x"]) == ["service", "enable", "x"])
    }
}

@Suite struct PositionalURLTests {
    @Test func vendorServiceURLsMayBePositional() {
        #expect(Parser.positionalPlatform(["ecs", "s3", "set", "https://s3"]) == ["ecs", "s3", "set", "--url", "https://s3"])
        #expect(Parser.positionalPlatform(["cloudian", "iam", "set", "https://iam"]) == ["cloudian", "iam", "set", "--url", "https://iam"])
        #expect(Parser.positionalPlatform(["cloudian", "admin", "set", "--url", "u"]) == ["cloudian", "admin", "set", "--url", "u"])
    }
}
