#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// RFC 2047 encoded words in user metadata, as S3 treats them: a value sent as encoded words
/// (`=?UTF-8?B?aMOpbGxv?=`) is stored decoded, and a value with characters outside US-ASCII is
/// returned encoded (`=?UTF-8?B?…?=`), so it survives any HTTP stack. Pure.
public enum MIMEWords {
    /// The value decoded when it consists of encoded words only (separated by white space);
    /// otherwise the value as it is. Charsets UTF-8, US-ASCII and ISO-8859-1; encodings B and Q.
    public static func decode(_ value: String) -> String {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !words.isEmpty, words.allSatisfy({ $0.hasPrefix("=?") && $0.hasSuffix("?=") }) else { return value }
        var out = ""
        for w in words {
            guard let text = decodeWord(w) else { return value }
            out += text
        }
        return out
    }

    static func decodeWord(_ w: Substring) -> String? {
        let inner = w.dropFirst(2).dropLast(2)
        let parts = inner.split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty else { return nil }
        // `charset*language` (RFC 2231) names the charset before the star.
        let charset = parts[0].split(separator: "*", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        let bytes: [UInt8]
        switch parts[1].uppercased() {
        case "B":
            guard let d = Data(base64Encoded: String(parts[2])) else { return nil }
            bytes = Array(d)
        case "Q":
            guard let q = decodeQ(parts[2]) else { return nil }
            bytes = q
        default:
            return nil
        }
        switch charset {
        case "UTF-8", "UTF8": return String(validating: bytes, as: UTF8.self)
        case "US-ASCII": return bytes.allSatisfy({ $0 < 0x80 }) ? String(decoding: bytes, as: UTF8.self) : nil
        case "ISO-8859-1", "LATIN1":
            var s = String.UnicodeScalarView()
            for b in bytes { s.append(Unicode.Scalar(b)) }
            return String(s)
        default: return nil
        }
    }

    /// The Q encoding: `_` is a space, `=XX` a byte in hex, the rest as it is.
    static func decodeQ(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            switch c {
            case UInt8(ascii: "_"): out.append(0x20)
            case UInt8(ascii: "="):
                guard let h = it.popFirst(), let l = it.popFirst(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                out.append(hv << 4 | lv)
            default: out.append(c)
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// The value as it goes into a response header: as it is when it is printable US-ASCII,
    /// otherwise one `=?UTF-8?B?…?=` word.
    public static func encode(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) }) { return value }
        return "=?UTF-8?B?" + Data(value.utf8).base64EncodedString() + "?="
    }
}
