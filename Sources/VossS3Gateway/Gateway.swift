import VossBase
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import VossBlobStore
import VossHTTP
import VossPosix
import VossPostgres
import VossConfig
import VossS3Core
import VossS3Store
import VossSQLite
import VossWire
import VossWorkerKit

/// The S3 gateway worker (`voss-s3`): S3 on the keeper's `https`/`http` listeners, the admin API on
/// its `admin` Unix socket.
public final class S3Worker: WorkerApp {
    let state = Mutex<GatewayState?>(nil)
    let tlsContext = Mutex<NIOSSLContext?>(nil)
    let servers = Mutex<[any Channel]>([])
    let admin = Mutex<HTTPServer?>(nil)
    let connections = ConnectionTracker()
    let limiter = ConnectionLimiter()
    /// The REST API's login throttle and hashing gate, shared by the HTTPS and HTTP listeners.
    let rest = RestAPI()
    let expiry = Mutex<Task<Void, Never>?>(nil)
    let lifecycle = Mutex<Task<Void, Never>?>(nil)
    let drainingFlag = Atomic<Bool>(false)
    let io = NIOThreadPool(numberOfThreads: 8)
    let group = Mutex<(any EventLoopGroup)?>(nil)
    let mover = Mutex<BucketMover?>(nil)

    public init() {}

