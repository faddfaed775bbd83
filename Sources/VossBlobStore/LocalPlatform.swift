#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix
import Synchronization
import VossPosix

/// The embedded `local` platform: `LocalBlobStore`'s files, with the blocking calls run on the
/// gateway's I/O pool. Parts of a multipart upload are blobs of their own (`multipart` is nil).
public struct LocalPlatform: BlobPlatform {
    public let store: LocalBlobStore
    let io: NIOThreadPool

    public init(store: LocalBlobStore, io: NIOThreadPool) {
        self.store = store
        self.io = io
    }

    public var name: String { BlobID.local }
    public var multipart: (any BlobMultipart)? { nil }

    public func prepare(tenant: String) async throws {}

    public func newID(tenant: String) -> String { store.newID() }

    public func makeWriter(_ blob: String, length: Int64?) async throws -> any BlobSink {
        LocalSink(store: store, blob: blob, io: io)
    }

    public func openFile(_ blob: String) throws -> Int32? { try store.openForReading(blob) }

    public func read(_ blob: String, offset: Int64, count: Int64) async throws -> any BlobReader {
        let store = self.store
        let fd = try await io.runIfActive { try store.openForReading(blob) }
        return LocalReader(fd: fd, offset: offset, count: count, io: io)
    }

    /// Local copies go through the caller (it computes the checksums on the way).
    public func copy(_ source: String, offset: Int64, count: Int64, into target: String) async throws -> String? { nil }

    public func exists(_ blob: String) async throws -> Bool { store.exists(blob) }

    public func delete(_ blobs: [String]) async throws {
        let store = self.store
        try await io.runIfActive { for b in blobs { store.delete(b) } }
    }

    public func cleanTemporaryFiles(olderThan: Date) async -> Int { store.cleanTemporaryFiles(olderThan: olderThan) }
}

/// Writes a local blob on the I/O pool in pieces of at least `flushSize`: a small object is created,
/// written, fsynced and renamed into place in one trip off the event loop (at commit), instead of one
/// trip for each of those steps.
final class LocalSink: GatedBlobSink, @unchecked Sendable {  // one task at a time
    static let flushSize = 64 << 10
    let store: LocalBlobStore
    let blob: String
    let io: NIOThreadPool
    private var writer: BlobWriter?
    private var pending = ByteBuffer()
    private var gate: (@Sendable () throws -> Void)?

    func publishAfter(_ gate: @escaping @Sendable () throws -> Void) { self.gate = gate }

    init(store: LocalBlobStore, blob: String, io: NIOThreadPool) {
        self.store = store
        self.blob = blob
        self.io = io
    }

    func write(_ bytes: ByteBuffer) async throws {
        if pending.readableBytes == 0 && bytes.readableBytes >= Self.flushSize {
            return try await flush(bytes)
        }
        var bytes = bytes
        pending.writeBuffer(&bytes)
        if pending.readableBytes >= Self.flushSize {
            let data = pending
            pending = ByteBuffer()
            try await flush(data)
        }
    }

    func commit(md5: [UInt8]) async throws {
        try await commit(md5: md5) { (done: @escaping @Sendable (Result<Void, any Error>) -> Void) in done(.success(())) }
    }

    /// Creates the file on the first call; a failed call leaves `writer` as it was (`abort` or deinit
    /// removes the temporary file).
    private func flush(_ data: ByteBuffer) async throws {
        let (store, blob, existing) = (self.store, self.blob, self.writer)
        writer = try await io.runIfActive {
            let w = try existing ?? store.makeLocalWriter(blob)
            try data.withUnsafeReadableBytes { try w.write($0) }
            return w
        }
    }

    func commit<T: Sendable>(
        md5: [UInt8], then next: @escaping @Sendable (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void
    ) async throws -> T {
        let data = pending
        pending = ByteBuffer()
        let (store, blob, existing, gate) = (self.store, self.blob, self.writer, self.gate)
        let made = MadeWriter()
        defer { if let w = made.writer.withLock({ $0 }) { writer = w } }  // so `abort` can remove it
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            io.submit { state in
                guard case .active = state else { return c.resume(throwing: NIOThreadPoolError.ThreadPoolInactive()) }
                do {
                    let w = try existing ?? store.makeLocalWriter(blob)
                    made.writer.withLock { $0 = w }
                    try data.withUnsafeReadableBytes { try w.write($0) }
                    try w.commit(gate: gate)
                } catch {
                    return c.resume(throwing: error)
                }
                next { c.resume(with: $0) }
            }
        }
    }

    func abort() async {
        pending = ByteBuffer()
        writer?.abort()
    }

    final class MadeWriter: Sendable {
        let writer = Mutex<BlobWriter?>(nil)
    }
}

/// Reads a range of a local blob in pieces of up to 256 KiB on the I/O pool.
final class LocalReader: BlobReader, @unchecked Sendable {  // one task at a time
    let fd: Int32
    var offset: Int64
    var left: Int64
    let io: NIOThreadPool
    var closed = false

    init(fd: Int32, offset: Int64, count: Int64, io: NIOThreadPool) {
        self.fd = fd
        self.offset = offset
        self.left = count
        self.io = io
    }

    func next() async throws -> ByteBuffer? {
        guard left > 0, !closed else {
            cancel()
            return nil
        }
        let n = Int(min(256 << 10, left))
        let fd = self.fd, start = offset
        let buf: ByteBuffer = try await io.runIfActive {
            var b = ByteBuffer()
            b.reserveCapacity(n)
            let got = b.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { p in max(0, pread(fd, p.baseAddress!, n, off_t(start))) }
            if got < n { throw PosixError(EIO, "short read of a blob") }
            return b
        }
        offset += Int64(n)
        left -= Int64(n)
        return buf
    }

    func cancel() {
        if !closed {
            closed = true
            close(fd)
        }
    }

    deinit { if !closed { close(fd) } }
}
