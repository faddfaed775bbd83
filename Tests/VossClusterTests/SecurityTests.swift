import Crypto
import CryptoExtras
import Foundation
import Testing
import VossBase
import VossConfig

@testable import VossCluster

@Suite struct GossipCodecTests {
    let key = SymmetricKey(size: .bits256)
    let packet = Packet(
        from: "a", address: PeerAddress(host: "127.0.0.1", port: 7373), digest: "00ff", body: .ping(seq: 7, target: "b"),
        updates: [.config(key: "s3.domain", entry: entry("x", wall: 1, node: "a"))])

    @Test func aSealedPacketOpensWithTheSameKeyAndLabel() throws {
        let c = GossipCodec(clusterKey: key, label: "prod")
        let sealed = c.sealPacket(packet)
        #expect(try sealed.count == GossipCodec.encoder.encode(packet).count + GossipCodec.overhead)
        #expect(try c.openPacket(sealed) == packet)
        // The plaintext is not visible on the wire.
        #expect(!String(decoding: sealed, as: UTF8.self).contains("s3.domain"))
    }

    @Test func anotherKeyAnotherLabelOrAChangedByteIsRefused() throws {
        let c = GossipCodec(clusterKey: key, label: "prod")
        let sealed = c.sealPacket(packet)
        #expect(throws: GossipCodec.Failure.unauthenticated) { try GossipCodec(clusterKey: SymmetricKey(size: .bits256), label: "prod").openPacket(sealed) }
        #expect(throws: GossipCodec.Failure.unauthenticated) { try GossipCodec(clusterKey: key, label: "staging").openPacket(sealed) }
        for i in [0, 1, 13, sealed.count / 2, sealed.count - 1] {
            var t = sealed
            t[i] ^= 0x01
            #expect(throws: GossipCodec.Failure.unauthenticated) { try c.openPacket(t) }
        }
        #expect(throws: GossipCodec.Failure.unauthenticated) { try c.openPacket(Array(sealed.prefix(20))) }
        #expect(throws: GossipCodec.Failure.unauthenticated) { try c.openPacket([]) }
    }

    @Test func stateRoundTrips() throws {
        let c = GossipCodec(clusterKey: key, label: "prod")
        let s = FullState(
            from: "a", address: PeerAddress(host: "::1", port: 1), join: true,
            members: [MemberState(name: "a", address: PeerAddress(host: "::1", port: 1), incarnation: 3, status: .suspect)],
            config: ["k": entry("v", wall: 2, node: "a")])
        #expect(try c.openState(c.sealState(s)) == s)
        // A packet is not a state, even sealed with the right key.
        #expect(throws: (any Error).self) { try c.openState(c.sealPacket(packet)) }
    }
}

@Suite struct JoinTokenTests {
    @Test func aTokenRoundTripsAndIsURLSafe() throws {
        let key = SymmetricKey(size: .bits256)
        let t = JoinToken(label: "prod-1", key: key, seeds: [PeerAddress(host: "10.0.0.1", port: 7373), PeerAddress(host: "::1", port: 7946)])
        let s = t.encoded
        #expect(s.hasPrefix("voss1."))
        #expect(!s.contains("+") && !s.contains("/") && !s.contains("="))
        let back = try #require(JoinToken.decode("  " + s + "\n"))
        #expect(back == t)
        #expect(back.keyBytes == key.withUnsafeBytes { Array($0) })
    }

    @Test func garbageIsNotAToken() {
        let good = JoinToken(label: "prod", key: SymmetricKey(size: .bits256), seeds: []).encoded
        for bad in ["", "voss1.", "voss1.!!!", "voss2." + good.dropFirst(6), String(good.dropLast(8)), "hello"] {
            #expect(JoinToken.decode(bad) == nil, "\(bad)")
        }
        // A token with a short key or a bad label is refused too.
        let shortKey = JoinToken(label: "prod", key: SymmetricKey(size: .bits128), seeds: []).encoded
        #expect(JoinToken.decode(shortKey) == nil)
        let badLabel = JoinToken(label: "with space", key: SymmetricKey(size: .bits256), seeds: []).encoded
        #expect(JoinToken.decode(badLabel) == nil)
    }

    @Test func labels() {
        #expect(ClusterLabel.isValid("prod-eu_1.a"))
        #expect(!ClusterLabel.isValid(""))
        #expect(!ClusterLabel.isValid("a b"))
        #expect(!ClusterLabel.isValid("ünï"))
        #expect(!ClusterLabel.isValid(String(repeating: "a", count: 65)))
    }
}

@Suite struct ConfigArchiveTests {
    let contents = ConfigArchive.Contents(
        exportedBy: "node-1", exportedAt: Date(timeIntervalSince1970: 1_764_000_000),
        entries: ["s3.domain": entry("s3.example.com", wall: 5, node: "node-1"), "db.secret": ConfigEntry(value: "ENC:abc", stamp: HLC(wallMillis: 6, counter: 0, node: "node-1"), secret: true)])

    @Test func anArchiveOpensWithItsSecret() throws {
        let file = try ConfigArchive.seal(contents, secret: "Exp0rt!secret", logN: 10)
        #expect(String(decoding: file, as: UTF8.self).hasPrefix("VOSS-CONFIG-1\n"))
        #expect(!String(decoding: file, as: UTF8.self).contains("s3.example.com"))
        #expect(try ConfigArchive.open(file, secret: "Exp0rt!secret") == contents)
    }

    @Test func aWrongSecretOrAChangedByteIsRefused() throws {
        let file = try ConfigArchive.seal(contents, secret: "Exp0rt!secret", logN: 10)
        #expect(throws: ConfigArchive.Failure.wrongSecretOrTampered) { try ConfigArchive.open(file, secret: "Exp0rt!secreT") }
        // A byte of the sealed body.
        var t = file
        let i = t.count - 10
        t[i] = t[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: ConfigArchive.Failure.wrongSecretOrTampered) { try ConfigArchive.open(t, secret: "Exp0rt!secret") }
        // The header is authenticated too: a lowered work factor does not open.
        let text = String(decoding: file, as: UTF8.self).replacingOccurrences(of: "\"r\":8", with: "\"r\":9")
        #expect(throws: ConfigArchive.Failure.wrongSecretOrTampered) { try ConfigArchive.open(Array(text.utf8), secret: "Exp0rt!secret") }
        #expect(throws: ConfigArchive.Failure.notAnArchive) { try ConfigArchive.open(Array("{\"a\":1}".utf8), secret: "x") }
        let absurd = String(decoding: file, as: UTF8.self).replacingOccurrences(of: "\"logN\":10", with: "\"logN\":40")
        #expect(throws: ConfigArchive.Failure.unsupported("kdf parameters")) { try ConfigArchive.open(Array(absurd.utf8), secret: "Exp0rt!secret") }
    }

    @Test func theKDFIsScryptAsPublished() throws {
        // RFC 7914 §12, second vector: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64. (Our
        // archives use 32 bytes; the first 32 bytes of this vector check the same function.)
        let key = try KDF.Scrypt.deriveKey(
            from: Array("password".utf8), salt: Array("NaCl".utf8), outputByteCount: 64, rounds: 1024, blockSize: 8, parallelism: 16,
            maxMemory: 64 << 20)
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        #expect(hex.hasPrefix("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"))
    }
}
