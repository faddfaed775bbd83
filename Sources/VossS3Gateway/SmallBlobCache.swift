import NIOCore
import Synchronization

/// The bytes of small local blobs, by blob id, for the synchronous GET path (FastPath.swift): a hit
/// saves the open, read and close of the blob's file (three of a small GET's seven system calls)
/// and sends the cached buffer itself, without a copy.
///
/// A blob's bytes never change once it is written — ids are random and never reused; an overwrite
/// or a move writes a new blob — so an entry needs no invalidation: the entry of a deleted blob is
/// never asked for again (no object refers to it) and ages out. First in, first out, bounded by
/// `capacity` bytes (`args.s3.small_cache_mib`, 0 turns it off).
final class SmallBlobCache: Sendable {
    private struct State {
        var capacity: Int
        var entries: [String: ByteBuffer] = [:]
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    /// Blobs larger than this are not kept.
    let maxEntry: Int
    private let state: Mutex<State>

    init(capacity: Int, maxEntry: Int = 64 << 10) {
        state = Mutex(State(capacity: max(0, capacity)))
        self.maxEntry = maxEntry
    }

    /// A new bound (a configuration change); entries beyond it go at once.
    func setCapacity(_ capacity: Int) {
        state.withLock { s in
            s.capacity = max(0, capacity)
            Self.evict(&s)
        }
    }

    func get(_ blob: String) -> ByteBuffer? {
        state.withLock { $0.capacity > 0 ? $0.entries[blob] : nil }
    }

    func put(_ blob: String, _ bytes: ByteBuffer) {
        let size = bytes.readableBytes
        guard size <= maxEntry else { return }
        state.withLock { s in
            guard size <= s.capacity, s.entries[blob] == nil else { return }
            s.entries[blob] = bytes
            s.order.append(blob)
            s.bytes += size
            Self.evict(&s)
        }
    }

    private static func evict(_ s: inout State) {
        while s.bytes > s.capacity, s.head < s.order.count {
            let old = s.order[s.head]
            s.head += 1
            if let b = s.entries.removeValue(forKey: old) { s.bytes -= b.readableBytes }
        }
        if s.entries.isEmpty {
            s.order.removeAll()
            s.head = 0
        }
        // Drop the evicted names once they are half of the list (amortised O(1)).
        if s.head > 1024 && s.head * 2 > s.order.count {
            s.order.removeFirst(s.head)
            s.head = 0
        }
    }

    var stats: (entries: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }
}
