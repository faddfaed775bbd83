import VossBase
import VossConfig

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The broadcast queue (piggy-backed updates, each sent a bounded number of times) and the choice of
/// members to probe and gossip to (a shuffled round-robin, random picks for indirect probes).
extension SwimNode {
    // MARK: dissemination

    mutating func enqueue(_ u: Update) {
        broadcastCounter += 1
        let cost = encodedSize(basePacket(.gossip, updates: [u])) - encodedSize(basePacket(.gossip)) + 1
        broadcasts[u.identity] = Broadcast(update: u, transmits: 0, order: broadcastCounter, cost: cost)
    }

    func basePacket(_ body: Packet.Body, updates: [Update] = []) -> Packet {
        Packet(from: name, address: address, digest: cachedDigest, body: body, updates: updates)
    }

    /// A packet with as many queued updates as fit (least-sent first), counting their transmissions.
    mutating func packet(_ body: Packet.Body, extra: [Update] = []) -> Packet {
        var p = basePacket(body, updates: extra)
        let limit = retransmitLimit
        let queued = broadcasts.values.sorted { ($0.transmits, $0.order) < ($1.transmits, $1.order) }
        let extraIDs = Set(extra.map(\.identity))
        var size = encodedSize(p)
        for b in queued {
            let id = b.update.identity
            if extraIDs.contains(id) {
                bump(id, limit: limit)
                continue
            }
            let cost = b.cost
            if size + cost > settings.maxPacketBytes {
                if cost > settings.maxPacketBytes / 2 { broadcasts[id] = nil }  // only push-pull can carry it
                continue
            }
            p.updates.append(b.update)
            size += cost
            bump(id, limit: limit)
        }
        return p
    }

    mutating func bump(_ id: String, limit: Int) {
        guard var b = broadcasts[id] else { return }
        b.transmits += 1
        broadcasts[id] = b.transmits >= max(1, limit) ? nil : b
    }

    // MARK: choosing members

    mutating func nextProbeTarget() -> Member? {
        for _ in 0..<2 {
            while !probeOrder.isEmpty {
                let n = probeOrder.removeLast()
                if let m = members[n], n != name, m.status == .alive || m.status == .suspect { return m }
            }
            // A new round: every reachable member once, in a fresh random order.
            var order = reachableMembers.map(\.name)
            order.shuffle(using: &rng)
            probeOrder = order
            if order.isEmpty { return nil }
        }
        return nil
    }

    mutating func randomMembers(count: Int, excluding: Set<String>, where pred: (Member) -> Bool) -> [Member] {
        var pool = reachableMembers.filter { !excluding.contains($0.name) && pred($0) }
        pool.shuffle(using: &rng)
        return Array(pool.prefix(count))
    }
}
