/// Percent-encoding as URIs use it (RFC 3986), for paths and query values from the network.
public enum Percent {
    /// The bytes of `s` with each `%XX` decoded (`+` stays `+`); `nil` for a malformed escape.
    public static func decode<S: StringProtocol>(_ s: S) -> [UInt8]? {
        // Native strings and substrings have contiguous UTF-8: decode that buffer (an unspecialized
        // walk of a generic UTF-8 view cost ~400 instructions per byte across modules).
        if let fast = s.utf8.withContiguousStorageIfAvailable({ decode($0) }) { return fast }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                out.append(hv << 4 | lv)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `decode` for a run of bytes (a query component): one allocation, a plain copy when there is no escape.
    public static func decode(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard b.contains(UInt8(ascii: "%")) else { return Array(b) }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "%") {
                guard b.count - i > 2, let hv = hexValue(b[i + 1]), let lv = hexValue(b[i + 2]) else { return nil }
                out.append(hv << 4 | lv)
                i += 3
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// `decode`, as UTF-8 text; `nil` when malformed or not UTF-8.
    public static func decodeText<S: StringProtocol>(_ s: S) -> String? { decode(s).flatMap { String(validating: $0, as: UTF8.self) } }

    /// Every byte but the unreserved `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case hex).
    @inlinable
    public static func encode<S: Sequence>(_ bytes: S, keepSlash: Bool = false) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount)
        append(bytes, keepSlash: keepSlash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `encode`, appended to a buffer (the SigV4 canonical request is built in one).
    @inlinable
    public static func append<S: Sequence>(_ bytes: S, keepSlash: Bool, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            if isUnreserved(b) || (keepSlash && b == 0x2F) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(upperHexDigit(b >> 4))
                out.append(upperHexDigit(b & 15))
            }
        }
    }

    @inlinable
    public static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E || b == 0x5F
            || b == 0x7E
    }

    @inlinable
    static func upperHexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x37 + v }

    /// `bytes` as lower-case hex, written straight into the string. Inlinable, so each caller gets it
    /// specialized for its sequence (a digest, an array): called generically across modules, the walk
    /// over a 32-byte digest cost ~10,000 instructions, twice per signed request.
    @inlinable
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        if let s = bytes.withContiguousStorageIfAvailable({ hex(buffer: $0) }) { return s }
        return Array(bytes).withUnsafeBufferPointer { hex(buffer: $0) }
    }

    public static func hex(buffer b: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: b.count * 2) { out in
            for i in 0..<b.count {
                out[2 * i] = lowerHexDigit(b[i] >> 4)
                out[2 * i + 1] = lowerHexDigit(b[i] & 15)
            }
            return b.count * 2
        }
    }

    @inlinable
    static func lowerHexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }

    public static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
