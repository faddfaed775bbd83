/// `HOST`, `HOST:PORT` or `[IPV6]:PORT` as operators write them (database URLs, gossip seeds): split
/// into host and port text, the host checked for what a DNS name (letters, digits, `-`, `_`), an
/// IPv4 address or a bracketed IPv6 literal may contain. The port is left to the caller (its default
/// and its error message differ). `nil`: not a host.
public enum HostPort {
    public static func split(_ text: Substring) -> (host: Substring, port: Substring?)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let name = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            var port: Substring?
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
            guard name.contains(":"), name.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return (name, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let name = parts[0]
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let ok =
            !name.isEmpty && name.count <= 253
            && labels.allSatisfy { l in
                !l.isEmpty && l.count <= 63 && !l.hasPrefix("-") && !l.hasSuffix("-")
                    && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
        guard ok else { return nil }
        return (name, parts.count == 2 ? parts[1] : nil)
    }
}
