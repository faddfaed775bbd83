import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import VossBase
import VossBlobStore
import VossS3Store
import VossSigV4

/// How an upstream's space is divided between tenants.
public enum UpstreamTenancy: Sendable, Equatable {
    /// One bucket for every tenant, with VOSS's credentials; blobs under `TENANT/`.
    case shared(bucket: String)
    /// A user, keys and bucket per tenant, made through the upstream's admin API.
    case provisioned
}

/// A platform in an S3-compatible object store (Ceph RGW, MinIO, HyperStore's or ECS's S3 service).
/// Each blob is one upstream object; bodies stream through with their length (`UNSIGNED-PAYLOAD`,
/// the final piece held back until VOSS has verified the whole body, so an upload VOSS refuses never
/// completes upstream) and the upstream's ETag is checked against VOSS's MD5. Multipart uploads are
/// the upstream's own; copies run on the upstream when source and target share an account.
public final class S3UpstreamPlatform: BlobPlatform, BlobMultipart {
    public let name: String
    public let s3: UpstreamS3
    let credentials: UpstreamCredentials
    let tenancy: UpstreamTenancy
    let provisioner: (any TenantProvisioner)?
    let store: any MetadataStore
    let accounts = Mutex<[String: PlatformAccount]>([:])
    let sharedBucketReady = Mutex(false)

    public init(
        name: String, s3: UpstreamS3, credentials: UpstreamCredentials, tenancy: UpstreamTenancy, provisioner: (any TenantProvisioner)?,
        store: any MetadataStore
    ) {
        self.name = name
        self.s3 = s3
        self.credentials = credentials
        self.tenancy = tenancy
        self.provisioner = provisioner
        self.store = store
    }

    public var multipart: (any BlobMultipart)? { self }

    public func newID(tenant: String) -> String { BlobID.make(platform: name, tenant: tenant) }

    // MARK: tenants

    /// The tenant's upstream account, made on first use (`create`) through the provisioner.
    func account(_ tenant: String, create: Bool) async throws -> PlatformAccount {
        if let a = accounts.withLock({ $0[tenant] }) { return a }
        let account: PlatformAccount
        switch tenancy {
        case .shared(let bucket):
            account = PlatformAccount(
                platform: name, tenantID: tenant, accessKey: credentials.accessKey, secret: credentials.secret, bucket: bucket)
        case .provisioned:
            if let saved = try await store.platformAccount(platform: name, tenantID: tenant) {
                account = saved
            } else {
                guard create, let provisioner else {
                    throw UpstreamError.protocolError("no account on platform '\(name)' for tenant \(tenant)")
                }
                let made = try await unavailableIfDown { try await provisioner.provision(platform: name, tenantID: tenant) }
                account = try await store.savePlatformAccount(made)
            }
        }
        accounts.withLock { $0[tenant] = account }
        return account
    }

    /// Makes the tenant's upstream account and bucket now (a bucket is being created on this platform).
    public func prepare(tenant: String) async throws {
        let a = try await account(tenant, create: true)
        if case .shared = tenancy, !sharedBucketReady.withLock({ $0 }) {
            try await unavailableIfDown {
                let creds = UpstreamCredentials(accessKey: a.accessKey, secret: a.secret)
                if try await !s3.headBucket(a.bucket, credentials: creds) { try await s3.createBucket(a.bucket, credentials: creds) }
            }
            sharedBucketReady.withLock { $0 = true }
        }
    }

    /// Upstream bucket, key and credentials of a blob.
    func location(_ blob: String, create: Bool = false) async throws -> (bucket: String, key: String, creds: UpstreamCredentials) {
        guard BlobID.platform(of: blob) == name, let tenant = BlobID.tenant(of: blob) else {
            throw UpstreamError.protocolError("blob \(blob) is not on platform '\(name)'")
        }
        let a = try await account(tenant, create: create)
        let leaf = BlobID.leaf(of: blob)
        let key: String
        switch tenancy {
        case .shared: key = "\(tenant)/\(leaf)"
        case .provisioned: key = leaf
        }
        return (a.bucket, key, UpstreamCredentials(accessKey: a.accessKey, secret: a.secret))
    }

