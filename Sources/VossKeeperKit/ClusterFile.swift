/// `etc/cluster.json`: the cluster this node belongs to, so a restarted keeper finds it again.
struct ClusterFile: Codable, Equatable, Sendable {
    var label: String
    /// Where the node joined (`ose cluster join --seed`, the token's seeds).
    var seeds: [String]
    /// The members it last knew, as further seeds at the next start.
    var members: [String]?
}
