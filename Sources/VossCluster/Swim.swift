import VossBase
import VossConfig

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// SWIM membership (Das et al. 2002) with the Lifeguard extensions (Dadgar et al. 2017: local health,
/// dynamic suspicion timeouts, nacks), piggy-backed dissemination with bounded retransmits and
/// push-pull anti-entropy that also carries the cluster configuration.
///
/// Pure: inputs are received messages and clock ticks (`Instant`s), outputs are messages to send and
/// events. Randomness comes from a seeded generator, so a simulation of many nodes is deterministic.
public struct SwimNode: Sendable {
    public let name: String
    public private(set) var address: PeerAddress
    public private(set) var incarnation: UInt64
    public var meta: [String: String]?
    public private(set) var members: [String: Member] = [:]
    public private(set) var config: ConfigDocument
    public private(set) var localHealth = 0
    public private(set) var leaving = false
    /// The other members of a cluster this node left (`ose cluster leave`). Their gossip is ignored and
    /// their push-pulls are told "left": datagrams in flight when the node left, and members that had
    /// not heard of the leave yet, would otherwise pull it back in (and its new incarnation would make
    /// it alive again everywhere). Cleared by a join.
    public private(set) var departedFrom: Set<String> = []
    public let settings: SwimSettings

    var rng: SplitMix64
    var seq: UInt32 = 0
    var probeOrder: [String] = []
    var nextProbeAt: Instant
    var nextGossipAt: Instant
    var nextPushPullAt: Instant
    var nextReconnectAt: Instant
    var probe: PendingProbe?
    var relays: [UInt32: Relay] = [:]
    var suspicions: [String: Suspicion] = [:]
    var broadcasts: [String: Broadcast] = [:]
    var broadcastCounter: UInt64 = 0
    var lastDigestSync: [PeerAddress: Instant] = [:]
    var cachedDigest: String

    struct PendingProbe: Sendable {
        var seq: UInt32
        var target: String
        var indirectAt: Instant
        var periodEnd: Instant
        var indirectSent = false
        var expectedNacks = 0
        var nacks = 0
    }

    struct Relay: Sendable {
        var origin: PeerAddress
        var originSeq: UInt32
        var deadline: Instant
    }

    struct Suspicion: Sendable {
        var start: Instant
        var confirmations: Set<String>
        var k: Int
        var min: Duration
        var max: Duration

        func timeout() -> Duration {
            guard k >= 1 else { return min }
            let c = Double(confirmations.count)
            let frac = log(c + 1) / log(Double(k) + 1)
            let span = (max - min).secondsDouble
            let t = Swift.max(min.secondsDouble, max.secondsDouble - span * frac)
            return .nanoseconds(Int64(t * 1e9))
        }
    }

    struct Broadcast: Sendable {
        var update: Update
        var transmits: Int
        var order: UInt64
        /// Bytes it adds to a packet (computed once).
        var cost: Int
    }

    public init(
        name: String, address: PeerAddress, incarnation: UInt64 = 0, meta: [String: String]? = nil,
        config: ConfigDocument = ConfigDocument(), settings: SwimSettings = SwimSettings(), seed: UInt64, now: Instant
    ) {
        self.name = name
        self.address = address
        self.incarnation = incarnation
        self.meta = meta
        self.settings = settings
        self.rng = SplitMix64(seed: seed)
        var filtered: [String: ConfigEntry] = [:]
        for (k, e) in config.entries where !ConfigSchema.isNodeLocal(k) { filtered[k] = e }
        self.config = ConfigDocument(entries: filtered)
        self.cachedDigest = self.config.digest.hex
        // Spread the first probe over one interval so that nodes started together do not probe in step.
        var r = rng
        let offset = Int64.random(in: 0...max(1, settings.probeInterval.nanosecondsClamped), using: &r)
        rng = r
        self.nextProbeAt = now + .nanoseconds(offset)
        self.nextGossipAt = now + settings.gossipInterval
        self.nextPushPullAt = now + settings.pushPullInterval
        self.nextReconnectAt = now + settings.reconnectInterval
        members[name] = Member(
            name: name, address: address, incarnation: incarnation, status: .alive, meta: meta, since: now,
            lastContact: now, digest: cachedDigest)
    }

    // MARK: queries

    public var digest: String { cachedDigest }

