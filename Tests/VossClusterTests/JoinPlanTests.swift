import Crypto
import Testing
import VossConfig

@testable import VossCluster

/// The decisions of `ose cluster join`, without a network.
@Suite struct JoinPlanTests {
    let me = PeerAddress(host: "10.0.0.1", port: 7946)
    let a = PeerAddress(host: "10.0.0.2", port: 7946)
    let b = PeerAddress(host: "10.0.0.3", port: 7946)

    @Test func seedsInOrderOnceAndNeverThisNode() {
        #expect(JoinPlan.seeds(explicit: b, token: [a, me, b, a], ownAddress: me) == [b, a])
        #expect(JoinPlan.seeds(explicit: nil, token: [me], ownAddress: me).isEmpty)
    }

    @Test func aMemberOfAnotherClusterMustLeaveFirst() {
        #expect(JoinPlan.refusal(sameCluster: false, label: "voss", reachableMembers: 2, seeds: [a]) == .alreadyMember(label: "voss", members: 2))
        #expect(JoinPlan.refusal(sameCluster: true, label: "voss", reachableMembers: 2, seeds: [a]) == nil)
        #expect(JoinPlan.refusal(sameCluster: false, label: "voss", reachableMembers: 0, seeds: [a]) == nil)
        #expect(JoinPlan.refusal(sameCluster: false, label: "voss", reachableMembers: 0, seeds: []) == .noSeed)
    }

    @Test func aNewMemberSendsNoConfiguration() {
        let cfg = ["args.x": ConfigEntry(value: "1", stamp: HLC(wallMillis: 1, counter: 0, node: "n"), secret: false)]
        #expect(JoinPlan.hello(name: "n", address: me, incarnation: 5, meta: nil, sameCluster: false, config: cfg).config.isEmpty)
        let again = JoinPlan.hello(name: "n", address: me, incarnation: 5, meta: ["s3": "443"], sameCluster: true, config: cfg)
        #expect(again.config == cfg && again.join && again.members.first?.incarnation == 5)
    }

    @Test func answersAreRefusedAcceptedOrOfAnotherKey() {
        let key = SymmetricKey(size: .bits256)
        let codec = GossipCodec(clusterKey: key, label: "voss")
        let other = GossipCodec(clusterKey: SymmetricKey(size: .bits256), label: "voss")
        let refusal: [UInt8] = [0] + Array("refused".utf8)
        let st = FullState(from: "s", address: a, join: false, members: [], config: [:])
        #expect(JoinPlan.answer(refusal, refusal: refusal, codec: codec) == .refused)
        #expect(JoinPlan.answer(codec.sealState(st), refusal: refusal, codec: codec) == .accepted(st))
        #expect(JoinPlan.answer(other.sealState(st), refusal: refusal, codec: codec) == .otherKey)
        #expect(JoinPlan.answer([1, 2, 3], refusal: refusal, codec: codec) == .otherKey)
    }

    @Test func aLiveNodeWithOurNameElsewhereIsAConflict() {
        let st = FullState(
            from: "s", address: a, join: false,
            members: [MemberState(name: "n", address: b, incarnation: 1, status: .alive)], config: [:])
        #expect(JoinPlan.nameTaken(in: st, name: "n", address: me))
        #expect(!JoinPlan.nameTaken(in: st, name: "n", address: b))
        #expect(!JoinPlan.nameTaken(in: st, name: "m", address: me))
    }
}