    static func settings(_ c: ConfigSlice) -> GatewaySettings {
        var s = GatewaySettings()
        if let d = c.values["s3.domain"], !d.isEmpty { s.serviceHost = "s3." + d }
        if let r = c.values["s3.region"], !r.isEmpty { s.region = r }
        // Maintenance while `ose migration` moves this node's metadata: reads served, writes 503.
        s.maintenance = c.values["service.maintenance"] == "true" || !(c.values["db.migrating"] ?? "").isEmpty
        s.acceptProxyProtocol = c.values["vip.proxy_protocol"] == "on"
        // Limits against slow and greedy clients (docs/operations.md, "Limits"); bad values keep the default.
        func positive(_ k: String) -> Int? { c.values["args." + k].flatMap { ASCIIDecimal.int($0) }.flatMap { $0 > 0 ? $0 : nil } }
        if let v = positive("s3.header_timeout") { s.deadlines.head = .seconds(Int64(min(v, 3600))) }
        if let v = positive("s3.body_rate_window") { s.deadlines.bodyWindow = .seconds(Int64(min(v, 600))) }
        let window = Int(s.deadlines.bodyWindow.nanoseconds / 1_000_000_000)
        s.deadlines.minBodyBytes = (positive("s3.body_min_rate").map { min($0, 1 << 30) } ?? 100) * window
        if let v = positive("s3.idle_timeout") { s.idleTimeout = .seconds(Int64(min(v, 86400))) }
        if let v = positive("s3.max_connections") { s.connectionLimits.total = v }
        if let v = positive("s3.max_connections_per_client") { s.connectionLimits.perAddress = v }
        if let v = positive("s3.multipart_expiry_hours") { s.multipartExpiry = .seconds(Int64(min(v, 100 * 365 * 24)) * 3600) }
        if let v = positive("s3.lifecycle_interval") { s.lifecycleInterval = min(v, 86_400) }
        if let v = positive("s3.sse_key_rotation_days") { s.sseRotationDays = min(v, 3650) }
        if let v = positive("s3.session_hours") { s.sessionHours = min(v, 24 * 30) }
        s.fastPath = c.values["args.s3.fast_path"] != "off"
        if let v = c.values["args.s3.small_cache_mib"].flatMap({ ASCIIDecimal.int($0) }), v >= 0 { s.smallCacheBytes = min(v, 64 << 10) << 20 }
        if let v = c.values["args.s3.inline_max_kib"].flatMap({ ASCIIDecimal.int($0) }), v >= 0 {
            s.inlineMaxBytes = min(v, InlineSink.maxBytes >> 10) << 10
        }
        s.portalDir = c.values["paths.portal"]
        s.apiCorsOrigins = Set((c.values["args.s3.api_cors_origins"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty })
        if let url = c.values["director.url"], let user = c.values["director.user"], let secret = c.values["director.secret"] {
            s.director = DirectorSettings(
                url: url, user: user, secret: secret, apiVersion: c.values["director.api_version"] ?? "36.0",
                tlsVerify: c.values["director.tls_verify"] != "off")
        }
        s.i18nSocket = c.values["peer.i18n.unix"]
        return s
    }

    static func makeTLS(_ c: ConfigSlice) throws -> NIOSSLContext? {
        guard let chain = c.values["cert.chain"], let key = c.values["cert.key"] else { return nil }
        let certs = try NIOSSLCertificate.fromPEMBytes(Array(chain.utf8))
        let pk = try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)
        var conf = TLSConfiguration.makeServerConfiguration(certificateChain: certs.map { .certificate($0) }, privateKey: .privateKey(pk))
        conf.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: conf)
    }

    public func start(_ context: WorkerContext) async throws -> [String] {
        let c = context.config
        guard let lib = c.values["paths.lib"], let keyText = c.values["s3.secret_key"], let keyData = Data(base64Encoded: keyText),
            keyData.count == 32
        else { throw WorkerStartError("the keeper sent no data directory or secrets key (paths.lib, s3.secret_key)") }
        io.start()
        let secretKey = SymmetricKey(data: keyData)
        let store = try Self.openStore(c, lib: lib, secretKey: secretKey, logger: context.logger)
        // Object bytes: the node's own directory, or one every node of a cluster shares (paths.objects).
        let files = try LocalBlobStore(root: c.values["paths.objects"] ?? lib + "/objects", node: c.values["node.name"] ?? "node")
        let platforms = PlatformSet(local: LocalPlatform(store: files, io: io), store: store)
        platforms.configure(c.values, store: store, group: context.group, logger: context.logger)
        let st = GatewayState(store: store, platforms: platforms, io: io, settings: Self.settings(c), logger: context.logger, secretKey: secretKey)
        group.withLock { $0 = context.group }
        limiter.setLimits(st.current.connectionLimits)
        state.withLock { $0 = st }
        // Normally before serving; if the database is down, in the background once it is back (only
        // what predates this start, so uploads in progress are left alone).
        let started = Date()
        do {
            try await recover(st, before: started)
        } catch {
            Task { await self.recoverWhenReachable(st, started: started) }
        }
        tlsContext.withLock { $0 = try? Self.makeTLS(c) }
        expiry.withLock { $0 = Task { await self.expireUploads(st) } }
        lifecycle.withLock { $0 = Task { await self.runLifecycle(st) } }
        let mover = BucketMover(state: st, node: c.values["node.name"] ?? "node")
        self.mover.withLock { $0 = mover }
        Task { await mover.resume() }

        var addresses: [String] = []
        for (name, fd) in context.listeners.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "admin":
                let api = AdminAPI(store: store, logger: context.logger, identity: st.identity, mover: mover, state: st)
                let server = HTTPServer(group: context.group, configuration: .init(maxBodySize: 64 << 10, serverName: "voss-s3-admin")) {
                    await api.handle($0)
                }
                addresses.append(try await server.serve(boundSocket: fd))
                admin.withLock { $0 = server }
            case "https":
                guard tlsContext.withLock({ $0 }) != nil else {
                    context.logger.error("no certificate configured: HTTPS is not served (ose cert gen / ose cert import)")
                    continue
                }
                addresses.append(try await serveS3(fd: fd, tls: true, group: context.group, state: st))
            default:
                addresses.append(try await serveS3(fd: fd, tls: false, group: context.group, state: st))
            }
        }
        if let counts = try? await store.counts() {
            context.reportStatus(
                "\(counts.buckets) buckets, \(counts.objects) objects, \(counts.bytes) bytes; region \(st.current.region); \(store.location)")
        } else {
            context.reportStatus("metadata store unavailable (\(store.location)); answering 503 until it is back")
        }
        return addresses
    }

    /// The metadata store `db.active` names: the embedded SQLite file, or PostgreSQL (`db.url`, …).
    static func openStore(_ c: ConfigSlice, lib: String, secretKey: SymmetricKey, logger: Logger) throws -> SQLMetadataStore {
        guard c.values["db.active"] == "postgres" else {
            return try SQLMetadataStore.sqlite(path: lib + "/metadata.sqlite", secretKey: secretKey)
        }
        guard let text = c.values["db.url"], case .success(let url) = PostgresURL.parse(text), let user = c.values["db.user"],
            let password = c.values["db.secret"]
        else { throw WorkerStartError("db.active is postgres but db.url, db.user or db.secret is missing or invalid (ose db set)") }
        let backend = try PostgresBackend(PostgresTarget(url: url, user: user, password: password), logger: logger)
        return SQLMetadataStore(backend: backend, secretKey: secretKey, nodeID: c.values["node.name"] ?? "")
    }

    /// Removes incomplete multipart uploads older than `s3.multipart_expiry_hours` (default 7 days),
    /// checking every 10 minutes (at most 1000 per pass; the next pass takes the rest).
    func expireUploads(_ st: GatewayState) async {
        while !drainingFlag.load(ordering: .relaxed) && !Task.isCancelled {
            let maxAge = TimeInterval(st.current.multipartExpiry.components.seconds)
            do {
                let (gone, blobs) = try await UploadExpiry.sweep(st.store, now: Date(), maxAge: maxAge)
                await st.collectGarbage(blobs)
                if !gone.isEmpty {
                    st.logger.notice("expired incomplete multipart uploads", metadata: ["count": "\(gone.count)", "older_than_hours": "\(Int(maxAge / 3600))"])
                }
                if gone.count == 1000 { continue }
            } catch {
                st.logger.debug("multipart expiry postponed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(600))
        }
    }

    /// Carries out the buckets' lifecycle rules every `s3.lifecycle_interval` seconds (default one
    /// hour). In a cluster one gateway does it at a time (a lease in the database, renewed each run).
    func runLifecycle(_ st: GatewayState) async {
        while !drainingFlag.load(ordering: .relaxed) && !Task.isCancelled {
            let interval = st.current.lifecycleInterval
            do {
                if try await st.store.acquireLease("lifecycle", now: Date(), seconds: max(120, interval * 3)) {
                    for b in try await st.store.allBuckets() where b.settings.lifecycle != nil {
                        if drainingFlag.load(ordering: .relaxed) || Task.isCancelled { break }
                        let out = try await LifecycleSweep.run(st.store, bucket: b, now: Date(), newVersionID: S3Service.newVersionID)
                        await st.collectGarbage(out.blobs)
                        if out.expired + out.markers + out.noncurrent + out.aborted > 0 || out.locked > 0 {
                            st.logger.notice(
                                "lifecycle",
                                metadata: [
                                    "bucket": "\(b.name)", "expired": "\(out.expired)", "noncurrent_removed": "\(out.noncurrent)",
                                    "delete_markers_removed": "\(out.markers)", "uploads_aborted": "\(out.aborted)", "kept_by_object_lock": "\(out.locked)",
                                ])
                        }
                    }
                    // SSE-S3 key rotation rides on the same lease and schedule.
                    let r = try await st.keyRing.rotate(now: Date(), period: Double(st.current.sseRotationDays) * 86_400)
                    if r.added != nil || r.rewrapped > 0 || !r.retired.isEmpty {
                        st.logger.notice(
                            "SSE-S3 key rotation",
                            metadata: ["new_key": "\(r.added ?? "-")", "data_keys_rewrapped": "\(r.rewrapped)", "keys_retired": "\(r.retired)"])
                    }
                }
            } catch {
                st.logger.warning("lifecycle run postponed", metadata: ["error": "\(error)"])
            }
            // Second by second, so a new interval (ose args set) applies without a restart.
            var waited = 0
            while waited < st.current.lifecycleInterval && !drainingFlag.load(ordering: .relaxed) && !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                waited += 1
            }
        }
    }

    /// Runs `recover` once the database answers (at once, normally; after an outage, when it is back).
    func recoverWhenReachable(_ st: GatewayState, started: Date) async {
        var delay = Duration.milliseconds(250)
        while !drainingFlag.load(ordering: .relaxed) {
            do {
                try await recover(st, before: started)
                return
            } catch {
                st.logger.warning("crash recovery postponed: the metadata store is unavailable", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// After a crash: remove temp files, delete blobs whose object never committed and blobs no
    /// object references any more.
    func recover(_ st: GatewayState, before: Date) async throws {
        let temp = await st.platforms.local.cleanTemporaryFiles(olderThan: before)
        let journal = try await st.store.journal(before: before)
        await st.collectGarbage(journal.map(\.blob))
        // An upstream may still finish a PUT whose last bytes left just before the crash: delete
        // those blobs once more a little later.
        let remote = journal.map(\.blob).filter { BlobID.platform(of: $0) != BlobID.local && BlobID.splitPartReference($0) == nil }
        if !remote.isEmpty {
            Task {
                try? await Task.sleep(for: .seconds(10))
                for (name, group) in Dictionary(grouping: remote, by: { BlobID.platform(of: $0) }) {
                    try? await st.platforms.platform(named: name)?.delete(group)
                }
            }
        }
        if temp > 0 || !journal.isEmpty {
            st.logger.notice(
                "cleaned up after an unclean stop",
                metadata: ["temp_files": "\(temp)", "uncommitted_or_unreferenced_blobs": "\(journal.count)"])
        }
    }

    func serveS3(fd: Int32, tls: Bool, group: any EventLoopGroup, state st: GatewayState) async throws -> String {
        let connections = self.connections
        let server = S3Server(service: S3Service(state: st), tls: tls, connections: connections, rest: rest, draining: { [self] in
            self.drainingFlag.load(ordering: .relaxed)
        })
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that shuts down its sending side after the request still gets the answer (the
            // virtual-IP translator passes such half-closes on).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let origin = ClientOrigin()
                    if st.settings.withLock({ $0.acceptProxyProtocol }) {
                        try channel.pipeline.syncOperations.addHandler(ProxyHeaderDecoder(origin: origin))
                    }
                    let settings = st.current
                    // Behind the translator every connection comes from its address: the cap per
                    // client is then the translator's to apply; the total cap still holds here.
                    guard self.limiter.admit(channel, perAddressKey: settings.acceptProxyProtocol ? nil : ConnectionLimiter.key(channel))
                    else { return }
                    if tls {
                        guard let ctx = self.tlsContext.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: ctx))
                    }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: settings.idleTimeout))
                    // The raw fast path answers before the deadline clock and the codec see anything.
                    let front = settings.fastPath ? RawFastPath(server: server, origin: origin) : nil
                    if let front { try channel.pipeline.syncOperations.addHandler(front) }
                    let deadlines = RawDeadlineHandler.pair(settings.deadlines)
                    try channel.pipeline.syncOperations.addHandler(deadlines.raw)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ParseErrorFlag())
                    try channel.pipeline.syncOperations.addHandler(deadlines.phase)
                    try channel.pipeline.syncOperations.addHandler(FastPathHandler(server: server, origin: origin, front: front))
                    let async = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 32)))
                    connections.add(channel)
                    channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                    let executor = EventLoopTaskExecutor(channel.eventLoop, counters: st.counters)
                    Task(executorPreference: executor) { await server.serve(async, origin: origin) }
                }
            }
            .withBoundSocket(fd).get()
        servers.withLock { $0.append(channel) }
        return (tls ? "https://" : "http://") + (channel.localAddress?.description ?? "fd \(fd)")
    }

    public func reload(_ config: ConfigSlice) async throws {
        if let st = state.withLock({ $0 }) {
            let s = Self.settings(config)
            st.settings.withLock { $0 = s }
            st.smallBlobs.setCapacity(s.smallCacheBytes)
            if let g = group.withLock({ $0 }) { st.platforms.configure(config.values, store: st.store, group: g, logger: st.logger) }
            limiter.setLimits(s.connectionLimits)
        }
        // New connections use the new certificate; established ones keep theirs.
        if let ctx = try Self.makeTLS(config) { tlsContext.withLock { $0 = ctx } }
    }

    public func drain(grace: Duration) async {
        drainingFlag.store(true, ordering: .relaxed)
        expiry.withLock { $0?.cancel() }
        lifecycle.withLock { $0?.cancel() }
        mover.withLock { $0?.stop() }
        for s in servers.withLock({ $0 }) { try? await s.close() }
        connections.beginDraining()
        _ = await connections.waitUntilEmpty(within: grace)
        connections.closeAll()
        if let a = admin.withLock({ $0 }) { await a.drain(grace: .milliseconds(200)) }
    }

    public func counters() -> [String: Int64] { state.withLock { $0?.counters.snapshot } ?? [:] }
}

/// A connection's task runs on its connection's event loop: as the task's executor preference, every
/// nonisolated async function it awaits (NIO's inbound stream, the store, the platforms, the handlers)
/// runs on the loop's thread, not on the shared concurrency pool, so a request is served by one thread
/// from first byte to last (decision 17). Jobs that arrive from another thread (work that had to leave
/// the loop: an fsync, a PostgreSQL round trip, a write transaction) are counted as `loop_hops`.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop
    let counters: GatewayCounters

    init(_ loop: any EventLoop, counters: GatewayCounters) {
        self.loop = loop
        self.counters = counters
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !loop.inEventLoop { counters.loopHops.add(1, ordering: .relaxed) }
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
