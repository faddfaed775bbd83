import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VossBase
import VossBlobStore
import VossHTTP
import VossS3Core
import VossS3Store
import VossSigV4

/// Settings the gateway reads from its configuration slice (changeable by `reload`).
struct GatewaySettings: Sendable, Equatable {
    /// `s3.example.com`: `BUCKET.s3.example.com` is virtual-hosted style.
    var serviceHost: String?
    var region = "us-east-1"
    /// Maintenance mode: reads are served, writes get 503 with Retry-After.
    var maintenance = false
    var maxPutSize: Int64 = 5 << 30
    /// Connections may start with a PROXY protocol v2 header (from the virtual-IP translator); the
    /// address in it is logged as the client's.
    var acceptProxyProtocol = false
    /// Head deadline and minimum body rate (`s3.header_timeout`, `s3.body_min_rate`).
    var deadlines = DeadlineSettings()
    /// A connection with no request for this long is closed (`s3.idle_timeout`).
    var idleTimeout: TimeAmount = .seconds(60)
    /// Open connections in all and per client address (`s3.max_connections`, `…_per_client`).
    var connectionLimits = ConnectionLimiter.Limits()
    /// Multipart uploads not completed or aborted within this are removed (`s3.multipart_expiry_hours`).
    var multipartExpiry: Duration = .seconds(7 * 24 * 3600)
    /// Seconds between lifecycle runs (`s3.lifecycle_interval`).
    var lifecycleInterval = 3600
    /// Days between rotations of SSE-S3's key-encryption key (`s3.sse_key_rotation_days`).
    var sseRotationDays = 90
    /// The web portal's files (`paths.portal`), served at `/portal/`.
    var portalDir: String?
    /// The i18n service's socket (`peer.i18n.unix`): the portal's strings come from it.
    var i18nSocket: String?
    /// Origins whose pages may call the REST API (`args.s3.api_cors_origins`, comma-separated; `*` any).
    var apiCorsOrigins: Set<String> = []
    /// Hours a REST API session lasts (`args.s3.session_hours`).
    var sessionHours = 8
    /// Small GETs and HEADs answered inside the pipeline (FastPath.swift); `args.s3.fast_path = off`
    /// sends every request through the async path.
    var fastPath = true
    /// Bytes of small objects kept in memory for it (`args.s3.small_cache_mib`, default 32; 0: none).
    var smallCacheBytes = 32 << 20
    /// A PUT of at most this many bytes to a local bucket keeps them in the metadata database with
    /// the object's row (`args.s3.inline_max_kib`, default 16; 0: never; decision 50).
    var inlineMaxBytes = 16 << 10
    /// The cloud director (`ose director set`): director users log in with its session tokens.
    var director: DirectorSettings?
}

/// Everything a request handler needs, shared by all connections.
final class GatewayState: Sendable {
    let store: any MetadataStore
    /// Where object bytes live: `local` and the configured upstreams.
    let platforms: PlatformSet
    let io: NIOThreadPool
    let settings: Mutex<GatewaySettings>
    let identity: IdentityCache
    let logger: Logger
    let counters = GatewayCounters()
    /// SSE-S3's keys.
    let keyRing: SSEKeyRing
    /// Tenants' storage quotas.
    let quotas: QuotaGuard
    /// Bytes of small local blobs for the synchronous GET path.
    let smallBlobs: SmallBlobCache

    init(
        store: any MetadataStore, platforms: PlatformSet, io: NIOThreadPool, settings: GatewaySettings, logger: Logger, secretKey: SymmetricKey
    ) {
        self.keyRing = SSEKeyRing(store: store, secretKey: secretKey)
        self.quotas = QuotaGuard(store: store)
        // One cache of small blobs by id: the inline platform's reads and the synchronous path share it.
        self.smallBlobs = platforms.inline.cache
        smallBlobs.setCapacity(settings.smallCacheBytes)
        self.store = store
        self.platforms = platforms
        self.io = io
        self.settings = Mutex(settings)
        self.identity = IdentityCache(store: store)
        self.logger = logger
    }

