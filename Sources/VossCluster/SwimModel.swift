import VossBase
import VossConfig

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Timing and size knobs of the membership protocol. The defaults suit a LAN; every duration is
/// multiplied by Lifeguard's local health (`1 + lhm`) when this node itself is slow.
public struct SwimSettings: Sendable, Equatable {
    public var probeInterval: Duration = .milliseconds(500)
    public var probeTimeout: Duration = .milliseconds(200)
    /// Members asked to probe a target that did not answer us directly.
    public var indirectChecks = 3
    public var gossipInterval: Duration = .milliseconds(100)
    public var gossipFanout = 3
    /// Each update is sent `retransmitMult * ceil(log10(N + 1))` times.
    public var retransmitMult = 4
    /// Suspicion timeout: at least `suspicionMinMult * max(1, log10 N) * probeInterval`, at most
    /// `suspicionMaxMult` times that; it shrinks from max to min as independent suspicions arrive.
    public var suspicionMinMult = 4
    public var suspicionMaxMult = 3
    public var pushPullInterval: Duration = .seconds(10)
    /// How often a push-pull is tried with a random failed member, so that the two sides of a healed
    /// partition (or a node that came back under the same name) find each other again.
    public var reconnectInterval: Duration = .seconds(5)
    /// A config digest mismatch starts a push-pull with that peer at most this often.
    public var digestSyncGap: Duration = .milliseconds(500)
    /// How long failed and departed members stay listed.
    public var forgetAfter: Duration = .seconds(3600)
    /// Largest encoded packet before sealing (a datagram carries 29 more bytes of nonce, tag and
    /// version; together they stay within 1400 bytes).
    public var maxPacketBytes = 1371
    public var maxLocalHealth = 8

    public init() {}
}

/// What the protocol tells its shell to do.
public enum SwimOutput: Equatable, Sendable {
    /// Send one datagram.
    case send(PeerAddress, Packet)
    /// Open a TCP push-pull exchange with a peer: send `fullState(join:)`, merge its reply with
    /// `receiveState`.
    case pushPull(PeerAddress, join: Bool)
    case event(ClusterEvent)
}

public enum ClusterEvent: Equatable, Sendable {
    case joined(String)
    case alive(String)
    case suspect(String)
    case failed(String)
    case left(String)
    /// Entries merged from other nodes (only the ones that were newer than ours).
    case config([String: ConfigEntry])
}

/// One member as this node sees it.
public struct Member: Equatable, Sendable {
    public var name: String
    public var address: PeerAddress
    public var incarnation: UInt64
    public var status: MemberStatus
    public var meta: [String: String]?
    /// When the status last changed (this node's clock).
    public var since: Instant
    /// When this node last received a message from that member.
    public var lastContact: Instant?
    /// The configuration digest it last told us.
    public var digest: String?
}
