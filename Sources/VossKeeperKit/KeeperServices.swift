import Logging
import ServiceLifecycle
import VossBase
import VossConfig
import VossHTTP

// The keeper's long-lived parts, as services of one `ServiceGroup` (swift-service-lifecycle). The
// group starts them in this order and, on SIGTERM/SIGINT, shuts them down in the reverse order
// (docs/architecture.md, "Keeper services"):
//
//   1. ControlService    the control API (bound before the group starts): up first, down last, so
//                        `ose` can watch everything else stop
//   2. SupervisorService the workers; applies configuration changes; resumes a migration
//   3. GossipRunner      cluster membership and configuration sync
//   4. VIPService        the virtual address: follows membership and `vip.*` changes
//
// Each service subscribes to the configuration changes it reacts to (`ConfigStore.changes`,
// `.localChanges`) when it is made, so none is missed while the group starts.

/// The control API: already serving; on shutdown it drains (requests in flight finish).
struct ControlService: Service {
    let server: HTTPServer

    func run() async throws {
        try? await gracefulShutdown()
        await server.drain(grace: .seconds(2))
    }
}

/// The workers: started, kept equal to the configuration, stopped in reverse order on shutdown.
struct SupervisorService: Service {
    let supervisor: Supervisor
    let db: DatabaseManager
    let changes: AckedBroadcast<ConfigChange>.Subscription
    let logger: Logger

    init(supervisor: Supervisor, config: ConfigStore, db: DatabaseManager, logger: Logger) {
        self.supervisor = supervisor
        self.db = db
        self.logger = logger
        changes = config.changes.subscribe()
    }

    func run() async throws {
        await supervisor.start()
        // A migration that a restart interrupted goes on; it is cancelled on shutdown.
        let migration = Task { await db.resume() }
        await changes.forEach { change in await supervisor.configChanged(change.document) }
        logger.notice("shutting down: stopping workers")
        migration.cancel()
        await supervisor.shutdown()
    }
}

/// Gossip: membership and configuration sync with the other nodes.
struct GossipRunner: Service {
    let gossip: GossipService
    let supervisor: Supervisor
    let local: AckedBroadcast<[String: ConfigEntry]>.Subscription

    init(gossip: GossipService, supervisor: Supervisor, config: ConfigStore) {
        self.gossip = gossip
        self.supervisor = supervisor
        local = config.localChanges.subscribe()
    }

    func run() async throws {
        let supervisor = self.supervisor
        // A new cluster key (joining) re-derives the gateway's secrets.
        await gossip.onKeyChange { newBox in await supervisor.setExtraSlice("s3", newBox.s3Slice) }
        await gossip.start()
        let gossip = self.gossip
        await local.forEach { entries in await gossip.localChanged(entries) }
        await gossip.stop()
    }
}

/// The virtual address: backends and ownership follow membership and the `vip.*` settings.
struct VIPService: Service {
    let vip: VIPManager
    let gossip: GossipService
    let changes: AckedBroadcast<ConfigChange>.Subscription

    init(vip: VIPManager, gossip: GossipService, config: ConfigStore) {
        self.vip = vip
        self.gossip = gossip
        changes = config.changes.subscribe()
    }

    func run() async throws {
        let vip = self.vip
        await gossip.onMembershipChange { await vip.refresh() }
        await vip.refresh()
        await changes.forEach { change in
            if change.keys.contains(where: { VIPManager.keys.contains($0) }) { await vip.refresh() }
        }
        await vip.release()
    }
}

extension AckedBroadcast.Subscription {
    /// Handles each element (acknowledging it when `body` returns) until graceful shutdown ends the
    /// subscription.
    func forEach(_ body: @escaping @Sendable (Element) async -> Void) async {
        await withGracefulShutdownHandler {
            for await e in self { await body(e) }
        } onGracefulShutdown: {
            self.cancel()
        }
    }
}