    /// Runs an upstream call; an unreachable upstream becomes `PlatformUnavailable` (503 for clients).
    func unavailableIfDown<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let e as UpstreamError where e.isUnavailable {
            throw PlatformUnavailable(platform: name, reason: e.description)
        }
    }

    // MARK: BlobPlatform

    public func makeWriter(_ blob: String, length: Int64?) async throws -> any BlobSink {
        guard let length else { throw PlatformNeedsLength() }
        return try await unavailableIfDown {
            let loc = try await location(blob, create: true)
            let ex = try await s3.startPut(loc.bucket, loc.key, length: length, credentials: loc.creds)
            return UpstreamSink(exchange: ex, length: length, platform: name)
        }
    }

    public func read(_ blob: String, offset: Int64, count: Int64) async throws -> any BlobReader {
        try await unavailableIfDown {
            let loc = try await location(blob)
            if count == 0 { return EmptyReader() }
            // Most reads are of a whole blob: asked for without a Range (cheaper for the upstream), and
            // asked again with one if the blob turns out to be longer.
            if offset == 0 {
                let ex = try await s3.get(loc.bucket, loc.key, range: nil, credentials: loc.creds)
                if let head = try? await ex.response(), head.headers.first(name: "content-length").flatMap({ ASCIIDecimal.int64($0) }) == count {
                    return UpstreamReader(exchange: ex, count: count, platform: name)
                }
                ex.cancel()
            }
            let ex = try await s3.get(loc.bucket, loc.key, range: offset...(offset + count - 1), credentials: loc.creds)
            return UpstreamReader(exchange: ex, count: count, platform: name)
        }
    }

    public func openFile(_ blob: String) throws -> Int32? { nil }

    public func copy(_ source: String, offset: Int64, count: Int64, into target: String) async throws -> String? {
        let src = try await location(source)
        let dst = try await location(target, create: true)
        // The upstream copies only within what one set of keys may read, and only whole objects.
        guard src.creds == dst.creds, offset == 0, let size = try await unavailableIfDown({ try await s3.head(src.bucket, src.key, credentials: src.creds) }),
            size == count
        else { return nil }
        return try await unavailableIfDown { try await s3.copy(from: (src.bucket, src.key), to: (dst.bucket, dst.key), credentials: dst.creds) }
    }

    public func exists(_ blob: String) async throws -> Bool {
        try await unavailableIfDown {
            let loc = try await location(blob)
            return try await s3.head(loc.bucket, loc.key, credentials: loc.creds) != nil
        }
    }

    public func delete(_ blobs: [String]) async throws {
        for b in blobs {
            if let (blob, handle) = BlobID.splitPartReference(b) {
                // A part reference: the platform upload goes (the blob it became, if completed, stays).
                let loc = try await location(blob)
                let handles = handle.isEmpty
                    ? try await unavailableIfDown { try await s3.uploads(loc.bucket, key: loc.key, credentials: loc.creds) } : [handle]
                for h in handles {
                    try await unavailableIfDown { try await s3.abortMultipart(loc.bucket, loc.key, uploadID: h, credentials: loc.creds) }
                }
            } else {
                let loc = try await location(b)
                try await unavailableIfDown { try await s3.delete(loc.bucket, loc.key, credentials: loc.creds) }
            }
        }
    }

    /// Nothing is staged locally: an upload that never completed is not an object upstream.
    public func cleanTemporaryFiles(olderThan: Date) async -> Int { 0 }

    // MARK: BlobMultipart

    public func start(_ blob: String) async throws -> String {
        try await unavailableIfDown {
            let loc = try await location(blob, create: true)
            return try await s3.createMultipart(loc.bucket, loc.key, credentials: loc.creds)
        }
    }

    public func partWriter(_ blob: String, handle: String, part: Int, length: Int64?) async throws -> any BlobSink {
        guard let length else { throw PlatformNeedsLength() }
        return try await unavailableIfDown {
            let loc = try await location(blob)
            let ex = try await s3.startUploadPart(loc.bucket, loc.key, uploadID: handle, part: part, length: length, credentials: loc.creds)
            return UpstreamSink(exchange: ex, length: length, platform: name)
        }
    }

    public func copyPart(_ blob: String, handle: String, part: Int, from source: String, offset: Int64, count: Int64) async throws -> String? {
        let src = try await location(source)
        let dst = try await location(blob)
        guard src.creds == dst.creds, count > 0 else { return nil }
        return try await unavailableIfDown {
            try await s3.uploadPartCopy(
                dst.bucket, dst.key, uploadID: handle, part: part, from: (src.bucket, src.key), range: offset...(offset + count - 1),
                credentials: dst.creds)
        }
    }

    /// Completes with every part the upstream holds (Ceph RGW refuses a completion that leaves one
    /// out, and a crash may have left a part VOSS never recorded); the object's parts must be among
    /// them with the same ETag.
    public func complete(_ blob: String, handle: String, parts: [(Int, String)]) async throws -> [Int: Int64] {
        let loc = try await location(blob)
        let held: [(number: Int, etag: String, size: Int64)]
        do {
            held = try await unavailableIfDown { try await s3.listParts(loc.bucket, loc.key, uploadID: handle, credentials: loc.creds) }
        } catch UpstreamError.status(404, let code, _) where code == "NoSuchUpload" {
            // A retried completion whose first attempt completed upstream: the object is there.
            guard let size = try await s3.head(loc.bucket, loc.key, credentials: loc.creds) else { throw UpstreamError.status(404, code: code, message: "") }
            _ = size
            throw AlreadyCompleted()
        }
        var offsets: [Int: Int64] = [:]
        var etags: [Int: String] = [:]
        var offset: Int64 = 0
        for p in held {
            offsets[p.number] = offset
            etags[p.number] = p.etag
            offset += p.size
        }
        for (n, etag) in parts where etags[n] != etag {
            throw UpstreamError.status(400, code: "InvalidPart", message: "part \(n) on the platform is not the one recorded")
        }
        _ = try await unavailableIfDown {
            try await s3.completeMultipart(loc.bucket, loc.key, uploadID: handle, parts: held.map { ($0.number, $0.etag) }, credentials: loc.creds)
        }
        return offsets
    }

    /// Checks the endpoint, the credentials and (when VOSS provisions tenants) the admin API.
    public func check() async throws {
        switch tenancy {
        case .shared(let bucket):
            guard try await s3.headBucket(bucket, credentials: credentials) else {
                try await s3.createBucket(bucket, credentials: credentials)
                return
            }
        case .provisioned:
            _ = try await s3.listBuckets(credentials: credentials)
            try await provisioner?.check()
        }
    }
}

