import VossBase
import VossCluster
import VossConfig
import VossWire

/// The cluster (`ose cluster`) and its virtual address (`ose vip`).
extension ControlAPI {
    func clusterRoutes(_ r: inout ControlRouter) {
        r.on(Routes.clusterShow) { _, _ in await gossip.show() }
        r.on(Routes.clusterToken) { call, _ in
            let label = call.query("label").flatMap { $0.isEmpty ? nil : $0 }
            let token = try await gossip.token(label: label)
            let decoded = JoinToken.decode(token)
            return ClusterToken(token: token, label: decoded?.label ?? "", seeds: decoded?.seeds.map(\.description) ?? [])
        }
        r.on(Routes.clusterJoin) { _, body in
            guard let token = JoinToken.decode(body.token) else {
                throw ValidationFailure(issues: [ConfigIssue(key: "cluster.token", Message("cluster.bad_token"))])
            }
            var seed: PeerAddress?
            if let s = body.seed, !s.isEmpty {
                guard let p = PeerAddress(parsing: s) else {
                    throw ValidationFailure(issues: [ConfigIssue(key: "cluster.seed", Message("value.host_port", s))])
                }
                seed = p
            }
            return try await gossip.join(seed: seed, token: token)
        }
        r.on(Routes.clusterLeave) { _, _ in try await gossip.leave() }

        r.on(Routes.vipShow) { _, _ in await vip.show() }
        r.on(Routes.vipSet) { _, body in
            if let t = body.target, !["http", "https"].contains(t) {
                throw ValidationFailure(issues: [ConfigIssue(key: "vip.target", Message("value.one_of", "https, http"))])
            }
            if body.own == true && (body.interface ?? "").isEmpty {
                throw ValidationFailure(issues: [ConfigIssue(key: "vip.interface", Message("vip.own_needs_interface"))])
            }
            try await config.set(VIPManager.settings(body))
            // The configuration observer has recomputed backends and owner before `set` returned.
            return await vip.show()
        }
        r.on(Routes.vipDisable) { _, _ in
            try await config.set(VIPManager.keys.map { ($0, nil) })
            return await vip.show()
        }
    }
}
