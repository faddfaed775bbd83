/// Which configuration each worker receives over its IPC socket (`config`/`reload`), as flat keys.
/// Pure, so the keeper can tell whether a change concerns a worker at all (equal slices: no reload).
public enum WorkerSlices {
    /// Section prefixes of the cluster document each worker type reads.
    static let sectionsByWorker: [String: [String]] = [
        "i18n": ["i18n."],
        "s3": ["cert.", "db.", "s3.", "args.s3.", "platforms.", "director.", "cloudian.", "ecs.", "service.maintenance", "vip.proxy_protocol"],
        "vip": ["vip.", "cert."],
    ]

    public static func slice(
        worker: String, document: ConfigDocument, node: NodeConfig, state: NodeState
    ) -> [String: String] {
        var out: [String: String] = [:]
        out["log.level"] = state.logLevel ?? document["args.log.level"] ?? "info"
        out["node.name"] = node.nodeName
        out["node.dev"] = node.dev ? "true" : "false"
        out["paths.etc"] = node.paths.etc
        out["paths.lib"] = node.paths.lib
        if let objects = node.paths.objects { out["paths.objects"] = objects }
        out["paths.log"] = node.paths.log
        out["paths.run"] = node.paths.run
        if let i18n = node.paths.i18n { out["paths.i18n"] = i18n }
        if let portal = node.paths.portal { out["paths.portal"] = portal }
        // Peers' sockets come from the keeper's node layout, never guessed by the worker.
        for w in node.workers where w.enabled {
            for l in w.listeners {
                if let unix = l.unix { out["peer.\(w.name).\(l.name)"] = unix }
                if let tcp = l.tcp { out["peer.\(w.name).\(l.name)"] = "\(tcp.address):\(tcp.port)" }
            }
        }
        for (k, v) in document.values(withPrefix: "args.") { out[k] = v }
        for prefix in sectionsByWorker[worker] ?? [] {
            for (k, v) in document.values(withPrefix: prefix) { out[k] = v }
        }
        return out
    }

    /// A version string for a slice: equal slices have equal versions.
    public static func version(of slice: [String: String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for key in slice.keys.sorted() {
            for b in key.utf8 + [0] + slice[key]!.utf8 + [0] {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
        }
        return String(h, radix: 16)
    }
}