/// The upload was completed on the platform by an earlier attempt (whose answer was lost).
public struct AlreadyCompleted: Error, Sendable {}

/// The upstream needs to know a body's length before it starts (no `Content-Length`, no
/// `x-amz-decoded-content-length`): S3's `MissingContentLength`.
public struct PlatformNeedsLength: Error, Sendable {}

/// Streams one PUT (or part) upstream, holding back the latest piece until `commit`.
final class UpstreamSink: BlobSink, @unchecked Sendable {  // one task at a time
    let exchange: UpstreamExchange
    let length: Int64
    let platform: String
    var sent: Int64 = 0
    var held: ByteBuffer?

    init(exchange: UpstreamExchange, length: Int64, platform: String) {
        self.exchange = exchange
        self.length = length
        self.platform = platform
    }

    func write(_ bytes: ByteBuffer) async throws {
        if let h = held {
            try await send(h)
        }
        held = bytes
    }

    func send(_ b: ByteBuffer) async throws {
        guard sent + Int64(b.readableBytes) <= length else {
            exchange.cancel()
            throw UpstreamError.protocolError("more bytes than the declared length")
        }
        do { try await exchange.write(b) } catch let e as UpstreamError where e.isUnavailable {
            throw PlatformUnavailable(platform: platform, reason: e.description)
        }
        sent += Int64(b.readableBytes)
    }

    func commit(md5: [UInt8]) async throws {
        if let h = held {
            held = nil
            try await send(h)
        }
        guard sent == length else {
            exchange.cancel()
            throw UpstreamError.protocolError("\(sent) bytes where \(length) were declared")
        }
        let etag: String
        do { etag = try await UpstreamS3.finishPut(exchange) } catch let e as UpstreamError where e.isUnavailable {
            throw PlatformUnavailable(platform: platform, reason: e.description)
        }
        guard etag == SigV4.hex(md5) else {
            throw UpstreamError.protocolError("the upstream stored other bytes than VOSS sent (ETag \(etag), MD5 \(SigV4.hex(md5)))")
        }
    }

    func abort() async {
        held = nil
        exchange.cancel()
    }
}

final class UpstreamReader: BlobReader, @unchecked Sendable {  // one task at a time
    let exchange: UpstreamExchange
    var left: Int64
    let platform: String

    init(exchange: UpstreamExchange, count: Int64, platform: String) {
        self.exchange = exchange
        self.left = count
        self.platform = platform
    }

    func next() async throws -> ByteBuffer? {
        guard let b = try await exchange.nextBody() else {
            if left != 0 { throw UpstreamError.protocolError("the upstream sent \(left) bytes too few") }
            return nil
        }
        left -= Int64(b.readableBytes)
        if left < 0 {
            exchange.cancel()
            throw UpstreamError.protocolError("the upstream sent more bytes than asked for")
        }
        return b
    }

    func cancel() { exchange.cancel() }
}

final class EmptyReader: BlobReader, Sendable {
    func next() async throws -> ByteBuffer? { nil }
    func cancel() {}
}
