#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import VossBase

/// Where object bytes live (SPEC.md §1, "platform"), as the S3 service uses it: immutable blobs named
/// by id. Object metadata, listing and multipart bookkeeping stay in the `MetadataStore`
/// (docs/decisions.md 37). A blob id names its platform: `local` ids are bare hex, an upstream's are
/// `PLATFORM:TENANT:HEX` (`BlobID`), so garbage collection, reads and migration find a blob's platform
/// without asking the bucket.
///
/// `LocalPlatform` keeps bytes in files under the data directory; `S3UpstreamPlatform` (VossUpstream)
/// in any S3-compatible object store.
public protocol BlobPlatform: Sendable {
    var name: String { get }
    /// Readies the platform for a tenant's first bucket on it (an upstream makes the tenant's account).
    func prepare(tenant: String) async throws
    /// A fresh, unique blob id for an object of `tenant`.
    func newID(tenant: String) -> String
    /// put, streamed: exactly `length` bytes (nil: not known in advance) go in order to the sink, and
    /// `commit` makes them durable (after it returns the blob survives a crash); `abort` drops them.
    func makeWriter(_ blob: String, length: Int64?) async throws -> any BlobSink
    /// get with a range, streamed. Returns once the platform agreed to send (errors come before any byte).
    func read(_ blob: String, offset: Int64, count: Int64) async throws -> any BlobReader
    /// A descriptor to read (or sendfile) the blob from, on platforms whose blobs are local files;
    /// `nil` on the others. The caller closes it.
    func openFile(_ blob: String) throws -> Int32?
    /// Server-side copy of `count` bytes from `offset` of `source` (a blob of this platform) into
    /// the new blob `target`, returning the new blob's MD5 (hex); `nil` when the platform cannot copy
    /// this one itself (the caller then streams the bytes through).
    func copy(_ source: String, offset: Int64, count: Int64, into target: String) async throws -> String?
    /// head: whether a committed blob exists.
    func exists(_ blob: String) async throws -> Bool
    /// Deletes blobs (missing ones are fine). Failures are logged and left for a later sweep.
    func delete(_ blobs: [String]) async throws
    /// After an unclean stop: drops puts that never committed (started before `olderThan`).
    func cleanTemporaryFiles(olderThan: Date) async -> Int
    /// Platforms that assemble multipart uploads themselves (an upstream's own multipart upload);
    /// `nil`: each part is a blob and the object is their sequence.
    var multipart: (any BlobMultipart)? { get }
}

/// A platform's own multipart uploads. A VOSS upload on such a platform has one final blob and one
/// platform upload (`handle`); each part's record names `BlobID.partReference(blob, handle)`, which
/// `delete` understands as "abort that upload" (with an empty handle: every upload of that blob — what
/// a crash between starting an upload and recording it leaves).
public protocol BlobMultipart: Sendable {
    /// Starts the platform's upload that will become `blob`; returns its handle.
    func start(_ blob: String) async throws -> String
    /// Writes one part (`commit(md5:)` checks it); the part's ETag is the hex MD5.
    func partWriter(_ blob: String, handle: String, part: Int, length: Int64?) async throws -> any BlobSink
    /// Server-side UploadPartCopy of a range of `source`; `nil` when not possible here.
    func copyPart(_ blob: String, handle: String, part: Int, from source: String, offset: Int64, count: Int64) async throws -> String?
    /// Assembles the upload into `blob`; `parts` are the ones the object is made of, `(number, hex
    /// MD5)` in order. Returns where each of them starts in the blob (a platform may assemble more
    /// parts than those: the ones it holds that the client left out).
    func complete(_ blob: String, handle: String, parts: [(Int, String)]) async throws -> [Int: Int64]
}

/// One blob being written.
public protocol BlobSink: AnyObject, Sendable {
    func write(_ bytes: ByteBuffer) async throws
    /// Makes the blob durable. `md5` is what the caller computed from the bytes it wrote; a platform
    /// that learns its own (an upstream's ETag) refuses the blob when they differ.
    func commit(md5: [UInt8]) async throws
    func abort() async
}

/// A sink that can hold its blob back until something else is durable (the local platform: the blob
/// is renamed into place only after `gate` returns, on the I/O thread that commits it).
public protocol GatedBlobSink: BlobSink {
    func publishAfter(_ gate: @escaping @Sendable () throws -> Void)
    /// `commit`, then `next` called on the I/O thread that made the blob durable, without a return to
    /// the caller's thread in between: `next` starts what follows (the object's metadata write) and
    /// reports its outcome, which this returns. A PUT then leaves its event loop once, not twice.
    func commit<T: Sendable>(
        md5: [UInt8], then next: @escaping @Sendable (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void
    ) async throws -> T
}

/// One blob being read.
public protocol BlobReader: AnyObject, Sendable {
    /// The next bytes; `nil` at the end of the range.
    func next() async throws -> ByteBuffer?
    /// Stops early (the connection it reads from is not reused).
    func cancel()
}

/// The platform could not take the request now (an upstream that is down): the S3 answer is 503
/// with `Retry-After`.
public struct PlatformUnavailable: Error, Sendable, CustomStringConvertible {
    public var platform: String
    public var reason: String

    public init(platform: String, reason: String) {
        self.platform = platform
        self.reason = reason
    }

    public var description: String { "storage platform '\(platform)' is unavailable: \(reason)" }
}

/// Blob ids: `HEX` (local) or `PLATFORM:TENANT:HEX`; part references `BLOB#HANDLE`.
public enum BlobID {
    public static let local = "local"
    /// Small objects' bytes kept in the metadata database beside their row (docs/decisions.md 50):
    /// ids `local.db::HEX`. No configured platform can have this name (names have no dot).
    public static let inline = "local.db"

    /// The platform a blob (or part reference) lives on.
    public static func platform(of blob: String) -> String {
        // Bytes, not Characters: this runs for every piece of every GET (a Character search of a
        // 40-byte id costs more than the rest of the lookup).
        guard let colon = blob.utf8.firstIndex(of: UInt8(ascii: ":")) else { return local }
        return String(blob[..<colon])
    }

    /// The platform of the buckets whose blob this can be: an inline blob belongs to `local`.
    public static func home(of blob: String) -> String {
        let p = platform(of: blob)
        return p == inline ? local : p
    }

    /// The tenant part of an upstream blob id.
    public static func tenant(of blob: String) -> String? {
        let parts = blob.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return String(parts[1])
    }

    /// The last part of the id (what names the blob within its platform).
    public static func leaf(of blob: String) -> String {
        String(blob.split(separator: ":", omittingEmptySubsequences: false).last ?? "")
    }

    public static func hex() -> String { SecureRandom.hex(16) }

    public static func make(platform: String, tenant: String) -> String {
        platform == local ? hex() : "\(platform):\(tenant):\(hex())"
    }

    /// What a part of a platform-assembled upload records as its blob.
    public static func partReference(_ blob: String, handle: String) -> String { "\(blob)#\(handle)" }

    /// `(blob, handle)` of a part reference; nil for a plain blob id.
    public static func splitPartReference(_ s: String) -> (blob: String, handle: String)? {
        guard let hash = s.firstIndex(of: "#") else { return nil }
        return (String(s[..<hash]), String(s[s.index(after: hash)...]))
    }
}
