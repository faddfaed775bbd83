/// The ListObjects (v1/v2) and ListMultipartUploads grouping: keys arrive in byte order from the
/// store; keys that contain the delimiter after the prefix collapse into common prefixes. Pure; the
/// store shell asks `nextCursor` where to continue reading.
public struct ListAccumulator: Sendable {
    public enum Entry: Equatable, Sendable {
        case key(String)
        case commonPrefix(String)

        public var sortKey: String {
            switch self {
            case .key(let k), .commonPrefix(let k): k
            }
        }
    }

    public let prefix: String
    public let delimiter: String?
    public let maxKeys: Int
    public private(set) var entries: [Entry] = []
    /// More entries exist beyond `entries` (the listing is truncated).
    public private(set) var truncated = false

    public init(prefix: String, delimiter: String?, maxKeys: Int) {
        self.prefix = prefix
        self.delimiter = (delimiter?.isEmpty ?? true) ? nil : delimiter
        self.maxKeys = maxKeys
    }

    public var isFull: Bool { entries.count >= maxKeys }

    public enum Step: Equatable, Sendable {
        /// Continue with the next key.
        case next
        /// Skip every key below this one (all of them belong to the common prefix just emitted).
        case skip(toAtLeast: String)
        /// The page is complete.
        case done
    }

    /// Offers the next key in order (which must start with `prefix`).
    public mutating func offer(_ key: String) -> Step {
        if isFull {
            truncated = true
            return .done
        }
        if let delimiter, let cp = Self.commonPrefix(of: key, prefix: prefix, delimiter: delimiter) {
            entries.append(.commonPrefix(cp))
            // No successor: every remaining key belongs to this common prefix.
            guard let next = Self.successor(of: cp) else { return .done }
            return .skip(toAtLeast: next)
        }
        entries.append(.key(key))
        return .next
    }

    /// The common prefix `key` rolls up into: the prefix and the rest of the key up to and including
    /// the first delimiter after it; `nil` when there is no delimiter after the prefix (or the key
    /// does not start with the prefix).
    public static func commonPrefix(of key: String, prefix: String, delimiter: String) -> String? {
        guard !delimiter.isEmpty, key.utf8.starts(with: prefix.utf8) else { return nil }
        let rest = String(Substring(key.utf8.dropFirst(prefix.utf8.count)))
        guard let r = rest.firstRange(of: delimiter) else { return nil }
        return prefix + String(rest[..<r.upperBound])
    }

    /// Where a listing with a delimiter resumes after `marker` (a continuation token, marker or
    /// start-after): when the marker lies in a group (or is its common prefix), every later key of
    /// that group rolls up into a common prefix that is not after the marker, so the listing resumes
    /// past the whole group — at the successor of that prefix, inclusive. `nil`: resume right after
    /// the marker. `.some(nil)`: nothing can follow.
    public static func resumePoint(after marker: String, prefix: String, delimiter: String?) -> String?? {
        guard let delimiter, let cp = commonPrefix(of: marker, prefix: prefix, delimiter: delimiter) else { return nil }
        return .some(successor(of: cp))
    }

    /// The smallest string greater than every string starting with `p` in byte (= code point) order,
    /// or `nil` when there is none (every scalar of `p` is U+10FFFF). Always valid UTF-8, so it can be
    /// bound as text in any database.
    public static func successor(of p: String) -> String? {
        var scalars = Array(p.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }  // skip the surrogate range
            if let s = Unicode.Scalar(next) {
                var out = String.UnicodeScalarView()
                out.append(contentsOf: scalars)
                out.append(s)
                return String(out)
            }
        }
        return nil
    }

    /// The marker/continuation point for the next page (the last entry's key or common prefix).
    public var nextMarker: String? { truncated ? entries.last?.sortKey : nil }

    public var keys: [String] { entries.compactMap { if case .key(let k) = $0 { k } else { nil } } }
    public var commonPrefixes: [String] { entries.compactMap { if case .commonPrefix(let p) = $0 { p } else { nil } } }
}

/// Percent-encoding of keys and prefixes in list results with `encoding-type=url`: every byte but
/// `A-Z a-z 0-9 - . _ ~ /` as `%XX` (clients decode with unquote/unquote_plus; `+` is always `%2B`).
public enum ListEncoding {
    public static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || "-._~/".contains(c) {
                out.append(c)
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }
}
