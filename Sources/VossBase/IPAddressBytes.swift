/// IP addresses in text form to their bytes (no resolver, no sockets): 4 bytes for IPv4 dotted quads,
/// 16 for IPv6 (with `::`, an embedded IPv4 tail and a `%zone` suffix).
public enum IPAddressBytes {
    public static func v4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    public static func v6(_ s: String) -> [UInt8]? {
        var text = Substring(s)
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }  // zone id
        var tail: [UInt8] = []
        // An embedded IPv4 tail (::ffff:192.0.2.1).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let quad = Self.v4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = quad
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        let chars = Array(text)
        var halves: [String] = []
        var start = 0
        var i = 0
        while i < chars.count - 1 {
            if chars[i] == ":" && chars[i + 1] == ":" {
                halves.append(String(chars[start..<i]))
                start = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        halves.append(String(chars[min(start, chars.count)...]))
        guard halves.count <= 2, !halves.contains(where: { $0.hasPrefix(":") || $0.hasSuffix(":") }) else { return nil }
        func groups(_ h: String) -> [UInt16]? {
            if h.isEmpty { return [] }
            var out: [UInt16] = []
            for g in h.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        let rest = halves.count == 2 ? groups(halves[1]) : []
        guard let rest else { return nil }
        let tailGroups = tail.count / 2
        let total = head.count + rest.count + tailGroups
        if halves.count == 1 { guard total == 8 else { return nil } } else { guard total < 8 else { return nil } }
        let all = head + [UInt16](repeating: 0, count: 8 - total) + rest
        var out: [UInt8] = []
        for g in all { out += [UInt8(g >> 8), UInt8(g & 0xff)] }
        return out + tail
    }

    /// 4 or 16 bytes, or nil when `s` is not an IP address.
    public static func parse(_ s: String) -> [UInt8]? { v4(s) ?? v6(s) }
}
