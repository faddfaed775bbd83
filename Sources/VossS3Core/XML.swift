/// Builds the XML documents S3 answers with (`<?xml …?>` declaration, escaped text).
public struct XMLWriter: Sendable {
    public private(set) var body = ""

    public init() {}

    public var document: String { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body }

    public mutating func open(_ name: String, xmlns: Bool = false) {
        body += xmlns ? "<\(name) xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" : "<\(name)>"
    }

    public mutating func close(_ name: String) { body += "</\(name)>" }

    /// Appends markup as is (the caller escapes any text in it).
    public mutating func raw(_ markup: String) { body += markup }

    public mutating func element(_ name: String, _ text: String) {
        body += "<\(name)>" + XMLWriter.escape(text) + "</\(name)>"
    }

    public mutating func element(_ name: String, _ value: Int) { body += "<\(name)>\(value)</\(name)>" }
    public mutating func element(_ name: String, _ value: Bool) { body += "<\(name)>\(value)</\(name)>" }

    public mutating func optional(_ name: String, _ text: String?) { if let text { element(name, text) } }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            // U+0000 has no form in any XML a client can parse; it is never in a stored key (the
            // router refuses it), only echoed in errors about such a key.
            case "\u{0}": out += "\u{FFFD}"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0.
                if u.value < 0x20 && u != "\t" && u != "\n" {
                    out += "&#\(u.value);"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}

/// A parsed XML element (namespace prefixes stripped from names).
public struct XMLElement: Equatable, Sendable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLElement]
    public var text: String

    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    public func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    public func childText(_ name: String) -> String? { child(name)?.text }
}

/// A small, bounded XML parser for S3 request bodies (CompleteMultipartUpload, Delete, Tagging,
/// CreateBucketConfiguration, AccessControlPolicy). No DTDs (so no entity expansion attacks), no
/// external anything; limits on size, depth and element count.
public enum XMLParser {
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    public static let maxDepth = 32
    public static let maxElements = 100_000

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> XMLElement {
        var p = Cursor(b: bytes)
        var elements = 0
        p.skipProlog()
        guard p.peek == UInt8(ascii: "<") else { throw ParseError("no root element") }
        let root = try p.element(depth: 0, count: &elements)
        p.skipMisc()
        guard p.atEnd else { throw ParseError("content after the root element") }
        return root
    }

    struct Cursor {
        let b: [UInt8]
        var i = 0

        var atEnd: Bool { i >= b.count }
        var peek: UInt8? { i < b.count ? b[i] : nil }

        func starts(with s: String) -> Bool {
            let u = Array(s.utf8)
            return i + u.count <= b.count && Array(b[i..<(i + u.count)]) == u
        }

        mutating func skipSpace() { while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 } }

        mutating func skip(until s: String) -> Bool {
            while !atEnd {
                if starts(with: s) {
                    i += s.utf8.count
                    return true
                }
                i += 1
            }
            return false
        }

        mutating func skipMisc() {
            while true {
                skipSpace()
                if starts(with: "<!--") {
                    _ = skip(until: "-->")
                } else if starts(with: "<?") {
                    _ = skip(until: "?>")
                } else {
                    return
                }
            }
        }

        mutating func skipProlog() {
            if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
            skipMisc()
        }

