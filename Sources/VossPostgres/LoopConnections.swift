import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import VossConfig
import VossS3Store

/// One PostgreSQL connection on each of the gateway's event loops, for the reads a request makes on
/// its way (a GET's bucket and object): the request's task sends the statement and the reply resumes
/// it on the same thread, where the worker threads cost three thread changes per statement
/// (decision 18).
///
/// - A loop's connection is opened in the background on first use; until it is ready, and for 5 s
///   after it failed, `queryHere` answers nil and the caller takes the worker threads (which also
///   report errors the way they always did).
/// - It connects to the host the worker threads last found writable and checks it still is; when
///   they move to another host (failover), the loop connections follow.
/// - Every statement is bounded by `socketTimeout`: a watchdog closes a connection whose oldest
///   statement is older, which fails the statements on it (the callers then fall back).
/// - A connection-level error drops the connection and falls back; an error of the statement itself
///   is thrown as the worker threads would throw it.
final class LoopConnections: SQLLoopReader, @unchecked Sendable {
    unowned let backend: PostgresBackend
    private let slots = NIOLockedValueBox<[ObjectIdentifier: Slot]>([:])
    private let closed = NIOLockedValueBox(false)

    init(backend: PostgresBackend) { self.backend = backend }

    /// One loop's connection; its fields are touched on that loop only.
    final class Slot: @unchecked Sendable {
        let loop: any EventLoop
        var conn: PostgresConnection?
        var host = -1
        var connecting = false
        var retryAfter = NIODeadline.uptimeNanoseconds(0)
        /// Statements sent and not yet answered, and when the oldest of them was sent.
        var inFlight = 0
        var oldestSent = NIODeadline.uptimeNanoseconds(0)
        var watchdog: RepeatedTask?

        init(loop: any EventLoop) { self.loop = loop }
    }

    func queryHere(_ sql: String, _ args: [SQLValue]) async throws -> [[SQLValue]]? {
        guard let prepared = Self.prepared[sql], let loop = MultiThreadedEventLoopGroup.currentEventLoop,
            backend.schemaReady.withLockedValue({ $0 }), !closed.withLockedValue({ $0 })
        else { return nil }
        let slot = self.slot(for: loop)
        let host = backend.preferredHost.withLockedValue { $0 }
        guard let conn = slot.conn, !conn.isClosed, slot.host == host else {
            connect(slot, host: host)
            return nil
        }
        if slot.inFlight == 0 { slot.oldestSent = .now() }
        slot.inFlight += 1
        defer {
            slot.inFlight -= 1
            slot.oldestSent = .now()
        }
        do {
            // Parsed and planned once per connection (postgres-nio names and caches it).
            return try await run(prepared.init(args), on: conn)
        } catch {
            if PostgresBackend.Worker.mustDrop(error) {
                drop(slot, conn)
                return nil
            }
            throw PostgresBackend.storeError(error)
        }
    }

    /// The store's statements that run here, kept prepared on each connection; any other goes to
    /// the worker threads.
    static let prepared: [String: any LoopStatement.Type] = [
        SQLMetadataStore.bucketAndObjectJoined: BucketAndObject.self, SQLMetadataStore.inlineSelect: InlineBytes.self,
    ]

    private func run<S: LoopStatement>(_ statement: S, on conn: PostgresConnection) async throws -> [[SQLValue]] {
        var rows: [[SQLValue]] = []
        for try await row in try await conn.execute(statement, logger: backend.logger) { rows.append(row) }
        return rows
    }

    private func slot(for loop: any EventLoop) -> Slot {
        let id = ObjectIdentifier(loop)
        return slots.withLockedValue { s in
            if let slot = s[id] { return slot }
            let slot = Slot(loop: loop)
            s[id] = slot
            return slot
        }
    }