    /// Members other than this node that are alive or suspect (suspects still get probed and gossip).
    public var reachableMembers: [Member] {
        members.values.filter { $0.name != name && ($0.status == .alive || $0.status == .suspect) }
            .sorted { $0.name < $1.name }
    }

    public var aliveCount: Int { members.values.filter { $0.status == .alive || $0.status == .suspect }.count }

    /// Updates waiting to be disseminated (for tests and `cluster show`).
    public var pendingBroadcasts: Int { broadcasts.count }

    var retransmitLimit: Int {
        settings.retransmitMult * Int(ceil(log10(Double(aliveCount + 1))))
    }

    var scale: Int64 { Int64(1 + localHealth) }

    // MARK: commands

    /// Contacts seeds with a joining push-pull.
    public mutating func join(seeds: [PeerAddress]) -> [SwimOutput] {
        joining()
        return seeds.filter { $0 != address }.map { .pushPull($0, join: true) }
    }

    /// An explicit join (`ose cluster join`, or a start with a cluster file): the cluster this node
    /// left, if any, may take it back.
    public mutating func joining() {
        leaving = false
        departedFrom = []
    }

    /// Announces a graceful leave to every reachable member (and queues it for gossip).
    public mutating func leave(now: Instant) -> [SwimOutput] {
        leaving = true
        incarnation += 1
        members[name]?.incarnation = incarnation
        members[name]?.status = .left
        let u = Update.left(node: name, incarnation: incarnation)
        enqueue(u)
        var out: [SwimOutput] = []
        for m in reachableMembers {
            out.append(.send(m.address, packet(.gossip, extra: [u])))
        }
        return out
    }

    /// This node after `leave`: alone, with a new incarnation and the cluster's configuration, deaf to
    /// the members it left until it joins again.
    public func successorAfterLeave(incarnation: UInt64, config: ConfigDocument, seed: UInt64, now: Instant) -> SwimNode {
        var n = SwimNode(name: name, address: address, incarnation: incarnation, meta: meta, config: config, settings: settings, seed: seed, now: now)
        n.departedFrom = Set(members.keys.filter { $0 != name }).union(departedFrom)
        return n
    }

    /// What this node answers a push-pull request from `s`: its state, or only "I left" to a member of
    /// the cluster it left.
    public func pushPullAnswer(to s: FullState) -> FullState {
        guard departedFrom.contains(s.from), !s.join else { return pushPullReply(to: s) }
        return FullState(
            from: name, address: address, join: false,
            members: [MemberState(name: name, address: address, incarnation: incarnation, status: .left, meta: meta)], config: [:])
    }

    /// Local configuration changes (`ose` on this node): merged, queued for gossip and sent to every
    /// reachable member at once. Entries too large for a datagram go by push-pull.
    public mutating func localConfig(_ entries: [String: ConfigEntry], now: Instant) -> [SwimOutput] {
        var fresh: [Update] = []
        for key in entries.keys.sorted() where !ConfigSchema.isNodeLocal(key) {
            let e = entries[key]!
            let before = config.entries[key]
            _ = config.merge([key: e])
            if config.entries[key] == before { continue }
            let u = Update.config(key: key, entry: e)
            enqueue(u)
            fresh.append(u)
        }
        cachedDigest = config.digest.hex
        members[name]?.digest = cachedDigest
        guard !fresh.isEmpty else { return [] }
        var out: [SwimOutput] = []
        let fits = fresh.filter { encodedSize(basePacket(.gossip, updates: [$0])) <= settings.maxPacketBytes }
        let tooLarge = fresh.count != fits.count
        for m in reachableMembers {
            if tooLarge {
                out.append(.pushPull(m.address, join: false))
                lastDigestSync[m.address] = now
            } else {
                out.append(.send(m.address, packet(.gossip, extra: fits)))
            }
        }
        return out
    }

    // MARK: time