        mutating func name() throws(ParseError) -> String {
            let start = i
            while let c = peek, !(c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ">")
                || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")) {
                i += 1
            }
            guard i > start else { throw ParseError("expected a name at byte \(start)") }
            let full = String(decoding: b[start..<i], as: UTF8.self)
            if let colon = full.lastIndex(of: ":") { return String(full[full.index(after: colon)...]) }
            return full
        }

        mutating func element(depth: Int, count: inout Int) throws(ParseError) -> XMLElement {
            guard depth < XMLParser.maxDepth else { throw ParseError("elements nested too deeply") }
            count += 1
            guard count <= XMLParser.maxElements else { throw ParseError("too many elements") }
            i += 1  // <
            if starts(with: "!DOCTYPE") || starts(with: "!doctype") { throw ParseError("DTDs are not accepted") }
            let name = try name()
            var attributes: [String: String] = [:]
            while true {
                skipSpace()
                guard let c = peek else { throw ParseError("unterminated start tag <\(name)>") }
                if c == UInt8(ascii: "/") {
                    i += 1
                    guard peek == UInt8(ascii: ">") else { throw ParseError("bad empty-element tag <\(name)/>") }
                    i += 1
                    return XMLElement(name: name, attributes: attributes, children: [], text: "")
                }
                if c == UInt8(ascii: ">") {
                    i += 1
                    break
                }
                let an = try self.name()
                skipSpace()
                guard peek == UInt8(ascii: "=") else { throw ParseError("attribute \(an) has no value") }
                i += 1
                skipSpace()
                guard let q = peek, q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") else {
                    throw ParseError("attribute \(an) is not quoted")
                }
                i += 1
                let start = i
                while let c = peek, c != q { i += 1 }
                guard !atEnd else { throw ParseError("unterminated attribute \(an)") }
                attributes[an] = try decodeEntities(b[start..<i])
                i += 1
            }
            var children: [XMLElement] = []
            var text: [UInt8] = []
            while true {
                guard let c = peek else { throw ParseError("unterminated element <\(name)>") }
                if c == UInt8(ascii: "<") {
                    if starts(with: "</") {
                        i += 2
                        let closing = try self.name()
                        guard closing == name else { throw ParseError("</\(closing)> closes <\(name)>") }
                        skipSpace()
                        guard peek == UInt8(ascii: ">") else { throw ParseError("bad end tag </\(closing)>") }
                        i += 1
                        let t = try decodeEntities(text[...])
                        return XMLElement(name: name, attributes: attributes, children: children, text: t)
                    } else if starts(with: "<!--") {
                        guard skip(until: "-->") else { throw ParseError("unterminated comment") }
                    } else if starts(with: "<![CDATA[") {
                        i += 9
                        let start = i
                        guard skip(until: "]]>") else { throw ParseError("unterminated CDATA") }
                        // CDATA is literal: escape & and < so decodeEntities leaves it as written.
                        for ch in b[start..<(i - 3)] {
                            if ch == UInt8(ascii: "&") { text += Array("&amp;".utf8) } else { text.append(ch) }
                        }
                    } else if starts(with: "<?") {
                        guard skip(until: "?>") else { throw ParseError("unterminated processing instruction") }
                    } else {
                        children.append(try element(depth: depth + 1, count: &count))
                    }
                } else {
                    text.append(c)
                    i += 1
                }
            }
        }

        func decodeEntities(_ s: ArraySlice<UInt8>) throws(ParseError) -> String {
            guard s.contains(UInt8(ascii: "&")) else { return String(decoding: s, as: UTF8.self) }
            var out = [UInt8]()
            var j = s.startIndex
            while j < s.endIndex {
                if s[j] == UInt8(ascii: "&") {
                    guard let semi = s[j...].firstIndex(of: UInt8(ascii: ";")), semi - j <= 10 else {
                        throw ParseError("bad entity reference")
                    }
                    let ent = String(decoding: s[(j + 1)..<semi], as: UTF8.self)
                    switch ent {
                    case "amp": out.append(UInt8(ascii: "&"))
                    case "lt": out.append(UInt8(ascii: "<"))
                    case "gt": out.append(UInt8(ascii: ">"))
                    case "quot": out.append(UInt8(ascii: "\""))
                    case "apos": out.append(UInt8(ascii: "'"))
                    default:
                        let v: UInt32?
                        if ent.hasPrefix("#x") || ent.hasPrefix("#X") {
                            v = UInt32(ent.dropFirst(2), radix: 16)
                        } else if ent.hasPrefix("#") {
                            v = UInt32(ent.dropFirst())
                        } else {
                            v = nil
                        }
                        guard let v, let scalar = Unicode.Scalar(v) else { throw ParseError("unknown entity &\(ent);") }
                        out += Array(String(Character(scalar)).utf8)
                    }
                    j = semi + 1
                } else {
                    out.append(s[j])
                    j += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
