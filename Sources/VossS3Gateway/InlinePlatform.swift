import NIOCore
import VossBase
import VossBlobStore
import VossS3Core
import VossS3Store

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Small objects' bytes in the metadata database (docs/decisions.md 50), as a platform: GET, ranges,
/// copies, the bucket mover and garbage collection read and delete these blobs like any other. A
/// PUT of a small object to a local bucket writes its bytes with its row, in one transaction
/// (`ObjectOps.commitAndRecord`); `makeWriter` is the general way, a blob stored on its own.
struct InlinePlatform: BlobPlatform {
    let store: any MetadataStore
    /// Blobs never change, so any store's may be kept: on PostgreSQL a GET of a hot small object
    /// costs the one statement that finds its row (`GatewayState.smallBlobs` is this cache).
    let cache: SmallBlobCache

    var name: String { BlobID.inline }
    var multipart: (any BlobMultipart)? { nil }

    func prepare(tenant: String) async throws {}

    func newID(tenant: String) -> String { BlobID.make(platform: BlobID.inline, tenant: "") }

    func makeWriter(_ blob: String, length: Int64?) async throws -> any BlobSink {
        InlineSink(blob: blob, store: store, limit: length.map { Int(clamping: $0) } ?? InlineSink.maxBytes)
    }

    func read(_ blob: String, offset: Int64, count: Int64) async throws -> any BlobReader {
        if let hit = cache.get(blob) { return InlineReader(bytes: hit, offset: offset, count: count) }
        guard let bytes = try await store.inlineBlob(blob) else { throw StoreError.notFound("blob \(blob)") }
        let whole = ByteBuffer(bytes: bytes)
        cache.put(blob, whole)
        return InlineReader(bytes: whole, offset: offset, count: count)
    }

    func openFile(_ blob: String) throws -> Int32? { nil }

    func copy(_ source: String, offset: Int64, count: Int64, into target: String) async throws -> String? { nil }

    func exists(_ blob: String) async throws -> Bool { try await store.inlineBlob(blob) != nil }

    func delete(_ blobs: [String]) async throws { try await store.deleteInlineBlobs(blobs) }

    func cleanTemporaryFiles(olderThan: Date) async -> Int { 0 }
}

/// A small object's bytes gathered in memory, at most `limit` (the length the request declared).
final class InlineSink: BlobSink, @unchecked Sendable {  // one task at a time
    /// The most an inline blob may hold, whatever the setting says.
    static let maxBytes = 256 << 10
    let blob: String
    let store: any MetadataStore
    let limit: Int
    private(set) var bytes: [UInt8] = []

    init(blob: String, store: any MetadataStore, limit: Int) {
        self.blob = blob
        self.store = store
        // Nothing reserved up front: memory follows the bytes that arrived, so connections that
        // declare a length and then send slowly hold no more than they sent.
        self.limit = min(max(limit, 0), Self.maxBytes)
    }

    func write(_ buffer: ByteBuffer) async throws {
        // The body reader holds a request to its declared length; this only guards the memory.
        guard buffer.readableBytes <= limit - bytes.count else { throw S3Error("IncompleteBody", message: "The body is longer than its declared length.") }
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    var inline: InlineBlob { InlineBlob(blob: blob, bytes: bytes) }

    func commit(md5: [UInt8]) async throws { try await store.putInlineBlob(inline) }

    func abort() async { bytes = [] }
}

/// A range of an inline blob.
final class InlineReader: BlobReader, @unchecked Sendable {  // one task at a time
    private var rest: ByteBuffer?

    init(bytes: ByteBuffer, offset: Int64, count: Int64) {
        let size = Int64(bytes.readableBytes)
        let start = Int(clamping: max(0, min(offset, size)))
        let end = Int(clamping: max(Int64(start), min(offset &+ max(count, 0), size)))
        rest = start < end ? bytes.getSlice(at: bytes.readerIndex + start, length: end - start) : nil
    }

    func next() async throws -> ByteBuffer? {
        defer { rest = nil }
        return rest
    }

    func cancel() { rest = nil }
}
