import VossConfig

/// The decisions of `ose cluster join`, as pure functions (the keeper's `GossipService.join` is the
/// shell that sends and stores): which seeds to try in which order, whether this node may join at
/// all, what it says first, and how each seed's answer counts.
public enum JoinPlan {
    /// Why a join is refused before anything is sent.
    public enum Refusal: Equatable, Sendable {
        /// This node is already in another cluster with this many reachable members.
        case alreadyMember(label: String, members: Int)
        case noSeed
    }

    /// The seeds to try, in order: the one named on the command line, then the token's, each once,
    /// never this node itself.
    public static func seeds(explicit: PeerAddress?, token: [PeerAddress], ownAddress: PeerAddress) -> [PeerAddress] {
        ([explicit].compactMap { $0 } + token).reduce(into: [PeerAddress]()) { out, s in
            if !out.contains(s) && s != ownAddress { out.append(s) }
        }
    }

    /// A node in a cluster may only "join" the cluster it is in (with a new seed): leaving comes first.
    public static func refusal(sameCluster: Bool, label: String, reachableMembers: Int, seeds: [PeerAddress]) -> Refusal? {
        if !sameCluster && reachableMembers > 0 { return .alreadyMember(label: label, members: reachableMembers) }
        if seeds.isEmpty { return .noSeed }
        return nil
    }

    /// The first message to a seed: this node alone, fresh incarnation, and its configuration only when
    /// it is already of that cluster (a new member takes the cluster's configuration instead).
    public static func hello(
        name: String, address: PeerAddress, incarnation: UInt64, meta: [String: String]?, sameCluster: Bool,
        config: [String: ConfigEntry]
    ) -> FullState {
        FullState(
            from: name, address: address, join: true,
            members: [MemberState(name: name, address: address, incarnation: incarnation, status: .alive, meta: meta)],
            config: sameCluster ? config : [:])
    }

    /// What one seed's answer means.
    public enum Answer: Equatable, Sendable {
        case accepted(FullState)
        case refused
        case otherKey
    }

    public static func answer(_ bytes: [UInt8], refusal: [UInt8], codec: GossipCodec) -> Answer {
        if bytes == refusal { return .refused }
        guard let st = try? codec.openState(bytes) else { return .otherKey }
        return .accepted(st)
    }

    /// Another live node of the cluster already has this node's name (at another address).
    public static func nameTaken(in answer: FullState, name: String, address: PeerAddress) -> Bool {
        answer.members.contains { $0.name == name && $0.address != address && $0.status == .alive }
    }
}