    public mutating func tick(now: Instant) -> [SwimOutput] {
        var out: [SwimOutput] = []
        if leaving { return out }

        // The current probe: indirect probes after the timeout, suspicion at the end of the period.
        if var p = probe {
            if !p.indirectSent && now >= p.indirectAt {
                p.indirectSent = true
                let helpers = randomMembers(count: settings.indirectChecks, excluding: [p.target]) { $0.status == .alive }
                if let target = members[p.target] {
                    for h in helpers {
                        out.append(.send(h.address, packet(.pingReq(seq: p.seq, target: p.target, address: target.address))))
                    }
                }
                p.expectedNacks = helpers.count
                probe = p
            }
            if now >= p.periodEnd {
                probe = nil
                // Lifeguard: a failed probe may be our own fault; missing nacks say so even more.
                adjustHealth(+1)
                if p.expectedNacks > 0 && p.nacks < p.expectedNacks { adjustHealth(+1) }
                if let m = members[p.target], m.status == .alive {
                    out += apply(.suspect(node: p.target, incarnation: m.incarnation, from: name), now: now)
                }
            }
        }
        if probe == nil && now >= nextProbeAt {
            if let target = nextProbeTarget() {
                seq &+= 1
                let period = Duration.nanoseconds(settings.probeInterval.nanosecondsClamped * scale)
                probe = PendingProbe(
                    seq: seq, target: target.name,
                    indirectAt: now + .nanoseconds(settings.probeTimeout.nanosecondsClamped * scale), periodEnd: now + period)
                out.append(.send(target.address, packet(.ping(seq: seq, target: target.name))))
                nextProbeAt = now + period
            } else {
                nextProbeAt = now + settings.probeInterval
            }
        }

        // Relays whose target stayed silent: nack, so the asker knows we are fine.
        for (s, r) in relays where now >= r.deadline {
            relays[s] = nil
            out.append(.send(r.origin, packet(.nack(seq: r.originSeq))))
        }

        // Suspicions that ran out.
        for (n, s) in suspicions.sorted(by: { $0.key < $1.key }) where now >= s.start + s.timeout() {
            suspicions[n] = nil
            if let m = members[n], m.status == .suspect {
                out += apply(.dead(node: n, incarnation: m.incarnation, from: name), now: now)
            }
        }

        // Gossip round.
        if now >= nextGossipAt {
            nextGossipAt = now + settings.gossipInterval
            if !broadcasts.isEmpty {
                for m in randomMembers(count: settings.gossipFanout, excluding: [], where: { _ in true }) {
                    let p = packet(.gossip)
                    if p.updates.isEmpty { break }
                    out.append(.send(m.address, p))
                }
            }
        }

        // Anti-entropy.
        if now >= nextPushPullAt {
            let n = Double(max(1, aliveCount))
            let factor = n > 32 ? ceil(log2(n) - log2(32)) + 1 : 1
            nextPushPullAt = now + .nanoseconds(Int64(Double(settings.pushPullInterval.nanosecondsClamped) * factor))
            if let m = randomMembers(count: 1, excluding: [], where: { $0.status == .alive }).first {
                lastDigestSync[m.address] = now
                out.append(.pushPull(m.address, join: false))
            }
        }

        // Failed members: try one now and then (partitions heal; a restarted node refutes its death).
        if now >= nextReconnectAt {
            nextReconnectAt = now + settings.reconnectInterval
            var dead = members.values.filter { $0.status == .dead }.map(\.address).sorted()
            dead.shuffle(using: &rng)
            if let a = dead.first { out.append(.pushPull(a, join: false)) }
        }

        // Forget long-gone members.
        for (n, m) in members where n != name && (m.status == .dead || m.status == .left) && now - m.since > settings.forgetAfter {
            members[n] = nil
            broadcasts["m:" + n] = nil
        }
        return out
    }

    /// When the shell should call `tick` next at the latest.
    public func nextDeadline() -> Instant {
        var d = min(nextGossipAt, nextProbeAt, nextPushPullAt, nextReconnectAt)
        if let p = probe { d = min(d, p.indirectSent ? p.periodEnd : p.indirectAt) }
        for r in relays.values { d = min(d, r.deadline) }
        for s in suspicions.values { d = min(d, s.start + s.timeout()) }
        return d
    }

    // MARK: messages

