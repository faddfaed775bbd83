/// Length-prefixed frames for the keeper↔worker socketpair (DESIGN.md §2): a 4-byte big-endian length,
/// then that many bytes of UTF-8 JSON. Pure and incremental: feed any split of the byte stream.
public enum FrameCodec {
    /// No IPC message is anywhere near this; a larger length means a corrupt or hostile stream.
    public static let maxFrameSize = 16 * 1024 * 1024

    public static func encode(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= maxFrameSize, "IPC frame too large")
        let n = UInt32(payload.count)
        var out: [UInt8] = [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        out.reserveCapacity(4 + payload.count)
        out.append(contentsOf: payload)
        return out
    }
}

public struct FrameError: Error, Equatable, CustomStringConvertible {
    public let length: Int
    public var description: String { "IPC frame of \(length) bytes exceeds the limit of \(FrameCodec.maxFrameSize)" }
}

/// Accumulates bytes and yields complete frame payloads in order.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var pendingByteCount: Int { buffer.count - readIndex }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, `nil` when more bytes are needed.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        guard pendingByteCount >= 4 else { return nil }
        let b = buffer
        let i = readIndex
        let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        guard length <= FrameCodec.maxFrameSize else { throw FrameError(length: length) }
        guard pendingByteCount >= 4 + length else { return nil }
        let payload = Array(b[(i + 4)..<(i + 4 + length)])
        readIndex += 4 + length
        compactIfWorthwhile()
        return payload
    }

    private mutating func compactIfWorthwhile() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 64 * 1024 && readIndex > buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
