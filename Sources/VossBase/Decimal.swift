/// Numbers from the network: ASCII digits only (no sign, no spaces, no other scripts' digits, no
/// `+`), at most the type's range. `Int64("+1")` and `Int("٣")`-style surprises never reach a
/// length, a range or a part number.
public enum ASCIIDecimal {
    /// A non-negative decimal that fits in `Int64`, or `nil`.
    public static func int64<S: StringProtocol>(_ s: S) -> Int64? {
        var n: Int64 = 0
        var any = false
        for c in s.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            n = a
            any = true
        }
        return any ? n : nil
    }

    /// A non-negative decimal that fits in `Int`, or `nil`.
    public static func int<S: StringProtocol>(_ s: S) -> Int? { int64(s).flatMap { Int(exactly: $0) } }
}