    public mutating func receive(_ p: Packet, now: Instant) -> [SwimOutput] {
        guard p.from != name, !departedFrom.contains(p.from) else { return [] }
        var out: [SwimOutput] = []
        if members[p.from] != nil {
            members[p.from]?.lastContact = now
            members[p.from]?.digest = p.digest
        }
        for u in p.updates { out += apply(u, now: now) }
        if leaving { return out }
        switch p.body {
        case .ping(let s, let target):
            if target == name { out.append(.send(p.address, packet(.ack(seq: s)))) }
        case .ack(let s):
            if let pr = probe, pr.seq == s {
                probe = nil
                adjustHealth(-1)
            } else if let r = relays.removeValue(forKey: s) {
                out.append(.send(r.origin, packet(.ack(seq: r.originSeq))))
            }
        case .pingReq(let s, let target, let addr):
            seq &+= 1
            relays[seq] = Relay(origin: p.address, originSeq: s, deadline: now + settings.probeTimeout)
            out.append(.send(addr, packet(.ping(seq: seq, target: target))))
        case .nack(let s):
            if probe?.seq == s { probe?.nacks += 1 }
        case .gossip:
            break
        }
        // A different configuration: reconcile over TCP (rate-limited per peer).
        if p.digest != cachedDigest, members[p.from]?.status == .alive {
            if let last = lastDigestSync[p.address], now - last < settings.digestSyncGap {
            } else {
                lastDigestSync[p.address] = now
                out.append(.pushPull(p.address, join: false))
            }
        }
        return out
    }

    /// This node's side of a push-pull exchange, with every configuration entry unless `peerDigest`
    /// says the other side has them all already.
    public func fullState(join: Bool, peerDigest: String? = nil) -> FullState {
        FullState(
            from: name, address: address, join: join,
            members: members.values.sorted { $0.name < $1.name }.map {
                MemberState(name: $0.name, address: $0.address, incarnation: $0.incarnation, status: $0.status, meta: $0.meta)
            },
            digest: cachedDigest, config: peerDigest == cachedDigest ? [:] : config.entries)
    }

    /// The request of a push-pull this node starts (`SwimOutput.pushPull`): entries only when the
    /// peer's last known digest differs from ours (or is unknown, or this is a join).
    public func pushPullRequest(to peer: PeerAddress, join: Bool) -> FullState {
        let known = join ? nil : members.values.first { $0.address == peer && $0.name != name }?.digest
        return fullState(join: join, peerDigest: known)
    }

    /// The answer to a push-pull request (after `receiveState(request)`): entries only when the two
    /// digests still differ.
    public func pushPullReply(to request: FullState) -> FullState {
        fullState(join: false, peerDigest: request.digest)
    }

    /// Merges the other side of a push-pull exchange (request or reply).
    public mutating func receiveState(_ s: FullState, now: Instant) -> [SwimOutput] {
        if departedFrom.contains(s.from) {
            // A member of the cluster this node left asks to join it: that is a new start.
            guard s.join else { return [] }
            departedFrom.remove(s.from)
        }
        var out: [SwimOutput] = []
        for m in s.members {
            switch m.status {
            case .alive: out += apply(.alive(node: m.name, incarnation: m.incarnation, address: m.address, meta: m.meta), now: now)
            case .suspect: out += apply(.suspect(node: m.name, incarnation: m.incarnation, from: s.from), now: now)
            case .dead: out += apply(.dead(node: m.name, incarnation: m.incarnation, from: s.from), now: now)
            case .left: out += apply(.left(node: m.name, incarnation: m.incarnation), now: now)
            }
        }
        var incoming: [String: ConfigEntry] = [:]
        for (k, e) in s.config where !ConfigSchema.isNodeLocal(k) { incoming[k] = e }
        let before = config.entries
        _ = config.merge(incoming)
        // Entries we took over are reported (a newer stamp for the same value too, and a tombstone of
        // a key we never had, so the store keeps the same stamps as everyone else).
        var taken: [String: ConfigEntry] = [:]
        for (k, e) in incoming where config.entries[k] == e && before[k] != e { taken[k] = e }
        if !taken.isEmpty {
            cachedDigest = config.digest.hex
            members[name]?.digest = cachedDigest
            out.append(.event(.config(taken)))
        }
        if members[s.from] != nil {
            members[s.from]?.lastContact = now
            if let d = s.digest { members[s.from]?.digest = d }
        }
        return out
    }

    // MARK: state changes