    var current: GatewaySettings { settings.withLock { $0 } }

    /// Runs blocking work (file I/O) on the I/O pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await io.runIfActive(work)
    }

    /// Blobs released by answered writes and deletes, waiting for `drainReleased`, and whether it runs.
    let released = Mutex<(blobs: [String], draining: Bool)>(([], false))
    static let releasedBatch = 512
    /// Beyond this many queued blobs a request collects its own, as before the queue: a platform that
    /// deletes more slowly than clients replace objects holds them back instead of growing the queue.
    static let releasedLimit = 8192

    /// Collects blobs the store has already journalled as garbage, in the background and in batches:
    /// under load one delete trip and one journal transaction serve many requests (like a group
    /// commit) instead of two of each per overwrite or delete, and the request's connection does not
    /// wait for them. What is still queued at a stop stays journalled; the next start collects it.
    func collectLater(_ blobs: [String]) async {
        guard !blobs.isEmpty else { return }
        let start = released.withLock { r -> Bool? in
            guard r.blobs.count < Self.releasedLimit else { return nil }
            r.blobs += blobs
            counters.garbageQueued.add(Int64(blobs.count), ordering: .relaxed)
            guard !r.draining else { return false }
            r.draining = true
            return true
        }
        guard let start else { return await collectGarbage(blobs) }
        if start { Task { await self.drainReleased() } }
    }

    func drainReleased() async {
        while true {
            let batch = released.withLock { r -> [String] in
                let n = min(r.blobs.count, Self.releasedBatch)
                let b = Array(r.blobs.prefix(n))
                r.blobs.removeFirst(n)
                if b.isEmpty { r.draining = false }
                return b
            }
            if batch.isEmpty { return }
            await collectGarbage(batch)
            counters.garbageQueued.subtract(Int64(batch.count), ordering: .relaxed)
            counters.garbageCollected.add(Int64(batch.count), ordering: .relaxed)
        }
    }

    /// Deletes blobs that no object references any more and clears their journal entries. Blobs on a
    /// platform that cannot be reached now stay journalled (the next start's recovery retries them).
    func collectGarbage(_ blobs: [String]) async {
        guard !blobs.isEmpty else { return }
        var done: [String] = []
        for (name, group) in Dictionary(grouping: blobs, by: { BlobID.platform(of: $0) }) {
            guard let p = platforms.blobPlatform(named: name) else {
                logger.warning("blobs of a platform that is not configured are left in place", metadata: ["platform": "\(name)", "count": "\(group.count)"])
                continue
            }
            do {
                try await p.delete(group)
                done += group
            } catch {
                logger.warning("could not delete blobs; they stay journalled", metadata: ["platform": "\(name)", "error": "\(error)"])
            }
        }
        try? await self.store.forgetJournal(done)
    }
}

final class GatewayCounters: Sendable {
    let requests = Atomic<Int64>(0)
    let errors = Atomic<Int64>(0)
    let connections = Atomic<Int64>(0)
    let open = Atomic<Int64>(0)
    let bytesIn = Atomic<Int64>(0)
    let bytesOut = Atomic<Int64>(0)
    /// Times a connection's task came back to its event loop from another thread (see
    /// `EventLoopTaskExecutor`): 0 per GET/HEAD of a local object, about one per durable write.
    let loopHops = Atomic<Int64>(0)
    /// Requests answered inside the pipeline (FastPath.swift).
    let fastPath = Atomic<Int64>(0)
    /// Of those, the ones answered from raw bytes, before NIO's HTTP codec (`RawFastPath`).
    let fastPathRaw = Atomic<Int64>(0)
    /// Blobs released by writes and deletes waiting for the background collector, and those it has
    /// handed to their platform for deletion (`GatewayState.collectLater`).
    let garbageQueued = Atomic<Int64>(0)
    let garbageCollected = Atomic<Int64>(0)

