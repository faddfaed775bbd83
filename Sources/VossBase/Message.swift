/// A user-facing message: a catalog key, positional arguments for its `{0}`, `{1}`… placeholders, and
/// the English rendering. Errors travel between processes in this form so that `ose` can print them in
/// the operator's language (via the i18n service) while logs and `--json` keep the stable key.
public struct Message: Codable, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var args: [String]

    public init(_ key: String, _ args: String...) {
        self.key = key
        self.args = args
    }

    public init(key: String, args: [String]) {
        self.key = key
        self.args = args
    }

    /// The English text (the built-in catalog; the key itself if it is unknown).
    public var english: String { Message.format(EnglishCatalog.ose[key] ?? key, args) }

    public var description: String { english }

    /// Fills `{0}`, `{1}`… in `template` with `args`. Unknown or missing indices are left as written.
    public static func format(_ template: String, _ args: [String]) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            if c == "{", let close = template[i...].firstIndex(of: "}"),
                let n = Int(template[template.index(after: i)..<close]), n >= 0, n < args.count
            {
                out += args[n]
                i = template.index(after: close)
            } else {
                out.append(c)
                i = template.index(after: i)
            }
        }
        return out
    }
}
