import Testing
import VossBase

@testable import VossVIPCore

func ms(_ n: Int64) -> Instant { Instant(nanoseconds: n * 1_000_000) }

@Suite struct BackendTableTests {
    let a = Backend(name: "n1", host: "10.0.0.1", port: 443)
    let b = Backend(name: "n2", host: "10.0.0.2", port: 443)
    let c = Backend(name: "n3", host: "10.0.0.3", port: 443)

    @Test func picksTheLessLoadedOfTwo() {
        var t = BackendTable(seed: 1)
        t.update([a, b])
        for _ in 0..<5 { t.connected("n1") }
        // With two backends both are always the candidates: the idle one wins every time.
        for _ in 0..<20 { #expect(t.pick(now: .zero) == b) }
        t.connected("n2")
        t.closed("n1")
        t.closed("n1")
        t.closed("n1")
        t.closed("n1")
        #expect(t.entries["n1"]?.active == 1)
    }

    @Test func spreadsEvenlyUnderSteadyLoad() {
        var t = BackendTable(seed: 7)
        t.update([a, b, c])
        for _ in 0..<300 {
            let x = t.pick(now: .zero)!
            t.connected(x.name)
        }
        let counts = t.entries.values.map(\.active)
        // Random placement would typically be ~15 apart after 300; two choices keep them within a few.
        #expect(counts.max()! - counts.min()! <= 4, "\(counts)")
    }

    @Test func aRefusedConnectTakesABackendOutThenBack() {
        var t = BackendTable(seed: 3)
        t.update([a, b])
        t.connectFailed("n1", now: .zero)
        for _ in 0..<20 { #expect(t.pick(now: ms(500)) == b) }
        // The retry for the same client never picks what it already tried.
        #expect(t.pick(excluding: ["n2"], now: ms(500)) == a)  // cooling down, but the only one left
        #expect(t.pick(excluding: ["n1", "n2"], now: .zero) == nil)
        // After the cooldown it is back; a second failure doubles it.
        var seen = Set<String>()
        for _ in 0..<40 { seen.insert(t.pick(now: ms(1001))!.name) }
        #expect(seen == ["n1", "n2"])
        t.connectFailed("n1", now: ms(2000))
        #expect(t.entries["n1"]?.downUntil == ms(4000))
        t.connected("n1")
        #expect(t.entries["n1"]?.downUntil == nil)
    }

    @Test func anUpdateKeepsCountersOfBackendsStillListed() {
        var t = BackendTable(seed: 3)
        t.update([a, b])
        t.connected("n1")
        t.update([a, c])
        #expect(t.entries["n1"]?.active == 1)
        #expect(t.entries["n2"] == nil)
        #expect(t.backends == [a, c])
        #expect(t.pick(excluding: ["n1", "n3"], now: .zero) == nil)
    }

    @Test func anEmptyTableHasNothingToPick() {
        var t = BackendTable(seed: 1)
        #expect(t.pick(now: .zero) == nil)
    }
}

@Suite struct OwnershipTests {
    @Test func everyNodeComputesTheSameOwnerAndOnlyTheOwnersDeathMovesIt() {
        let members = ["n1", "n2", "n3", "n4", "n5"]
        let owner = VIPOwnership.owner(of: "10.0.0.100", among: members)!
        #expect(VIPOwnership.owner(of: "10.0.0.100", among: members.reversed()) == owner)
        // Another member leaving does not move it.
        for m in members where m != owner {
            #expect(VIPOwnership.owner(of: "10.0.0.100", among: members.filter { $0 != m }) == owner)
        }
        let next = VIPOwnership.owner(of: "10.0.0.100", among: members.filter { $0 != owner })!
        #expect(next != owner)
        #expect(VIPOwnership.owner(of: "10.0.0.100", among: []) == nil)
    }

    @Test func differentAddressesSpreadOverMembers() {
        let members = ["n1", "n2", "n3"]
        let owners = Set((1...30).map { VIPOwnership.owner(of: "10.0.0.\($0)", among: members)! })
        #expect(owners.count == 3)
    }
}

@Suite struct ProxyProtocolTests {
    @Test func aTCP4HeaderIsThePublishedLayout() {
        let h = ProxyProtocolV2.header(
            source: .init(ip: "192.0.2.10", port: 51000)!, destination: .init(ip: "198.51.100.1", port: 443)!)
        #expect(h.count == 28)
        #expect(Array(h[0..<12]) == ProxyProtocolV2.signature)
        #expect(h[12] == 0x21 && h[13] == 0x11 && h[14] == 0 && h[15] == 12)
        #expect(Array(h[16..<20]) == [192, 0, 2, 10])
        #expect(Array(h[20..<24]) == [198, 51, 100, 1])
        #expect(Array(h[24..<28]) == [0xC7, 0x38, 0x01, 0xBB])
        #expect(ProxyProtocolV2.parse(h + Array("GET / HTTP/1.1\r\n".utf8)) == .header(length: 28, source: .init(ip: "192.0.2.10", port: 51000)))
    }

    @Test func aTCP6HeaderRoundTrips() {
        let src = ProxyProtocolV2.Address(ip: "2001:db8::1", port: 1234)!
        let h = ProxyProtocolV2.header(source: src, destination: .init(ip: "::1", port: 443)!)
        #expect(h.count == 52)
        #expect(ProxyProtocolV2.parse(h) == .header(length: 52, source: src))
        #expect(src.text == "[2001:db8:0:0:0:0:0:1]:1234")
    }

    @Test func partialAbsentAndBadHeaders() {
        let h = ProxyProtocolV2.header(source: .init(ip: "10.0.0.1", port: 1)!, destination: .init(ip: "10.0.0.2", port: 2)!)
        for n in [0, 5, 12, 15, 20, 27] { #expect(ProxyProtocolV2.parse(Array(h.prefix(n))) == .needMore, "\(n)") }
        #expect(ProxyProtocolV2.parse(Array("GET / HTTP/1.1\r\n".utf8)) == .absent)
        #expect(ProxyProtocolV2.parse([0x16, 0x03, 0x01]) == .absent)  // a TLS ClientHello
        var v1 = h
        v1[12] = 0x11
        #expect(ProxyProtocolV2.parse(v1) == .invalid("version 1"))
        let local = ProxyProtocolV2.header(source: .init(ip: "10.0.0.1", port: 1)!, destination: .init(ip: "::1", port: 2)!)
        #expect(ProxyProtocolV2.parse(local) == .header(length: 16, source: nil))
    }

    @Test func addressesParse() {
        #expect(ProxyProtocolV2.Address(ip: "::ffff:192.0.2.1", port: 1) == .v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], port: 1))
        #expect(ProxyProtocolV2.Address(ip: "fe80::1%eth0", port: 1) != nil)
        for bad in ["", "1.2.3", "1.2.3.256", "1:2:3", "1::2::3", "::g", "12345::", "1.2.3.4.5", "1:2:3:4:5:6:7:8:9"] {
            #expect(ProxyProtocolV2.Address(ip: bad, port: 1) == nil, "\(bad)")
        }
    }
}