    /// Opens the loop's connection in the background (on the slot's loop).
    private func connect(_ slot: Slot, host index: Int) {
        guard !slot.connecting, NIODeadline.now() >= slot.retryAfter else { return }
        if let old = slot.conn { drop(slot, old) }
        slot.connecting = true
        let hosts = backend.target.url.hosts
        let host = hosts[index % hosts.count]
        let logger = backend.logger
        let connected = PostgresConnection.connect(
            on: slot.loop, configuration: backend.configuration(host), id: backend.nextID(), logger: logger)
        let writable = connected.flatMap { conn -> EventLoopFuture<PostgresConnection?> in
            let f: EventLoopFuture<PostgresQueryResult> = conn.query(PostgresQuery(unsafeSQL: "SHOW transaction_read_only"), logger: logger)
            return f.flatMapThrowing { result -> PostgresConnection? in
                if try result.rows.first?.decode(String.self) == "off" { return conn }
                Self.closeSoon(conn)
                return nil
            }.flatMapErrorThrowing { error in
                Self.closeSoon(conn)
                throw error
            }
        }
        writable.whenComplete { [self] (r: Result<PostgresConnection?, any Error>) in
            slot.connecting = false
            guard case .success(let conn?) = r, !closed.withLockedValue({ $0 }) else {
                if case .success(let conn?) = r { Self.closeSoon(conn) }
                slot.retryAfter = .now() + .seconds(5)
                return
            }
            slot.conn = conn
            slot.host = index
            slot.inFlight = 0
            let timeout = TimeAmount.seconds(Int64(backend.target.url.socketTimeout))
            slot.watchdog = slot.loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                guard slot.inFlight > 0, NIODeadline.now() - slot.oldestSent > timeout, let c = slot.conn else { return }
                self?.backend.logger.warning("PostgreSQL did not answer a read in time; closing the loop's connection")
                self?.drop(slot, c)
            }
        }
    }

    /// Closes `conn` if it is still the slot's (on the slot's loop).
    private func drop(_ slot: Slot, _ conn: PostgresConnection) {
        guard slot.conn === conn else { return }
        slot.conn = nil
        slot.watchdog?.cancel()
        slot.watchdog = nil
        slot.retryAfter = .now() + .seconds(5)
        Self.closeSoon(conn)
    }

    static func closeSoon(_ conn: PostgresConnection) {
        let _: EventLoopFuture<Void> = conn.close()
    }

    /// Closes every loop's connection; later calls answer nil.
    func close() async {
        closed.withLockedValue { $0 = true }
        let all = slots.withLockedValue { s in
            defer { s.removeAll() }
            return Array(s.values)
        }
        for slot in all {
            let done: EventLoopFuture<Void> = slot.loop.flatSubmit {
                slot.watchdog?.cancel()
                slot.watchdog = nil
                guard let c = slot.conn else { return slot.loop.makeSucceededVoidFuture() }
                slot.conn = nil
                return c.close() as EventLoopFuture<Void>
            }
            try? await done.get()
        }
    }
}

/// A statement of the store kept prepared on the loop connections.
protocol LoopStatement: PostgresPreparedStatement where Row == [SQLValue] {
    init(_ args: [SQLValue])
}

extension LoopStatement {
    func decodeRow(_ row: PostgresRow) throws -> [SQLValue] { try row.map(PostgresBackend.Worker.value) }
}

/// GET and HEAD: a bucket and the object at a key (`SQLMetadataStore.bucketAndObjectJoined`).
struct BucketAndObject: LoopStatement {
    static let name = "voss_bucket_and_object"
    static let sql = SQLDialect.numberedPlaceholders(SQLMetadataStore.bucketAndObjectJoined)
    static let bindingDataTypes: [PostgresDataType] = [.text, .text]
    let args: [SQLValue]
    init(_ args: [SQLValue]) { self.args = args }
    func makeBindings() throws -> PostgresBindings { PostgresBackend.bindings(args) }
}

/// A GET of a small object: its bytes (`SQLMetadataStore.inlineSelect`, decision 50).
struct InlineBytes: LoopStatement {
    static let name = "voss_inline_bytes"
    static let sql = SQLDialect.numberedPlaceholders(SQLMetadataStore.inlineSelect)
    static let bindingDataTypes: [PostgresDataType] = [.text]
    let args: [SQLValue]
    init(_ args: [SQLValue]) { self.args = args }
    func makeBindings() throws -> PostgresBindings { PostgresBackend.bindings(args) }
}
