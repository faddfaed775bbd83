import Foundation
import Logging
import VossBase
import VossConfig
import VossPosix

/// One configuration change: the document after it and the keys that changed.
public struct ConfigChange: Sendable {
    public var document: ConfigDocument
    public var keys: [String]
}

/// The node's copy of the cluster configuration: loaded at start, changed through the control API
/// (and, in a cluster, by gossip), written atomically (0600) after every change with secrets sealed.
public actor ConfigStore {
    struct FileFormat: Codable {
        var format: Int
        var clock: HLC
        var entries: [String: ConfigEntry]
    }

    public private(set) var document: ConfigDocument
    private var clock: HybridClock
    private let path: String
    private var box: SecretBox
    private let logger = Logger(label: "voss.config")
    /// Every change (made here, merged from another node, adopted on join) with the keys that
    /// changed. The services that react subscribe (`SupervisorService`, `VIPService`); `set` and
    /// `merge` return once each has applied it.
    public nonisolated let changes = AckedBroadcast<ConfigChange>()
    /// Changes made on this node (not merged from elsewhere), with their stamps: `GossipRunner`
    /// sends them to the other nodes.
    public nonisolated let localChanges = AckedBroadcast<[String: ConfigEntry]>()

    public init(path: String, node: String, box: SecretBox) throws {
        self.path = path
        self.box = box
        if let bytes = try Files.read(path) {
            let file: FileFormat
            do {
                file = try JSONDecoder().decode(FileFormat.self, from: Data(bytes))
            } catch {
                throw KeeperError(Message("keeper.config_unreadable", path, "\(error)"))
            }
            guard file.format == 1 else {
                throw KeeperError(Message("keeper.config_format", path, String(file.format)))
            }
            var entries = file.entries
            for (k, e) in entries where e.secret {
                if let v = e.value { entries[k]?.value = try box.open(v) }
            }
            document = ConfigDocument(entries: entries)
            clock = HybridClock(node: node, last: HLC(wallMillis: file.clock.wallMillis, counter: file.clock.counter, node: node))
        } else {
            document = ConfigDocument()
            clock = HybridClock(node: node)
        }
    }

    /// Validates and writes several entries at once (all or nothing). `nil` deletes.
    @discardableResult
    public func set(_ changes: [(key: String, value: String?)]) async throws -> [String] {
        var issues: [ConfigIssue] = []
        for (k, v) in changes {
            if let v { issues += ConfigSchema.validate(key: k, value: v) }
        }
        if !issues.isEmpty { throw ValidationFailure(issues: issues) }
        var next = document
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        var changed: [String] = []
        for (k, v) in changes {
            if next[k] == v { continue }  // unchanged (or deleting what is already absent)
            let stamp = clock.tick(wallMillis: wall)
            if next.set(k, v, stamp: stamp, secret: ConfigSchema.isSecret(k)) { changed.append(k) }
        }
        guard !changed.isEmpty else { return [] }
        try save(next)
        document = next
        await notify(changed)
        var entries: [String: ConfigEntry] = [:]
        for k in changed { entries[k] = next.entries[k] }
        await localChanges.publish(entries)
        return changed
    }

    /// Joining a cluster: every cluster-wide entry becomes the cluster's (stamps kept, so all nodes
    /// agree); this node's own cluster-wide settings (its self-signed certificate, say) are dropped.
    /// Node-local entries stay.
    public func adopt(_ cluster: [String: ConfigEntry]) async throws {
        var entries: [String: ConfigEntry] = [:]
        for (k, e) in document.entries where ConfigSchema.isNodeLocal(k) { entries[k] = e }
        for (k, e) in cluster where !ConfigSchema.isNodeLocal(k) { entries[k] = e }
        let next = ConfigDocument(entries: entries)
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        if let newest = cluster.values.map(\.stamp).max() { clock.observe(newest, wallMillis: wall) }
        let changed = Set(document.entries.keys).union(entries.keys).filter { document.entries[$0] != entries[$0] }.sorted()
        try save(next)
        document = next
        if !changed.isEmpty { await notify(changed) }
    }

    /// A new cluster key (joining a cluster): secrets are sealed with it from now on.
    public func rekey(_ newBox: SecretBox) throws {
        box = newBox
        try save(document)
    }

    /// Merges entries from another node (gossip, import); returns the keys whose value changed.
    @discardableResult
    public func merge(_ remote: [String: ConfigEntry]) async throws -> [String] {
        var next = document
        let changed = next.merge(remote)
        let wall = Int64(Date().timeIntervalSince1970 * 1000)
        if let newest = remote.values.map(\.stamp).max() { clock.observe(newest, wallMillis: wall) }
        guard next != document else { return [] }
        try save(next)
        document = next
        if !changed.isEmpty { await notify(changed) }
        return changed
    }

    private func notify(_ changed: [String]) async {
        logger.info("configuration changed", metadata: ["keys": "\(changed.joined(separator: ","))"])
        await changes.publish(ConfigChange(document: document, keys: changed))
    }

    private func save(_ doc: ConfigDocument) throws {
        var entries = doc.entries
        for (k, e) in entries where e.secret {
            if let v = e.value { entries[k]?.value = box.seal(v) }
        }
        try Files.writeJSON(FileFormat(format: 1, clock: clock.last, entries: entries), to: path, mode: 0o600)
    }
}

/// Validation issues for a control-API request (400 with every issue listed).
public struct ValidationFailure: Error, Sendable {
    public var issues: [ConfigIssue]
    public var hint: Message?
    public init(issues: [ConfigIssue], hint: Message? = nil) {
        self.issues = issues
        self.hint = hint
    }
}
