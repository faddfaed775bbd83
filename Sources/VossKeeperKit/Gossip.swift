import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import VossBase
import VossCluster
import VossConfig
import VossHTTP
import VossPosix
import VossWire

/// The gossip shell around the pure `SwimNode`: UDP datagrams for SWIM, TCP on the same port for
/// push-pull, every message sealed with the cluster key. Configuration changes made on this node go out
/// at once; entries merged from other nodes go into the `ConfigStore`, whose observers push them to the
/// workers.
public actor GossipService {
    public static let defaultLabel = "voss"
    /// What a node answers, in clear, to a push-pull it cannot open (so the other side can say "wrong
    /// key or label" instead of "connection closed").
    static let refusal: [UInt8] = [0] + Array("refused".utf8)
    static let exchangeTimeout = TimeAmount.seconds(3)
    /// Inbound push-pull exchanges at once (a real cluster has a few: each node starts one every few
    /// seconds with one peer).
    static let inbound = ConnectionLimiter(.init(total: 8, perAddress: 2))

    let node: NodeConfig
    let config: ConfigStore
    let group: any EventLoopGroup
    let logger = Logger(label: "voss.gossip")
    let origin = ContinuousClock.now
    let advertise: PeerAddress

    private(set) var core: SwimNode
    private var codec: GossipCodec
    private var box: SecretBox
    private var label: String
    private var clusterFile: ClusterFile?
    private var udp: (any Channel)?
    private var tcp: (any Channel)?
    private var listenError: String?
    private var joinError: String?
    private var resolved: [PeerAddress: SocketAddress] = [:]
    private var exchanging: Set<PeerAddress> = []
    private var refusedLogged: [String: Instant] = [:]
    private var refusedCount = 0
    private var loop: Task<Void, Never>?
    private var onKeyChange: (@Sendable (SecretBox) async -> Void)?
    private var bytesSent = 0
    private var bytesReceived = 0
    private var membershipObservers: [@Sendable () async -> Void] = []

    public init(node: NodeConfig, config: ConfigStore, box: SecretBox, group: any EventLoopGroup) async {
        self.node = node
        self.config = config
        self.group = group
        self.box = box
        let endpoint = node.gossipEndpoint
        advertise = PeerAddress(host: Self.advertiseHost(node), port: endpoint.port)
        var file: ClusterFile?
        if let bytes = try? Files.read(node.clusterFilePath) { file = try? JSONDecoder().decode(ClusterFile.self, from: Data(bytes)) }
        clusterFile = file
        label = file?.label ?? Self.defaultLabel
        codec = GossipCodec(clusterKey: box.key, label: label)
        core = SwimNode(
            name: node.nodeName, address: advertise, incarnation: Self.freshIncarnation(), meta: Self.meta(node, host: advertise.host),
            config: await config.document, seed: UInt64.random(in: 0...UInt64.max), now: .zero)
    }

    /// What other nodes learn about this one with its membership: where its S3 gateway listens (the
    /// virtual-IP translators' backends) and whether it may hold the virtual address.
    static func meta(_ node: NodeConfig, host: String) -> [String: String] {
        var m: [String: String] = [:]
        if let s3 = node.worker(named: "s3"), s3.enabled {
            for l in s3.listeners {
                guard let tcp = l.tcp else { continue }
                let h = tcp.address == "0.0.0.0" || tcp.address == "::" ? host : tcp.address
                if l.name == "https" { m["s3"] = PeerAddress(host: h, port: tcp.port).description }
                if l.name == "http" { m["s3http"] = PeerAddress(host: h, port: tcp.port).description }
            }
        }
        if Capabilities.hasNetAdmin() { m["netadmin"] = "1" }
        return m
    }

    /// A restarted node starts with an incarnation above any it had before (the wall clock in ms), so
    /// the others take its "alive" over their "failed" at once.
    static func freshIncarnation() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    static func advertiseHost(_ node: NodeConfig) -> String {
        if let a = node.gossipAdvertise, !a.isEmpty { return a }
        let bind = node.gossipEndpoint.address
        if bind != "0.0.0.0" && bind != "::" { return bind }
        if let devices = try? System.enumerateDevices() {
            for d in devices {
                if let a = d.address, case .v4 = a, let ip = a.ipAddress, !ip.hasPrefix("127.") { return ip }
            }
        }
        return "127.0.0.1"
    }

    func now() -> Instant { Instant(nanoseconds: (ContinuousClock.now - origin).nanosecondsClamped) }

    /// Called after any change of membership (joined, suspect, failed, alive again, left).
    public func onMembershipChange(_ f: @escaping @Sendable () async -> Void) { membershipObservers.append(f) }

    /// Every member this node knows, itself included.
    public var memberSnapshot: [Member] { core.members.values.sorted { $0.name < $1.name } }

    /// Called with the new cluster key after this node joined another cluster.
    public func onKeyChange(_ f: @escaping @Sendable (SecretBox) async -> Void) { onKeyChange = f }

    // MARK: life

    public func start() async {
        let endpoint = node.gossipEndpoint
        let frames = AsyncStream<(bytes: [UInt8], from: SocketAddress?)>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        do {
            udp = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(DatagramReader(sink: frames.continuation)) }
                }
                .bind(host: endpoint.address, port: endpoint.port).get()
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] ch in
                    ch.eventLoop.makeCompletedFuture {
                        // A push-pull frame can only be authenticated once it is whole (it is sealed as
                        // one), so few may be in flight: at most one per address and a handful in all,
                        // which bounds what unauthenticated peers can make the keeper hold.
                        guard Self.inbound.admit(ch, perAddressKey: ConnectionLimiter.key(ch), answerHTTP: false) else { return }
                        try ch.pipeline.syncOperations.addHandler(
                            FrameReader { bytes in
                                Task {
                                    let reply = await self.exchange(bytes)
                                    ch.writeAndFlush(ch.allocator.buffer(bytes: FrameCodec.encode(reply))).whenComplete { _ in
                                        ch.close(promise: nil)
                                    }
                                }
                            })
                        // A peer that connects and says nothing is dropped.
                        ch.eventLoop.scheduleTask(in: Self.exchangeTimeout) { ch.close(promise: nil) }
                    }
                }
                .bind(host: endpoint.address, port: endpoint.port).get()
            logger.notice(
                "gossip listening", metadata: ["bind": "\(endpoint.address):\(endpoint.port)", "advertise": "\(advertise)", "label": "\(label)"])
        } catch {
            listenError = "\(endpoint.address):\(endpoint.port): \(error)"
            logger.error("gossip cannot listen; this node stays out of any cluster", metadata: ["bind": "\(endpoint.address):\(endpoint.port)", "error": "\(error)"])
            try? await udp?.close()
            udp = nil
            return
        }
        Task { [self] in
            for await f in frames.stream { datagram(f.bytes, from: f.from) }
        }
        if let file = clusterFile {
            let seeds = (file.seeds + (file.members ?? [])).compactMap(PeerAddress.init(parsing:))
            let unique = Array(Set(seeds)).sorted().filter { $0 != advertise }
            logger.notice("rejoining cluster", metadata: ["label": "\(file.label)", "seeds": "\(unique.map(\.description))"])
            dispatch(core.join(seeds: unique))
        }
        loop = Task { [self] in await run() }
    }

    public func stop() async {
        loop?.cancel()
        try? await udp?.close()
        try? await tcp?.close()
    }

    private func run() async {
        while !Task.isCancelled {
            let t = now()
            dispatch(core.tick(now: t))
            let wait = core.nextDeadline() - t
            let ms = min(100, max(5, wait.millisecondsClamped))
            try? await Task.sleep(for: .milliseconds(ms))
        }
    }

    // MARK: inputs

    func datagram(_ bytes: [UInt8], from: SocketAddress?) {
        bytesReceived += bytes.count
        let packet: Packet
        do {
            packet = try codec.openPacket(bytes)
        } catch {
            refused(from: from?.ipAddress ?? "?", error)
            return
        }
        dispatch(core.receive(packet, now: now()))
    }

    /// The server side of push-pull: merge the peer's state, answer with ours.
    func exchange(_ bytes: [UInt8]) -> [UInt8] {
        bytesReceived += bytes.count
        let state: FullState
        do {
            state = try codec.openState(bytes)
        } catch {
            refused(from: "push-pull", error)
            return Self.refusal
        }
        dispatch(core.receiveState(state, now: now()))
        let reply = codec.sealState(core.pushPullAnswer(to: state))
        bytesSent += reply.count
        return reply
    }

    private func refused(from: String, _ error: any Error) {
        refusedCount += 1
        let t = now()
        // One line a minute per sending address (not address:port, which a sender can rotate), and
        // a bounded memory of who was logged.
        if let last = refusedLogged[from], t - last < .seconds(60) { return }
        if refusedLogged.count >= 256 {
            refusedLogged = refusedLogged.filter { t - $0.value < .seconds(60) }
            if refusedLogged.count >= 256 { return }  // a flood from many addresses: counted, not logged
        }
        refusedLogged[from] = t
        logger.warning(
            "refused gossip not sealed with this cluster's key and label (another cluster, or a node with the wrong key)",
            metadata: ["from": "\(from)", "error": "\(error)"])
    }

    /// A configuration change made on this node.
    public func localChanged(_ entries: [String: ConfigEntry]) {
        dispatch(core.localConfig(entries, now: now()))
    }

    // MARK: outputs

    private func dispatch(_ outputs: [SwimOutput]) {
        for o in outputs {
            switch o {
            case .send(let to, let packet):
                guard let udp, let address = resolve(to) else { continue }
                let bytes = codec.sealPacket(packet)
                bytesSent += bytes.count
                udp.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: udp.allocator.buffer(bytes: bytes)), promise: nil)
            case .pushPull(let to, let join):
                guard udp != nil, !exchanging.contains(to), let address = resolve(to) else { continue }
                exchanging.insert(to)
                let request = codec.sealState(core.pushPullRequest(to: to, join: join))
                bytesSent += request.count
                let codec = self.codec
                Task { [self] in
                    let result = await Self.pushPull(group: group, to: address, request: request)
                    finished(to, result, codec: codec)
                }
            case .event(let e):
                event(e)
            }
        }
    }

    private func finished(_ peer: PeerAddress, _ result: Result<[UInt8], ExchangeFailure>, codec used: GossipCodec) {
        exchanging.remove(peer)
        switch result {
        case .success(let bytes):
            bytesReceived += bytes.count
            if bytes == Self.refusal {
                joinError = "\(peer) refused this node: its cluster key or label differs"
                logger.error("a member refused this node's gossip: the cluster key or label differs", metadata: ["peer": "\(peer)"])
                return
            }
            guard let state = try? used.openState(bytes) else {
                logger.warning("push-pull reply not sealed with this cluster's key", metadata: ["peer": "\(peer)"])
                return
            }
            joinError = nil
            dispatch(core.receiveState(state, now: now()))
        case .failure(let f):
            logger.debug("push-pull failed", metadata: ["peer": "\(peer)", "error": "\(f)"])
        }
    }

    private func event(_ e: ClusterEvent) {
        switch e {
        case .config(let entries):
            let store = config
            Task {
                do {
                    try await store.merge(entries)
                } catch {
                    Logger(label: "voss.gossip").error("cannot store gossiped configuration: \(error)")
                }
            }
            return
        case .joined(let n): logger.notice("member joined", metadata: ["member": "\(n)"])
        case .alive(let n): logger.notice("member is alive again", metadata: ["member": "\(n)"])
        case .suspect(let n): logger.warning("member suspected", metadata: ["member": "\(n)"])
        case .failed(let n): logger.error("member failed", metadata: ["member": "\(n)"])
        case .left(let n): logger.notice("member left", metadata: ["member": "\(n)"])
        }
        saveClusterFile()
        for o in membershipObservers { Task { await o() } }
    }

    private func saveClusterFile() {
        guard var file = clusterFile else { return }
        file.members = core.members.values.filter { $0.name != core.name && ($0.status == .alive || $0.status == .suspect) }
            .map(\.address.description).sorted()
        guard file != clusterFile else { return }
        clusterFile = file
        writeClusterFile(file)
    }

    private func writeClusterFile(_ file: ClusterFile?) {
        do {
            if let file {
                try Files.writeJSON(file, to: node.clusterFilePath, mode: 0o600)
            } else if Files.exists(node.clusterFilePath) {
                unlink(node.clusterFilePath)
            }
        } catch {
            logger.error("cannot write \(node.clusterFilePath): \(error)")
        }
    }

    private func resolve(_ peer: PeerAddress) -> SocketAddress? {
        if let a = resolved[peer] { return a }
        let a = (try? SocketAddress(ipAddress: peer.host, port: peer.port)) ?? (try? SocketAddress.makeAddressResolvingHost(peer.host, port: peer.port))
        if let a { resolved[peer] = a }
        return a
    }

    // MARK: commands

    public func show() -> ClusterView {
        let t = now()
        let mine = core.digest
        let members = core.members.values.sorted { $0.name < $1.name }.map { m in
            ClusterView.Member(
                name: m.name, address: m.address.description, status: m.status.rawValue, incarnation: m.incarnation,
                lastContactMs: m.name == core.name ? 0 : m.lastContact.map { Swift.max(0, (t - $0).millisecondsClamped) },
                configInSync: m.name == core.name ? true : m.digest.map { $0 == mine }, isSelf: m.name == core.name)
        }
        return ClusterView(
            node: core.name, label: label, address: advertise.description, listening: udp != nil, listenError: listenError,
            joinError: joinError, configDigest: mine, localHealth: core.localHealth, refusedMessages: refusedCount,
            bytesSent: bytesSent, bytesReceived: bytesReceived, members: members)
    }

    /// A token another node joins with: the label, the key, and this node plus a few live members as seeds.
    public func token(label newLabel: String?) throws(KeeperError) -> String {
        if let newLabel, newLabel != label {
            guard ClusterLabel.isValid(newLabel) else { throw KeeperError(Message("cluster.bad_label", newLabel)) }
            guard core.reachableMembers.isEmpty else { throw KeeperError(Message("cluster.label_in_cluster", label)) }
            label = newLabel
            codec = GossipCodec(clusterKey: box.key, label: label)
            clusterFile = ClusterFile(label: label, seeds: [], members: [])
            writeClusterFile(clusterFile)
        }
        let seeds = [advertise] + core.reachableMembers.filter { $0.status == .alive }.prefix(4).map(\.address)
        return JoinToken(label: label, key: box.key, seeds: seeds).encoded
    }

    /// Joins the cluster a token describes through `seed` (or the token's seeds). On success this node
    /// takes the cluster's key and configuration.
    public func join(seed: PeerAddress?, token: JoinToken) async throws(KeeperError) -> ClusterView {
        guard udp != nil else { throw KeeperError(Message("cluster.not_listening", listenError ?? "?")) }
        let newKey = SymmetricKey(data: token.keyBytes)
        let sameCluster = token.label == label && newKey.withUnsafeBytes({ Array($0) }) == box.key.withUnsafeBytes({ Array($0) })
        let seeds = JoinPlan.seeds(explicit: seed, token: token.seeds, ownAddress: advertise)
        switch JoinPlan.refusal(sameCluster: sameCluster, label: label, reachableMembers: core.reachableMembers.count, seeds: seeds) {
        case .alreadyMember(let l, let n)?: throw KeeperError(Message("cluster.already_member", l, String(n)))
        case .noSeed?: throw KeeperError(Message("cluster.no_seed"))
        case nil: break
        }
        let newCodec = GossipCodec(clusterKey: newKey, label: token.label)
        let incarnation = Self.freshIncarnation()
        let hello = JoinPlan.hello(
            name: core.name, address: advertise, incarnation: incarnation, meta: core.meta, sameCluster: sameCluster,
            config: core.config.entries)
        var problems: [String] = []
        var answer: FullState?
        for s in seeds {
            guard let address = resolve(s) else {
                problems.append("\(s): cannot resolve")
                continue
            }
            switch await Self.pushPull(group: group, to: address, request: newCodec.sealState(hello)) {
            case .success(let bytes):
                switch JoinPlan.answer(bytes, refusal: Self.refusal, codec: newCodec) {
                case .accepted(let st): answer = st
                case .refused: problems.append("\(s): refused (the token's key or label is not that cluster's)")
                case .otherKey: problems.append("\(s): answered with another key")
                }
            case .failure(let f):
                problems.append("\(s): \(f)")
            }
            if answer != nil { break }
        }
        guard let answer else { throw KeeperError(Message("cluster.join_failed", problems.joined(separator: "; "))) }
        if JoinPlan.nameTaken(in: answer, name: core.name, address: advertise) {
            throw KeeperError(Message("cluster.name_taken", core.name))
        }

        if !sameCluster {
            // The cluster key first (secrets in config.json are re-sealed with it; a crash in between
            // leaves `cluster.key.next`, which the next start picks up), then the cluster's settings.
            let newBox = SecretBox(key: newKey)
            let next = node.clusterKeyPath + ".next"
            do {
                try Files.writeAtomically(newKey.withUnsafeBytes { Array($0) }, to: next, mode: 0o600)
                try await config.rekey(newBox)
                guard rename(next, node.clusterKeyPath) == 0 else {
                    throw KeeperError(Message("keeper.rename_failed", next, String(cString: strerror(errno))))
                }
                try await config.adopt(answer.config)
            } catch {
                throw KeeperError(Message("cluster.join_store_failed", "\(error)"))
            }
            box = newBox
            label = token.label
            codec = newCodec
            core = SwimNode(
                name: core.name, address: advertise, incarnation: incarnation, meta: core.meta, config: await config.document,
                seed: UInt64.random(in: 0...UInt64.max), now: now())
            await onKeyChange?(newBox)
        }
        joinError = nil
        clusterFile = ClusterFile(label: label, seeds: seeds.map(\.description), members: [])
        writeClusterFile(clusterFile)
        core.joining()
        dispatch(core.receiveState(answer, now: now()))
        saveClusterFile()
        logger.notice("joined cluster", metadata: ["label": "\(label)", "via": "\(answer.address)", "members": "\(answer.members.count)"])
        return show()
    }

    /// Leaves the cluster on purpose: the others list this node as `left`, not failed. The node keeps
    /// its key and configuration and runs alone.
    public func leave() async throws -> ClusterView {
        guard clusterFile != nil || !core.reachableMembers.isEmpty else { throw KeeperError(Message("cluster.not_member")) }
        dispatch(core.leave(now: now()))
        let config = await config.document
        core = core.successorAfterLeave(
            incarnation: Self.freshIncarnation(), config: config, seed: UInt64.random(in: 0...UInt64.max), now: now())
        clusterFile = nil
        writeClusterFile(nil)
        label = Self.defaultLabel
        codec = GossipCodec(clusterKey: box.key, label: label)
        logger.notice("left the cluster")
        for o in membershipObservers { Task { await o() } }
        return show()
    }

    /// Members other than this one that are alive (for the virtual-IP translator's backends).
    public var liveMembers: [Member] { core.reachableMembers.filter { $0.status == .alive } }
}
