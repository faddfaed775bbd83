import Foundation
import Testing

@testable import VossChecksums

@Suite struct CRCTests {
    let check = Array("123456789".utf8)

    @Test func checkValues_matchTheCatalogue() {
        #expect(CRCs.crc32.checksum(check) == 0xCBF4_3926)
        #expect(CRCs.crc32c.checksum(check) == 0xE306_9283)
        #expect(CRCs.crc64nvme.checksum(check) == 0xAE8B_1486_0A79_9888)
    }

    @Test func slicingAndBytewise_agreeForEveryLengthAndSplit() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for n in [0, 1, 7, 8, 9, 63, 64, 65, 999] {
            let whole = CRCs.crc32c.checksum(data[0..<n])
            for split in [0, n / 3, n / 2, n] {
                var c = CRCs.crc32c.initial
                data[0..<split].withUnsafeBytes { c = CRCs.crc32c.update(c, $0) }
                data[split..<n].withUnsafeBytes { c = CRCs.crc32c.update(c, $0) }
                #expect(~c == whole)
            }
        }
    }

    /// The carry-less folding (64 bytes and more) against the tables alone, for all three CRCs: every
    /// length around the 16- and 64-byte steps up to 4 KiB, odd alignments, any starting register.
    @Test func foldingAndTables_agreeForEveryLengthAlignmentAndRegister() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let data = (0..<(5000 + 7)).map { _ in UInt8(truncatingIfNeeded: next()) }
        let lengths = Array(0...200) + [255, 256, 257, 511, 1000, 1023, 1024, 4095, 4096, 4097, 5000]
        data.withUnsafeBytes { all in
            for n in lengths {
                for offset in [0, 1, 7] {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])
                    let r = next()
                    for start in [UInt64.max, 0, r] {
                        #expect(CRCs.crc64nvme.update(start, bytes) == CRCs.crc64nvme.tableUpdate(start, bytes), "crc64 n=\(n)")
                        let s32 = UInt32(truncatingIfNeeded: start)
                        #expect(CRCs.crc32.update(s32, bytes) == CRCs.crc32.tableUpdate(s32, bytes), "crc32 n=\(n)")
                        #expect(CRCs.crc32c.update(s32, bytes) == CRCs.crc32c.tableUpdate(s32, bytes), "crc32c n=\(n)")
                    }
                }
            }
        }
        // A body arrives in any pieces: split once at every boundary of 300 bytes (folded pieces next
        // to table-driven ones), and byte by byte, the CRC is the one of the whole.
        let body = Array(data[0..<300])
        let whole = CRCs.crc64nvme.checksum(body)
        body.withUnsafeBytes { b in
            for cut in 0...b.count {
                var c = CRCs.crc64nvme.initial
                c = CRCs.crc64nvme.update(c, UnsafeRawBufferPointer(rebasing: b[..<cut]))
                c = CRCs.crc64nvme.update(c, UnsafeRawBufferPointer(rebasing: b[cut...]))
                #expect(~c == whole, "cut at \(cut)")
            }
            var c = CRCs.crc64nvme.initial
            for i in 0..<b.count { c = CRCs.crc64nvme.update(c, UnsafeRawBufferPointer(rebasing: b[i..<(i + 1)])) }
            #expect(~c == whole)
        }
        // A long input against another implementation: zlib.crc32(b"a" * 1_000_000) is 0xDC25BFBC.
        #expect(CRCs.crc32.checksum([UInt8](repeating: 0x61, count: 1_000_000)) == 0xDC25_BFBC)
    }

    @Test func combine_givesTheCRCOfTheConcatenation() {
        let a = Array("The quick brown fox ".utf8), b = Array("jumps over the lazy dog".utf8)
        #expect(CRCs.crc32.combine(CRCs.crc32.checksum(a), CRCs.crc32.checksum(b), lengthB: UInt64(b.count))
            == CRCs.crc32.checksum(a + b))
        #expect(CRCs.crc32c.combine(CRCs.crc32c.checksum(a), CRCs.crc32c.checksum(b), lengthB: UInt64(b.count))
            == CRCs.crc32c.checksum(a + b))
        #expect(CRCs.crc64nvme.combine(CRCs.crc64nvme.checksum(a), CRCs.crc64nvme.checksum(b), lengthB: UInt64(b.count))
            == CRCs.crc64nvme.checksum(a + b))
        let big = [UInt8](repeating: 0x61, count: 100_000)
        #expect(CRCs.crc32.combine(CRCs.crc32.checksum(a), CRCs.crc32.checksum(big), lengthB: 100_000)
            == CRCs.crc32.checksum(a + big))
    }
}

@Suite struct S3ChecksumTests {
    @Test func wireForm_isBase64OfTheBigEndianDigest() {
        var c = RunningChecksum(.crc32)
        c.update(Array("123456789".utf8))
        #expect(c.finish() == [0xCB, 0xF4, 0x39, 0x26])
        #expect(c.finishBase64() == "y/Q5Jg==")
        var s = RunningChecksum(.sha256)
        s.update(Array("abc".utf8))
        #expect(s.finishBase64() == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        var e = RunningChecksum(.sha1)
        e.update(Array("abc".utf8))
        #expect(e.finishBase64() == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
    }

    @Test func crc32c_ofTheAWSTrailerExample() {
        var c = RunningChecksum(.crc32c)
        c.update([UInt8](repeating: 0x61, count: 66560))
        #expect(c.finishBase64() == "sOO8/Q==")
    }

    @Test func headerNames_andDecoding() {
        #expect(ChecksumAlgorithm(headerName: "X-Amz-Checksum-CRC64NVME") == .crc64nvme)
        #expect(ChecksumAlgorithm.crc32.decode("y/Q5Jg==") == [0xCB, 0xF4, 0x39, 0x26])
        #expect(ChecksumAlgorithm.crc32.decode("not base64!") == nil)
        #expect(ChecksumAlgorithm.crc32.decode("AAAAAAAA") == nil, "wrong length")
    }

    @Test func multipart_fullObjectAndComposite() {
        let p1 = [UInt8](repeating: 1, count: 5000), p2 = [UInt8](repeating: 2, count: 3000)
        func digest(_ a: ChecksumAlgorithm, _ d: [UInt8]) -> [UInt8] {
            var c = RunningChecksum(a)
            c.update(d)
            return c.finish()
        }
        for a in [ChecksumAlgorithm.crc32, .crc32c, .crc64nvme] {
            let full = MultipartChecksum.fullObject(a, parts: [(digest(a, p1), 5000), (digest(a, p2), 3000)])
            #expect(full == digest(a, p1 + p2))
        }
        #expect(MultipartChecksum.fullObject(.sha256, parts: [([0], 1)]) == nil)
        let comp = MultipartChecksum.composite(.crc32, partDigests: [digest(.crc32, p1), digest(.crc32, p2)])
        #expect(comp.hasSuffix("-2"))
        #expect(comp.dropLast(2) == Data(digest(.crc32, digest(.crc32, p1) + digest(.crc32, p2))).base64EncodedString())
    }
}
