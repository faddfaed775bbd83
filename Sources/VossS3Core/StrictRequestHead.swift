import VossBase

/// A strict reading of the head of an HTTP/1.1 GET or HEAD request, from raw bytes: what the
/// gateway's raw fast path (decision 48) answers without NIO's HTTP codec.
///
/// It accepts only a subset of what a general HTTP parser accepts, and says `.other` for the rest
/// (the full parser then reads the bytes, from the same first byte). Everything it accepts ends
/// exactly where any conforming parser ends it — at the empty line, with no body:
/// - request line `GET|HEAD SP origin-form SP HTTP/1.1 CRLF`, the target of visible ASCII without
///   `#`, quotes, angle or curly brackets, `\`, `^`, `` ` `` or `|`;
/// - header lines `token ":" OWS value CRLF` (spaces after the value kept), values of visible ASCII, spaces and tabs only (no
///   obsolete line folding, no bare CR or LF, no bytes above 0x7E);
/// - no `Transfer-Encoding`, `Upgrade` or `Expect`; `Content-Length` only as `0`, once; `Host` once;
///   `Connection` only with `close` and `keep-alive`;
/// - at most `maxLength` bytes and `maxHeaders` header lines.
///
/// A differential fuzz target (`fasthead`) holds it to NIO's decoder: every head accepted here is read
/// by NIO with the same method, target, headers and end.
public struct StrictRequestHead: Sendable {
    public enum Method: Sendable, Equatable { case get, head }

    public var method: Method
    /// The request target as sent (path and query, still percent-encoded).
    public var target: String
    /// Header names as sent, values without the spaces before them (as NIO's decoder reads them), in order.
    public var headers: [(String, String)]
    /// False when the client sent `Connection: close`.
    public var keepAlive: Bool
    /// Bytes of the head, through its empty line: where the next request starts.
    public var length: Int

    public enum Parse: Sendable {
        /// No empty line yet: the head continues in bytes not read yet.
        case incomplete
        case request(StrictRequestHead)
        /// Not a head this reading accepts (or not a valid one): leave it to the full parser.
        case other
    }

    public static let maxLength = 16 << 10
    public static let maxHeaders = 64

    /// The value of the first header called `name` (compared without regard to case).
    public func header(_ name: String) -> String? {
        ASCII.value(of: name, in: headers)
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let n = bytes.count
        guard let p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), n > 0 else { return .incomplete }

        // Request line.
        let method: Method
        var i: Int
        if n >= 4 && p[0] == 0x47 && p[1] == 0x45 && p[2] == 0x54 && p[3] == 0x20 {  // "GET "
            method = .get
            i = 4
        } else if n >= 5 && p[0] == 0x48 && p[1] == 0x45 && p[2] == 0x41 && p[3] == 0x44 && p[4] == 0x20 {  // "HEAD "
            method = .head
            i = 5
        } else {
            return isPrefixOfMethod(p, n) ? .incomplete : .other
        }
        let targetStart = i
        guard i < n else { return .incomplete }
        guard p[i] == 0x2F else { return .other }  // origin-form only
        while i < n && p[i] != 0x20 {
            guard targetByte(p[i]) else { return .other }
            i += 1
        }
        guard i < n else { return n >= maxLength ? .other : .incomplete }
        let targetEnd = i
        i += 1
        // " HTTP/1.1\r\n" after the target.
        let version: StaticString = "HTTP/1.1\r\n"
        for k in 0..<version.utf8CodeUnitCount {
            guard i < n else { return .incomplete }
            guard p[i] == version.utf8Start[k] else { return .other }
            i += 1
        }
        let target = String(decoding: UnsafeRawBufferPointer(start: p + targetStart, count: targetEnd - targetStart), as: UTF8.self)

