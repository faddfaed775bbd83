import VossBase

/// PROXY protocol version 2 (HAProxy's spec, "The PROXY protocol", section 2.2): the binary header a
/// proxy sends first on a connection so the server learns the real client address.
public enum ProxyProtocolV2 {
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// An address as the header carries it.
    public enum Address: Equatable, Sendable {
        case v4([UInt8], port: UInt16)
        case v6([UInt8], port: UInt16)

        /// Parses a textual IP address (`192.0.2.1`, `2001:db8::1`).
        public init?(ip: String, port: Int) {
            guard (0...65535).contains(port) else { return nil }
            if let b = Self.parseV4(ip) {
                self = .v4(b, port: UInt16(port))
            } else if let b = Self.parseV6(ip) {
                self = .v6(b, port: UInt16(port))
            } else {
                return nil
            }
        }

        public var text: String {
            switch self {
            case .v4(let b, let p): return b.map(String.init).joined(separator: ".") + ":\(p)"
            case .v6(let b, let p):
                let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
                return "[" + groups.joined(separator: ":") + "]:\(p)"
            }
        }

        static func parseV4(_ s: String) -> [UInt8]? { IPAddressBytes.v4(s) }
        static func parseV6(_ s: String) -> [UInt8]? { IPAddressBytes.v6(s) }
    }

    /// The header for a TCP connection from `source` to `destination` (both the same family; a mixed
    /// pair is sent as LOCAL, which tells the server to use the connection's own addresses).
    public static func header(source: Address, destination: Address) -> [UInt8] {
        var out = signature
        switch (source, destination) {
        case (.v4(let s, let sp), .v4(let d, let dp)):
            out += [0x21, 0x11, 0x00, 12] + s + d + be(sp) + be(dp)
        case (.v6(let s, let sp), .v6(let d, let dp)):
            out += [0x21, 0x21, 0x00, 36] + s + d + be(sp) + be(dp)
        default:
            out += [0x20, 0x00, 0x00, 0x00]
        }
        return out
    }

    static func be(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    public enum Parsed: Equatable, Sendable {
        /// Not enough bytes yet to decide.
        case needMore
        /// The connection does not start with the signature.
        case absent
        /// A header of `length` bytes; `source` is nil for LOCAL or an unsupported family.
        case header(length: Int, source: Address?)
        case invalid(String)
    }

    /// Looks at the first bytes of a connection.
    public static func parse(_ b: [UInt8]) -> Parsed {
        let n = min(b.count, signature.count)
        guard Array(b.prefix(n)) == Array(signature.prefix(n)) else { return .absent }
        guard b.count >= 16 else { return .needMore }
        let verCmd = b[12]
        guard verCmd >> 4 == 2 else { return .invalid("version \(verCmd >> 4)") }
        let cmd = verCmd & 0x0f
        guard cmd <= 1 else { return .invalid("command \(cmd)") }
        let len = Int(b[14]) << 8 | Int(b[15])
        guard len <= 512 else { return .invalid("length \(len)") }
        guard b.count >= 16 + len else { return .needMore }
        let total = 16 + len
        if cmd == 0 { return .header(length: total, source: nil) }
        let body = Array(b[16..<total])
        switch b[13] {
        case 0x11:
            guard len >= 12 else { return .invalid("short TCP4 block") }
            return .header(length: total, source: .v4(Array(body[0..<4]), port: UInt16(body[8]) << 8 | UInt16(body[9])))
        case 0x21:
            guard len >= 36 else { return .invalid("short TCP6 block") }
            return .header(length: total, source: .v6(Array(body[0..<16]), port: UInt16(body[32]) << 8 | UInt16(body[33])))
        default:
            return .header(length: total, source: nil)
        }
    }
}
