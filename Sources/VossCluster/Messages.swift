import VossBase
import VossConfig

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a node's gossip listens: UDP for SWIM messages, TCP on the same port for push-pull.
public struct PeerAddress: Codable, Hashable, Sendable, CustomStringConvertible, Comparable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[V6]:PORT`.
    public init?(parsing text: String) {
        guard let (host, portText) = HostPort.split(Substring(text.trimmingWhitespace())), let portText,
            let p = Int(portText), (1...65535).contains(p)
        else { return nil }
        self.host = String(host)
        self.port = p
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (a: PeerAddress, b: PeerAddress) -> Bool { a.description < b.description }
}

/// A member's state as SWIM sees it. `left` is a graceful leave; `dead` was decided by the failure
/// detector.
public enum MemberStatus: String, Codable, Sendable, Comparable {
    case alive, suspect, dead, left

    var rank: Int {
        switch self {
        case .alive: 0
        case .suspect: 1
        case .dead: 2
        case .left: 3
        }
    }

    public static func < (a: MemberStatus, b: MemberStatus) -> Bool { a.rank < b.rank }
}

/// One piece of disseminated state, piggy-backed on SWIM messages and gossip rounds.
public enum Update: Codable, Equatable, Sendable {
    /// `node` is alive at `address` with incarnation `incarnation` (also refutes suspicion).
    case alive(node: String, incarnation: UInt64, address: PeerAddress, meta: [String: String]?)
    /// `from` suspects `node` at `incarnation`.
    case suspect(node: String, incarnation: UInt64, from: String)
    /// `from` declared `node` failed at `incarnation`.
    case dead(node: String, incarnation: UInt64, from: String)
    /// `node` left the cluster on purpose.
    case left(node: String, incarnation: UInt64)
    /// One configuration entry (last writer wins by its stamp).
    case config(key: String, entry: ConfigEntry)

    /// Updates with the same identity replace each other in the broadcast queue (a newer state of a
    /// member, or a newer value of a key, makes the older one pointless to send).
    var identity: String {
        switch self {
        case .alive(let n, _, _, _), .suspect(let n, _, _), .dead(let n, _, _), .left(let n, _): "m:" + n
        case .config(let k, _): "c:" + k
        }
    }
}

/// A UDP datagram's content (before sealing).
public struct Packet: Codable, Equatable, Sendable {
    public enum Body: Codable, Equatable, Sendable {
        case ping(seq: UInt32, target: String)
        case ack(seq: UInt32)
        /// Please probe `target` at `address` for me and forward its ack (`seq` is mine).
        case pingReq(seq: UInt32, target: String, address: PeerAddress)
        /// Lifeguard: the relay did not hear from the target in time (so the asker knows its own
        /// network still works).
        case nack(seq: UInt32)
        /// Only piggy-backed updates.
        case gossip
    }

    public var from: String
    public var address: PeerAddress
    /// The sender's configuration digest (hex): a mismatch starts a push-pull.
    public var digest: String
    public var body: Body
    public var updates: [Update]

    public init(from: String, address: PeerAddress, digest: String, body: Body, updates: [Update]) {
        self.from = from
        self.address = address
        self.digest = digest
        self.body = body
        self.updates = updates
    }
}

/// A member as carried by push-pull.
public struct MemberState: Codable, Equatable, Sendable {
    public var name: String
    public var address: PeerAddress
    public var incarnation: UInt64
    public var status: MemberStatus
    public var meta: [String: String]?

    public init(name: String, address: PeerAddress, incarnation: UInt64, status: MemberStatus, meta: [String: String]? = nil) {
        self.name = name
        self.address = address
        self.incarnation = incarnation
        self.status = status
        self.meta = meta
    }
}

/// The whole state one node sends another in a push-pull exchange (TCP): every member it knows and
/// every cluster configuration entry.
public struct FullState: Codable, Equatable, Sendable {
    public var from: String
    public var address: PeerAddress
    /// The sender is joining (the receiver answers even though it does not know the sender yet).
    public var join: Bool
    public var members: [MemberState]
    /// The sender's configuration digest. The entries are left out when the other side is known to
    /// have the same digest (the certificate alone is kilobytes; idle clusters should not ship it).
    public var digest: String?
    public var config: [String: ConfigEntry]

    public init(
        from: String, address: PeerAddress, join: Bool, members: [MemberState], digest: String? = nil, config: [String: ConfigEntry]
    ) {
        self.from = from
        self.address = address
        self.join = join
        self.members = members
        self.digest = digest
        self.config = config
    }
}

extension UInt64 {
    var hex: String {
        let s = String(self, radix: 16)
        return String(repeating: "0", count: Swift.max(0, 16 - s.count)) + s
    }
}
