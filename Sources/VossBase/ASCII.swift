/// Byte-wise ASCII helpers for protocol text (header names, tokens) that must not allocate.
public enum ASCII {
    /// `a` equals `b` ignoring the case of ASCII letters (header names are case-insensitive).
    @inlinable
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for i in 0..<x.count where x[i] != y[i] {
                    guard lower(x[i]) == lower(y[i]) else { return false }
                }
                return true
            }
        }
    }

    @inlinable
    public static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    /// The first value of the header `name` (ASCII case-insensitive) in `headers`. Lengths are
    /// compared first (O(1) for native strings): most names in a request differ in length.
    @inlinable
    public static func value(of name: String, in headers: [(String, String)]) -> String? {
        let n = name.utf8.count
        for h in headers where h.0.utf8.count == n && equalsIgnoringCase(h.0, name) { return h.1 }
        return nil
    }
}

extension StringProtocol {
    /// Splits at every `separator` byte (an ASCII character), comparing bytes rather than Characters
    /// (String's `split` works on grapheme clusters: many times slower on a request's hot path).
    public func splitASCII(_ separator: UInt8, omittingEmptySubsequences: Bool = true) -> [Substring] {
        var out: [Substring] = []
        let s = Substring(self)
        let u = s.utf8
        var start = u.startIndex
        var i = start
        while i != u.endIndex {
            if u[i] == separator {
                if !omittingEmptySubsequences || start != i { out.append(Substring(u[start..<i])) }
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        if !omittingEmptySubsequences || start != u.endIndex { out.append(Substring(u[start..<u.endIndex])) }
        return out
    }
}
