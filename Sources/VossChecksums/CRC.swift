import CVossCRC

/// Reflected CRCs with all-ones init and final XOR, as S3's additional checksums use them:
/// CRC-32 (IEEE, zlib), CRC-32C (Castagnoli) and CRC-64/NVME. Incremental: 64 bytes and more are
/// folded with carry-less multiplication where the CPU has it (CVossCRC, ~0.2 cycles a byte), the
/// rest slicing-by-8 (~4 instructions a byte).
/// Check values for "123456789": CRC-32 0xCBF43926, CRC-32C 0xE3069283, CRC-64/NVME 0xAE8B14860A799888.
public final class CRCSpec<Word: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// The reflected polynomial (bit W-1 stands for x^0).
    public let poly: Word
    /// 8 tables of 256 entries, flat: table k at [k*256 ..< (k+1)*256].
    let table: [Word]
    /// x^(2^k) mod P for k = 0..<64, for `combine`.
    let powers: [Word]
    /// x^n mod P for n = 4·128+63, 4·128-1, 128+63, 128-1, bit-reflected into 64 bits (`voss_crc_fold`).
    let foldConstants: [UInt64]

    public init(poly: Word) {
        self.poly = poly
        var t = [Word](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = Word(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ poly : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        table = t
        var powers: [Word] = []
        var p: Word = 1 << (Word.bitWidth - 2)  // x^1
        for _ in 0..<64 {
            powers.append(p)
            p = Self.multiply(p, p, poly: poly)
        }
        self.powers = powers
        foldConstants = [4 * 128 + 63, 4 * 128 - 1, 128 + 63, 128 - 1].map { Self.foldConstant(x: $0, poly: poly) }
    }

    /// x^n mod P, bit-reflected into 64 bits (bit j stands for x^(63-j)).
    static func foldConstant(x n: Int, poly: Word) -> UInt64 {
        let w = Word.bitWidth
        var normal: UInt64 = 0  // P without its x^w term, bit i for x^i
        for i in 0..<w where (UInt64(poly) >> i) & 1 != 0 { normal |= 1 << (w - 1 - i) }
        var r: UInt64 = 1  // x^0
        for _ in 0..<n {
            let carry = (r >> (w - 1)) & 1 != 0
            r = w == 64 ? r << 1 : (r << 1) & ((1 << w) - 1)
            if carry { r ^= normal }
        }
        var reflected: UInt64 = 0
        for i in 0..<w where (r >> i) & 1 != 0 { reflected |= 1 << (63 - i) }
        return reflected
    }

    /// a·b mod P in the reflected representation.
    static func multiply(_ a: Word, _ b: Word, poly: Word) -> Word {
        var result: Word = 0
        var a = a
        var b = b
        var m: Word = 1 << (Word.bitWidth - 1)
        while a != 0 && m != 0 {
            if a & m != 0 {
                result ^= b
                a ^= m
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ poly : b >> 1
        }
        return result
    }

    /// The register value before any data (all ones).
    public var initial: Word { ~0 }

    /// Folds `bytes` into the register `crc` (start with `initial`; finish with `~`).
    public func update(_ crc: Word, _ bytes: UnsafeRawBufferPointer) -> Word {
        guard bytes.count >= 64, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return tableUpdate(crc, bytes) }
        var state: (UInt64, UInt64) = (0, 0)
        let used = withUnsafeMutableBytes(of: &state) { s in
            foldConstants.withUnsafeBufferPointer { k in
                voss_crc_fold(UInt64(crc), base, bytes.count, k.baseAddress, s.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard used > 0 else { return tableUpdate(crc, bytes) }
        let folded = withUnsafeBytes(of: &state) { tableUpdate(0, $0) }
        return tableUpdate(folded, UnsafeRawBufferPointer(rebasing: bytes[used...]))
    }

    /// `update` a byte at a time through the tables, eight bytes a step.
    func tableUpdate(_ crc: Word, _ bytes: UnsafeRawBufferPointer) -> Word {
        var c = crc
        let n = bytes.count
        var i = 0
        table.withUnsafeBufferPointer { t in
            while n - i >= 8 {
                let x = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian ^ UInt64(truncatingIfNeeded: c)
                let b0 = Int(truncatingIfNeeded: x & 0xFF), b1 = Int(truncatingIfNeeded: (x >> 8) & 0xFF)
                let b2 = Int(truncatingIfNeeded: (x >> 16) & 0xFF), b3 = Int(truncatingIfNeeded: (x >> 24) & 0xFF)
                let b4 = Int(truncatingIfNeeded: (x >> 32) & 0xFF), b5 = Int(truncatingIfNeeded: (x >> 40) & 0xFF)
                let b6 = Int(truncatingIfNeeded: (x >> 48) & 0xFF), b7 = Int(truncatingIfNeeded: x >> 56)
                var r: Word = t[1792 + b0]
                r ^= t[1536 + b1]
                r ^= t[1280 + b2]
                r ^= t[1024 + b3]
                r ^= t[768 + b4]
                r ^= t[512 + b5]
                r ^= t[256 + b6]
                r ^= t[b7]
                c = r
                i += 8
            }
            while i < n {
                c = (c >> 8) ^ t[Int((c ^ Word(bytes[i])) & 0xFF)]
                i += 1
            }
        }
        return c
    }

    public func checksum(_ bytes: some Sequence<UInt8>) -> Word {
        let a = Array(bytes)
        return ~a.withUnsafeBytes { update(initial, $0) }
    }

    /// The CRC of `A‖B` from the finished crc(A), crc(B) and the length of B in bytes.
    public func combine(_ crcA: Word, _ crcB: Word, lengthB: UInt64) -> Word {
        guard lengthB > 0 else { return crcA }
        var n = lengthB
        var k = 3  // 8 bits a byte: x^(8n) = (x^(2^3))^n
        var xn: Word = 1 << (Word.bitWidth - 1)  // x^0
        while n > 0 {
            if n & 1 != 0 { xn = Self.multiply(powers[k & 63], xn, poly: poly) }
            n >>= 1
            k += 1
        }
        return Self.multiply(xn, crcA, poly: poly) ^ crcB
    }
}

public enum CRCs {
    public static let crc32 = CRCSpec<UInt32>(poly: 0xEDB8_8320)
    public static let crc32c = CRCSpec<UInt32>(poly: 0x82F6_3B78)
    public static let crc64nvme = CRCSpec<UInt64>(poly: 0x9A6C_9329_AC4B_C9B5)
}
