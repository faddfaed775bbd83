import Foundation
import Logging
import VossBase
import VossCluster
import VossConfig
import VossPosix
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
    let nodeName: String
    let logger = Logger(label: "voss.vip")
    private(set) var backends: [Backend] = []
    private(set) var owner: String?
    /// The address this node put on an interface (ownership), to take it off again.
    private var held: Held?
    private var ownershipError: String?

    struct Held: Equatable {
        var address: String
        var bytes: [UInt8]
        var interface: String
    }

    init(config: ConfigStore, gossip: GossipService, supervisor: Supervisor, nodeName: String) {
        self.config = config
        self.gossip = gossip
        self.supervisor = supervisor
        self.nodeName = nodeName
    }

    /// Every configuration key of the virtual address (`ose vip disable` removes them all).
    static let keys = ["vip.address", "vip.port", "vip.interface", "vip.own", "vip.target", "vip.proxy_protocol"]

    /// The settings `ose vip set` stores, one value per key of `keys`.
    static func settings(_ body: VIPSetRequest) -> [(key: String, value: String?)] {
        [
            ("vip.address", body.address), ("vip.port", String(body.port)),
            ("vip.interface", body.interface.flatMap { $0.isEmpty ? nil : $0 }), ("vip.own", body.own == true ? "on" : nil),
            ("vip.target", body.target ?? "https"), ("vip.proxy_protocol", body.proxyProtocol == true ? "on" : nil),
        ]
    }

    /// The membership metadata naming the gateway port the translator relays to.
    static func metaKey(_ doc: ConfigDocument) -> String { doc["vip.target"] == "http" ? "s3http" : "s3" }

    func refresh() async {
        let doc = await config.document
        let members = await gossip.memberSnapshot
        let metaKey = Self.metaKey(doc)
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
        // Ownership: among the live members that may hold it (suspects are out at once, so a dead
        // holder is replaced as soon as one member suspects it, not only when it is declared failed).
        if doc["vip.own"] == "on", let address = doc["vip.address"] {
            owner = VIPOwnership.owner(of: address, among: live.filter { $0.meta?["netadmin"] == "1" }.map(\.name))
        } else {
            owner = nil
        }
        var want: Held?
        if owner == nodeName, let address = doc["vip.address"], let iface = doc["vip.interface"], let bytes = IPAddressBytes.parse(address) {
            want = Held(address: address, bytes: bytes, interface: iface)
        }
        // A keeper that died holding the address (kill -9, then restarted by systemd) finds it still on
        // the interface: unless it is the owner again, it takes it off.
        if want == nil, held == nil, doc["vip.own"] == "on", let address = doc["vip.address"], let iface = doc["vip.interface"],
            let bytes = IPAddressBytes.parse(address), NetInterface.holds(bytes, interface: iface)
        {
            held = Held(address: address, bytes: bytes, interface: iface)
        }
        await hold(want)
    }

    /// Puts the address on (or takes it off) this node's interface.
    private func hold(_ want: Held?) async {
        if let h = held, h != want {
            do {
                try NetInterface.remove(h.bytes, interface: h.interface)
                logger.notice("released the virtual address", metadata: ["address": "\(h.address)", "interface": "\(h.interface)"])
            } catch {
                logger.error("cannot remove the virtual address", metadata: ["address": "\(h.address)", "error": "\(error)"])
            }
            held = nil
        }
        guard let w = want else {
            ownershipError = nil
            return
        }
        if held == w {
            // Still ours: make sure nobody took it off behind our back.
            if NetInterface.holds(w.bytes, interface: w.interface) { return }
        }
        do {
            try NetInterface.add(w.bytes, interface: w.interface)
            held = w
            ownershipError = nil
            logger.notice("holding the virtual address", metadata: ["address": "\(w.address)", "interface": "\(w.interface)"])
        } catch {
            ownershipError = "\(error)"
            logger.error("cannot add the virtual address", metadata: ["address": "\(w.address)", "interface": "\(w.interface)", "error": "\(error)"])
            return
        }
        // Gratuitous ARP now and twice more (a lost broadcast must not strand clients on the old holder).
        for delay in [0, 300, 1000] {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            guard held == w else { return }
            do {
                try NetInterface.announce(w.bytes, interface: w.interface)
            } catch {
                logger.warning("gratuitous ARP failed", metadata: ["address": "\(w.address)", "error": "\(error)"])
            }
        }
    }

    /// The keeper is stopping: the address goes with it (another member takes it over).
    func release() async {
        await hold(nil)
    }

    func show() async -> VIPInfo {
        let doc = await config.document
        let members = await gossip.memberSnapshot
        let counters = await supervisor.show().workers.first { $0.name == "vip" }
        let metaKey = Self.metaKey(doc)
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
            proxyProtocol: doc["vip.proxy_protocol"] == "on", owner: owner, holding: held != nil, ownershipError: ownershipError,
            worker: counters?.status, backends: views)
    }
}
