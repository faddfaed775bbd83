import Foundation
import Logging
import VossBase
import VossCluster
import VossConfig
import VossVIPCore
import VossWire

/// Keeps the virtual-IP translator's backends equal to the S3 gateways of the live members: on every
/// membership change (a suspect or failed member leaves the set at once) and configuration change it
/// recomputes the list and pushes it to the `vip` worker. Also decides which member holds the address
/// when ownership is on (rendezvous hashing over the live members that may).
actor VIPManager {
    let config: ConfigStore
    let gossip: GossipService
    let supervisor: Supervisor
    let logger = Logger(label: "voss.vip")
    private(set) var backends: [Backend] = []
    private(set) var owner: String?

    init(config: ConfigStore, gossip: GossipService, supervisor: Supervisor) {
        self.config = config
        self.gossip = gossip
        self.supervisor = supervisor
    }

    func refresh() async {
        let doc = await config.document
        let members = await gossip.memberSnapshot
        let metaKey = doc["vip.target"] == "http" ? "s3http" : "s3"
        let live = members.filter { $0.status == .alive }
        let next = live.compactMap { m -> Backend? in
            guard let a = m.meta?[metaKey].flatMap(PeerAddress.init(parsing:)) else { return nil }
            return Backend(name: m.name, host: a.host, port: a.port)
        }
        if next != backends {
            logger.info("backends changed", metadata: ["backends": "\(next.map(\.name))"])
            backends = next
        }
        let json = String(decoding: (try? JSONEncoder().encode(next)) ?? Data("[]".utf8), as: UTF8.self)
        await supervisor.updateExtraSlice("vip", ["vip.backends": json])
        if doc["vip.own"] == "on", let address = doc["vip.address"] {
            owner = VIPOwnership.owner(of: address, among: live.filter { $0.meta?["netadmin"] == "1" }.map(\.name))
        } else {
            owner = nil
        }
    }

    func show() async -> VIPInfo {
        let doc = await config.document
        let members = await gossip.memberSnapshot
        let counters = await supervisor.show().workers.first { $0.name == "vip" }
        let metaKey = doc["vip.target"] == "http" ? "s3http" : "s3"
        let views = members.compactMap { m -> VIPInfo.BackendView? in
            guard let a = m.meta?[metaKey] else { return nil }
            let inSet = backends.contains { $0.name == m.name }
            return VIPInfo.BackendView(
                name: m.name, address: a, state: inSet ? "in service" : m.status.rawValue,
                active: counters?.counters["backend.\(m.name).active"], total: counters?.counters["backend.\(m.name).total"])
        }
        return VIPInfo(
            enabled: doc["vip.address"] != nil, address: doc["vip.address"], port: doc["vip.port"].flatMap { Int($0) },
            interface: doc["vip.interface"], own: doc["vip.own"] == "on", target: doc["vip.target"] ?? "https",
            proxyProtocol: doc["vip.proxy_protocol"] == "on", owner: owner, worker: counters?.status, backends: views)
    }
}
