#if canImport(Glibc)
import Glibc
import VossBase

/// Adds and removes an IP address on an interface (rtnetlink, as `ip addr add/del` does) and announces
/// it with a gratuitous ARP — what the node that holds the virtual address does. Needs CAP_NET_ADMIN
/// (and CAP_NET_RAW for the ARP).
public enum NetInterface {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noSuchInterface(String)
        case system(String, Int32)

        public var description: String {
            switch self {
            case .noSuchInterface(let i): "no interface named \(i)"
            case .system(let what, let e): "\(what): \(String(cString: strerror(e)))"
            }
        }

        public var errno: Int32? {
            if case .system(_, let e) = self { return e }
            return nil
        }
    }

    static let rtmNewAddr: UInt16 = 20
    static let rtmDelAddr: UInt16 = 21
    static let nlmsgError: UInt16 = 2
    static let flagRequest: UInt16 = 0x1
    static let flagAck: UInt16 = 0x4
    static let flagExcl: UInt16 = 0x200
    static let flagCreate: UInt16 = 0x400

    /// `ip addr add ADDR/32 dev IF` (or /128). Adding an address that is already there is not an error.
    public static func add(_ address: [UInt8], interface: String) throws(Failure) {
        do {
            try change(rtmNewAddr, address, interface: interface, flags: flagCreate | flagExcl)
        } catch .system(let what, let e) where e == EEXIST {
            _ = what
        }
    }

    /// `ip addr del ADDR/32 dev IF`. Removing an address that is not there is not an error.
    public static func remove(_ address: [UInt8], interface: String) throws(Failure) {
        do {
            try change(rtmDelAddr, address, interface: interface, flags: 0)
        } catch .system(let what, let e) where e == EADDRNOTAVAIL || e == ENODEV {
            _ = what
        }
    }

    /// Whether the interface holds the address now (from getifaddrs).
    public static func holds(_ address: [UInt8], interface: String) -> Bool {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return false }
        defer { freeifaddrs(list) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let cur = p {
            defer { p = cur.pointee.ifa_next }
            guard String(cString: cur.pointee.ifa_name) == interface, let sa = cur.pointee.ifa_addr else { continue }
            if address.count == 4 && Int32(sa.pointee.sa_family) == AF_INET {
                let bytes = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
                }
                if bytes == address { return true }
            } else if address.count == 16 && Int32(sa.pointee.sa_family) == AF_INET6 {
                let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    withUnsafeBytes(of: sin.pointee.sin6_addr) { Array($0) }
                }
                if bytes == address { return true }
            }
        }
        return false
    }

    static func index(_ interface: String) throws(Failure) -> UInt32 {
        let i = if_nametoindex(interface)
        guard i != 0 else { throw .noSuchInterface(interface) }
        return i
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }

    /// One rtnetlink address request, answered with an ack (or an errno).
    static func change(_ type: UInt16, _ address: [UInt8], interface: String, flags: UInt16) throws(Failure) {
        let ifIndex = try index(interface)
        let family: UInt8 = address.count == 4 ? UInt8(AF_INET) : UInt8(AF_INET6)
        let prefix: UInt8 = address.count == 4 ? 32 : 128
        func attr(_ kind: UInt16, _ data: [UInt8]) -> [UInt8] {
            var a = le16(UInt16(4 + data.count)) + le16(kind) + data
            while a.count % 4 != 0 { a.append(0) }
            return a
        }
        // struct ifaddrmsg: family, prefixlen, flags, scope (0 = global), index; then IFA_LOCAL (2) and
        // IFA_ADDRESS (1).
        let body = [family, prefix, 0, 0] + le32(ifIndex) + attr(2, address) + attr(1, address)
        let seq = UInt32(truncatingIfNeeded: Int(bitPattern: UInt(clock())) & 0x7fff_ffff) | 1
        let msg = le32(UInt32(16 + body.count)) + le16(type) + le16(flagRequest | flagAck | flags) + le32(seq) + le32(0) + body

        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw .system("netlink socket", errno) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // struct sockaddr_nl: family, pad, pid 0 (the kernel), groups 0.
        let kernel = le16(UInt16(AF_NETLINK)) + [0, 0] + le32(0) + le32(0)
        let sent = msg.withUnsafeBytes { m in
            kernel.withUnsafeBytes { k in
                sendto(fd, m.baseAddress, m.count, 0, k.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(k.count))
            }
        }
        guard sent == msg.count else { throw .system("netlink send", errno) }
        var reply = [UInt8](repeating: 0, count: 4096)
        let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 20 else { throw .system("netlink answer", n < 0 ? errno : EPROTO) }
        let replyType = UInt16(reply[4]) | UInt16(reply[5]) << 8
        guard replyType == nlmsgError else { throw .system("netlink answer type \(replyType)", EPROTO) }
        let code = Int32(bitPattern: UInt32(reply[16]) | UInt32(reply[17]) << 8 | UInt32(reply[18]) << 16 | UInt32(reply[19]) << 24)
        if code != 0 { throw .system(type == rtmNewAddr ? "adding the address" : "removing the address", -code) }
    }

    /// Broadcasts a gratuitous ARP request for `address` (IPv4) from `interface`, so switches and
    /// neighbours send traffic for it here at once instead of to the old holder.
    public static func announce(_ address: [UInt8], interface: String) throws(Failure) {
        guard address.count == 4 else { return }  // IPv6 would need an unsolicited neighbour advertisement
        let ifIndex = try index(interface)
        let mac = try hardwareAddress(interface)
        let arpProto = UInt16(0x0806)
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(arpProto.bigEndian))
        guard fd >= 0 else { throw .system("packet socket", errno) }
        defer { close(fd) }
        let broadcast = [UInt8](repeating: 0xff, count: 6)
        // Ethernet: destination, source, EtherType ARP; ARP: Ethernet/IPv4, request, sender = target = address.
        let frame = broadcast + mac + [0x08, 0x06] + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01] + mac + address
            + [UInt8](repeating: 0, count: 6) + address
        // struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].
        let to = le16(UInt16(AF_PACKET)) + [UInt8(arpProto >> 8), UInt8(arpProto & 0xff)] + le32(ifIndex) + [0, 0, 0, 6]
            + broadcast + [0, 0]
        let sent = frame.withUnsafeBytes { f in
            to.withUnsafeBytes { t in
                sendto(fd, f.baseAddress, f.count, 0, t.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(t.count))
            }
        }
        guard sent == frame.count else { throw .system("sending the gratuitous ARP", errno) }
    }

    static func hardwareAddress(_ interface: String) throws(Failure) -> [UInt8] {
        let path = "/sys/class/net/\(interface)/address"
        guard let f = fopen(path, "r") else { throw .noSuchInterface(interface) }
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = fread(&buf, 1, 63, f)
        guard n > 0 else { throw .system("reading \(path)", errno) }
        let text = String(decoding: buf.prefix(n), as: UTF8.self).trimmingWhitespace()
        let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard parts.count == 6 else { throw .system("reading \(path)", EINVAL) }
        return parts
    }
}
#endif