    mutating func apply(_ u: Update, now: Instant) -> [SwimOutput] {
        switch u {
        case .alive(let n, let inc, let addr, let meta):
            if n == name {
                // Someone carries an incarnation of ours that is not older: outbid it.
                if inc > incarnation || (inc == incarnation && addr != address) { return refute(inc, now: now) }
                return []
            }
            if var m = members[n] {
                guard inc > m.incarnation else { return [] }
                let wasDown = m.status != .alive
                m.incarnation = inc
                m.address = addr
                m.meta = meta
                if m.status != .alive { m.since = now }
                m.status = .alive
                members[n] = m
                suspicions[n] = nil
                enqueue(u)
                return wasDown ? [.event(.alive(n))] : []
            }
            members[n] = Member(
                name: n, address: addr, incarnation: inc, status: .alive, meta: meta, since: now, lastContact: nil, digest: nil)
            // A random place in the current probe round (memberlist does the same): nodes that learn of
            // members in the same order must not probe them in the same order.
            probeOrder.insert(n, at: Int.random(in: 0...probeOrder.count, using: &rng))
            enqueue(u)
            return [.event(.joined(n))]

        case .suspect(let n, let inc, let from):
            if n == name {
                if leaving { return [] }
                guard inc >= incarnation else { return [] }
                adjustHealth(+1)
                return refute(inc, now: now)
            }
            guard var m = members[n], inc >= m.incarnation else { return [] }
            switch m.status {
            case .alive:
                m.status = .suspect
                m.incarnation = inc
                m.since = now
                members[n] = m
                suspicions[n] = newSuspicion(now: now, from: from)
                enqueue(u)
                return [.event(.suspect(n))]
            case .suspect:
                if inc > m.incarnation {
                    members[n]?.incarnation = inc
                    suspicions[n] = newSuspicion(now: now, from: from)
                    enqueue(u)
                } else if from != name, var s = suspicions[n], !s.confirmations.contains(from) {
                    // Lifeguard: independent suspicions shorten the timeout; pass them on.
                    s.confirmations.insert(from)
                    suspicions[n] = s
                    enqueue(u)
                }
                return []
            case .dead, .left:
                return []
            }

        case .dead(let n, let inc, _):
            // A failed member is not declared failed again, nor is one that left.
            return markDown(n, inc, .dead, u, now: now, skipping: [.dead, .left], event: .failed(n))

        case .left(let n, let inc):
            return markDown(n, inc, .left, u, now: now, skipping: [.left], event: .left(n))

        case .config(let key, let entry):
            guard !ConfigSchema.isNodeLocal(key) else { return [] }
            let before = config.entries[key]
            _ = config.merge([key: entry])
            guard config.entries[key] != before else { return [] }
            cachedDigest = config.digest.hex
            members[name]?.digest = cachedDigest
            enqueue(u)
            return [.event(.config([key: entry]))]
        }
    }

    /// A member is gone (`dead` or `left`) at `inc`: refuted when it is this node, else recorded and
    /// passed on unless the member is already in one of the `skipping` states.
    mutating func markDown(
        _ n: String, _ inc: UInt64, _ status: MemberStatus, _ u: Update, now: Instant, skipping: Set<MemberStatus>,
        event: ClusterEvent
    ) -> [SwimOutput] {
        if n == name {
            if leaving { return [] }
            guard inc >= incarnation else { return [] }
            return refute(inc, now: now)
        }
        guard var m = members[n], inc >= m.incarnation, !skipping.contains(m.status) else { return [] }
        m.status = status
        m.incarnation = inc
        m.since = now
        members[n] = m
        suspicions[n] = nil
        enqueue(u)
        return [.event(event)]
    }

    mutating func refute(_ inc: UInt64, now: Instant) -> [SwimOutput] {
        incarnation = max(incarnation, inc) + 1
        members[name]?.incarnation = incarnation
        members[name]?.status = .alive
        enqueue(.alive(node: name, incarnation: incarnation, address: address, meta: meta))
        return []
    }

    func newSuspicion(now: Instant, from: String) -> Suspicion {
        let n = Double(max(1, aliveCount))
        let nodeScale = max(1, log10(n))
        let minT = settings.probeInterval.secondsDouble * Double(settings.suspicionMinMult) * nodeScale
        let maxT = minT * Double(settings.suspicionMaxMult)
        let k = min(settings.suspicionMinMult - 2, max(0, aliveCount - 2))
        return Suspicion(
            start: now, confirmations: from == name ? [] : [from], k: k, min: .nanoseconds(Int64(minT * 1e9)),
            max: .nanoseconds(Int64(maxT * 1e9)))
    }

    mutating func adjustHealth(_ delta: Int) {
        localHealth = min(settings.maxLocalHealth, max(0, localHealth + delta))
    }
}


/// The size a packet takes encoded (JSON), before sealing.
func encodedSize(_ p: Packet) -> Int { (try? GossipCodec.encoder.encode(p).count) ?? Int.max }
