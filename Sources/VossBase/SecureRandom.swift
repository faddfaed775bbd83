import Glibc

/// Random bytes from the kernel in one `getrandom(2)` call per 256: `UInt8.random(using:)` with
/// `SystemRandomNumberGenerator` makes one system call per byte (16 for a blob id, on every PUT).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    /// Fills `buffer` (getentropy(3): `getrandom` in pieces of up to 256 bytes); falls back to the
    /// standard generator if the call fails, which it does not on Linux 3.17 and later.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = min(256, buffer.count - done)
            guard getentropy(base + done, n) == 0 else {
                var rng = SystemRandomNumberGenerator()
                for i in done..<buffer.count { buffer[i] = UInt8.random(in: 0...255, using: &rng) }
                return
            }
            done += n
        }
    }

    /// `count` random bytes as lowercase hex.
    public static func hex(_ count: Int) -> String { Percent.hex(bytes(count)) }
}