    var snapshot: [String: Int64] {
        [
            "requests": requests.load(ordering: .relaxed), "errors": errors.load(ordering: .relaxed),
            "connections": connections.load(ordering: .relaxed), "open_connections": open.load(ordering: .relaxed),
            "bytes_in": bytesIn.load(ordering: .relaxed), "bytes_out": bytesOut.load(ordering: .relaxed),
            "loop_hops": loopHops.load(ordering: .relaxed), "fast_path": fastPath.load(ordering: .relaxed),
            "fast_path_raw": fastPathRaw.load(ordering: .relaxed), "garbage_queued": garbageQueued.load(ordering: .relaxed),
            "garbage_collected": garbageCollected.load(ordering: .relaxed),
        ]
    }
}

/// Access keys → principals, cached for a few seconds (a deleted key stops working within
/// `ttl`), and derived SigV4 signing keys per (key, day, region).
final class IdentityCache: Sendable {
    struct Entry {
        var principal: Principal?
        var expires: ContinuousClock.Instant
    }

    let store: any MetadataStore
    let ttl: Duration = .seconds(5)
    let principals = Mutex<[String: Entry]>([:])
    let signingKeys = Mutex<[SigningKeyID: SigningKey]>([:])

    struct SigningKeyID: Hashable {
        var accessKey: String
        /// The secret itself: a key whose secret changed derives anew.
        var secret: String
        var date: String
        var region: String
    }

    init(store: any MetadataStore) { self.store = store }

    /// Drops a key from the cache (it was deleted on this node).
    func forget(_ accessKey: String) { _ = principals.withLock { $0.removeValue(forKey: accessKey) } }

    /// The cached principal of `accessKey` while it is fresh (`.some(nil)`: known not to exist);
    /// nil when it must be looked up.
    func cachedPrincipal(_ accessKey: String) -> Principal?? {
        let now = ContinuousClock.now
        if let e = principals.withLock({ $0[accessKey] }), e.expires > now { return .some(e.principal) }
        return nil
    }

    func principal(_ accessKey: String) async throws -> Principal? {
        let now = ContinuousClock.now
        if let e = principals.withLock({ $0[accessKey] }), e.expires > now { return e.principal }
        let p = try await store.principal(accessKey: accessKey)
        principals.withLock { d in
            if d.count > 10_000 { d.removeAll() }
            d[accessKey] = Entry(principal: p, expires: now + ttl)
        }
        return p
    }

    func signingKey(_ p: Principal, date: String, region: String) -> SigningKey {
        let id = SigningKeyID(accessKey: p.accessKey, secret: p.secret, date: date, region: region)
        if let k = signingKeys.withLock({ $0[id] }) { return k }
        let k = SigV4.signingKey(secret: p.secret, date: date, region: region)
        signingKeys.withLock { d in
            if d.count > 10_000 { d.removeAll() }
            d[id] = k
        }
        return k
    }

    /// The access key a request claims (from `Authorization` or `X-Amz-Credential`), before verifying.
    static func claimedAccessKey(authorization: String?, query: [String: String]) -> String? {
        // The first non-empty `/`-separated part, without splitting the whole credential.
        func upToSlash(_ u: Substring.UTF8View) -> String? {
            guard let start = u.firstIndex(where: { $0 != UInt8(ascii: "/") }) else { return nil }
            let end = u[start...].firstIndex(of: UInt8(ascii: "/")) ?? u.endIndex
            return String(Substring(u[start..<end]))
        }
        if let a = authorization, let r = a.utf8.firstRange(of: "Credential=".utf8) { return upToSlash(Substring(a.utf8[r.upperBound...]).utf8) }
        if let c = query["X-Amz-Credential"] { return upToSlash(Substring(c).utf8) }
        return nil
    }
}


struct DirectorSettings: Sendable, Equatable {
    var url: String
    var user: String
    var secret: String
    var apiVersion: String
    var tlsVerify: Bool
}
