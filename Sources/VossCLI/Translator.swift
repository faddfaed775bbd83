import VossBase

/// Looks messages up in the bundle fetched from the i18n service, falling back to the built-in English
/// catalog for anything missing (and entirely when the service is down).
public struct Translator: Sendable {
    public var messages: [String: String]
    public var locale: String

    public init(messages: [String: String] = [:], locale: String = "en") {
        self.messages = messages
        self.locale = locale
    }

    public static let english = Translator()

    public func callAsFunction(_ key: String, _ args: String...) -> String { text(key, args) }

    public func text(_ key: String, _ args: [String]) -> String {
        Message.format(messages[key] ?? EnglishCatalog.ose[key] ?? key, args)
    }

    public func callAsFunction(_ m: Message) -> String { text(m.key, m.args) }
}

/// Terminal column widths, so tables line up with Chinese text (East Asian wide characters take two
/// columns, combining marks none).
public enum DisplayWidth {
    public static func of(_ s: String) -> Int {
        var w = 0
        for u in s.unicodeScalars {
            let v = u.value
            if u.properties.generalCategory == .nonspacingMark || u.properties.generalCategory == .enclosingMark
                || v == 0x200B
            {
                continue
            }
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
                || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
                || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
                || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            w += wide ? 2 : 1
        }
        return w
    }

    public static func pad(_ s: String, to width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - of(s)))
    }

    public static func center(_ s: String, to width: Int) -> String {
        let gap = max(0, width - of(s))
        return String(repeating: " ", count: gap / 2) + s + String(repeating: " ", count: gap - gap / 2)
    }
}

/// The bordered table style of the original `ose` (`ose config validate`): a `=` rule under the
/// header, a ruled line between rows.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]]
    public var centered: Bool

    public init(header: [String], rows: [[String]], centered: Bool = false) {
        self.header = header
        self.rows = rows
        self.centered = centered
    }

    public func render() -> String {
        let columns = header.count
        var widths = header.map { DisplayWidth.of($0) }
        for r in rows {
            for c in 0..<min(columns, r.count) { widths[c] = max(widths[c], DisplayWidth.of(r[c])) }
        }
        func rule(_ ch: Character) -> String {
            "+" + widths.map { String(repeating: ch, count: $0 + 2) }.joined(separator: "+") + "+"
        }
        func line(_ cells: [String]) -> String {
            "|" + (0..<columns).map { c in
                let cell = c < cells.count ? cells[c] : ""
                return " " + (centered ? DisplayWidth.center(cell, to: widths[c]) : DisplayWidth.pad(cell, to: widths[c])) + " "
            }.joined(separator: "|") + "|"
        }
        var out = [rule("-"), line(header), rule("=")]
        for r in rows {
            out.append(line(r))
            out.append(rule("-"))
        }
        if rows.isEmpty { out.append(rule("-")) }
        return out.joined(separator: "\n")
    }
}
