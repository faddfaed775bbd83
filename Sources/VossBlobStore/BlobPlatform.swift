#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where object bytes live (SPEC.md §1, "platform"), as the S3 service uses it: immutable blobs named
/// by id. Object metadata, listing and multipart bookkeeping stay in the `MetadataStore`; a multipart
/// upload's parts are blobs and completing it writes no bytes, and a copy reads one blob into a new
/// one. `LocalBlobStore` is the embedded platform; upstream object stores are the next ones
/// (docs/architecture.md).
///
/// Calls may block (disk, network): the gateway runs them on its I/O pool.
public protocol BlobPlatform: Sendable {
    /// A fresh, unique blob id.
    func newID() -> String
    /// put, streamed: bytes go in order to the sink, and `commit` makes them durable (after it returns
    /// the blob survives a crash); `abort` drops them.
    func makeWriter(_ blob: String) throws -> any BlobSink
    /// get with a range: an open descriptor the caller reads (or sendfiles) any range from, then closes.
    func openForReading(_ blob: String) throws -> Int32
    /// head: whether a committed blob exists.
    func exists(_ blob: String) -> Bool
    func delete(_ blob: String)
    /// After an unclean stop: drops puts that never committed (started before `olderThan`).
    func cleanTemporaryFiles(olderThan: Date) -> Int
}

/// One blob being written.
public protocol BlobSink: AnyObject, Sendable {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func commit() throws
    func abort()
}

extension LocalBlobStore: BlobPlatform {
    public func newID() -> String { Self.newID() }
    public func makeWriter(_ blob: String) throws -> any BlobSink { try makeLocalWriter(blob) }
}

extension BlobWriter: BlobSink {}