        // Header lines, up to the empty one.
        var headers: [(String, String)] = []
        headers.reserveCapacity(12)
        var keepAlive = true
        var sawLength = false
        var sawHost = false
        while true {
            guard i < n else { return n >= maxLength ? .other : .incomplete }
            if p[i] == 0x0D {
                guard i + 1 < n else { return .incomplete }
                guard p[i + 1] == 0x0A else { return .other }
                i += 2
                break
            }
            guard headers.count < maxHeaders, i < maxLength else { return .other }
            let nameStart = i
            while i < n && p[i] != 0x3A {
                guard tokenByte(p[i]) else { return .other }
                i += 1
            }
            guard i < n else { return n >= maxLength ? .other : .incomplete }
            guard i > nameStart else { return .other }
            let nameEnd = i
            i += 1
            while i < n && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
            let valueStart = i
            while i < n && p[i] != 0x0D {
                let c = p[i]
                guard (c >= 0x21 && c <= 0x7E) || c == 0x20 || c == 0x09 else { return .other }
                i += 1
            }
            // Spaces after the value stay, as NIO's decoder keeps them.
            let valueEnd = i
            guard i + 1 < n else { return n >= maxLength ? .other : .incomplete }
            guard p[i + 1] == 0x0A else { return .other }
            i += 2
            let name = UnsafeRawBufferPointer(start: p + nameStart, count: nameEnd - nameStart)
            let value = UnsafeRawBufferPointer(start: p + valueStart, count: valueEnd - valueStart)
            switch special(name) {
            case .forbidden:
                return .other
            case .contentLength:
                guard !sawLength, value.count == 1, value[0] == 0x30 else { return .other }
                sawLength = true
            case .host:
                guard !sawHost else { return .other }
                sawHost = true
            case .connection:
                guard let close = connectionCloses(value) else { return .other }
                if close { keepAlive = false }
            case .plain:
                break
            }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        guard i <= maxLength else { return .other }
        return .request(StrictRequestHead(method: method, target: target, headers: headers, keepAlive: keepAlive, length: i))
    }

    /// Whether the first `n` bytes could still become "GET " or "HEAD ".
    static func isPrefixOfMethod(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let get: [UInt8] = [0x47, 0x45, 0x54, 0x20]
        let head: [UInt8] = [0x48, 0x45, 0x41, 0x44, 0x20]
        func prefix(_ m: [UInt8]) -> Bool {
            guard n < m.count else { return false }
            for k in 0..<n where p[k] != m[k] { return false }
            return true
        }
        return prefix(get) || prefix(head)
    }

    /// Bytes of a target accepted here: visible ASCII without the ones URL parsers disagree on
    /// (`"`, `#`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`).
    @inline(__always)
    static func targetByte(_ c: UInt8) -> Bool { inMask(c, 0xafff_fff2_0000_0000, 0x47ff_fffe_afff_ffff) }

    /// RFC 9110 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``.
    @inline(__always)
    static func tokenByte(_ c: UInt8) -> Bool { inMask(c, 0x03ff_6cfa_0000_0000, 0x57ff_ffff_c7ff_fffe) }

    /// Whether bit `c` is set in the 128-bit set `lo`, `hi` (bytes above 127 never are).
    @inline(__always)
    static func inMask(_ c: UInt8, _ lo: UInt64, _ hi: UInt64) -> Bool {
        if c < 64 { return (lo >> UInt64(c)) & 1 == 1 }
        if c < 128 { return (hi >> UInt64(c &- 64)) & 1 == 1 }
        return false
    }

    enum Special { case plain, contentLength, host, connection, forbidden }

    static func special(_ name: UnsafeRawBufferPointer) -> Special {
        switch name.count {
        case 4: return equalsLower(name, "host") ? .host : .plain
        case 6: return equalsLower(name, "expect") ? .forbidden : .plain
        case 7: return equalsLower(name, "upgrade") ? .forbidden : .plain
        case 10: return equalsLower(name, "connection") ? .connection : .plain
        case 14: return equalsLower(name, "content-length") ? .contentLength : .plain
        case 17: return equalsLower(name, "transfer-encoding") ? .forbidden : .plain
        default: return .plain
        }
    }

    static func equalsLower(_ a: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard a.count == lower.utf8CodeUnitCount else { return false }
        let b = lower.utf8Start
        for k in 0..<a.count where ASCII.lower(a[k]) != b[k] { return false }
        return true
    }

    /// A `Connection` value of `close` / `keep-alive` tokens: whether it says close; nil for anything
    /// else (an upgrade, a hop-by-hop header list).
    static func connectionCloses(_ v: UnsafeRawBufferPointer) -> Bool? {
        var close = false
        var start = 0
        var any = false
        while start <= v.count {
            var end = start
            while end < v.count && v[end] != 0x2C { end += 1 }
            var a = start
            var b = end
            while a < b && (v[a] == 0x20 || v[a] == 0x09) { a += 1 }
            while b > a && (v[b - 1] == 0x20 || v[b - 1] == 0x09) { b -= 1 }
            if b > a {
                let token = UnsafeRawBufferPointer(rebasing: v[a..<b])
                if equalsLower(token, "close") {
                    close = true
                } else if !equalsLower(token, "keep-alive") {
                    return nil
                }
                any = true
            }
            start = end + 1
        }
        return any ? close : nil
    }
}
