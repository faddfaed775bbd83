import VossBase

/// Settings that belong to one node and are never gossiped: where its files are, what it binds, which
/// workers it runs. Stored as `node.json` in the node's etc directory (`/etc/voss/node.json`, or
/// `DIR/etc/node.json` with `--dev --data-dir DIR`).
public struct NodeConfig: Codable, Equatable, Sendable {
    public struct Paths: Codable, Equatable, Sendable {
        /// Configuration, keys and the control token (kept on uninstall).
        public var etc: String
        /// Data: the embedded metadata store and object bytes.
        public var lib: String
        public var log: String
        /// Unix-domain sockets of the workers.
        public var run: String
        /// Where worker executables are looked up when a worker names no absolute path.
        public var libexec: String
        /// The translation bundles the i18n worker serves (`/etc/voss/i18n` installed).
        public var i18n: String?
        /// Object bytes of the local platform (default `LIB/objects`). The nodes of a cluster must
        /// share it (one NFS/CephFS mount) so every gateway can serve every object.
        public var objects: String?
        /// The web portal's files the gateway serves at `/portal/` (`/usr/share/voss/portal` installed).
        public var portal: String?
    }

    public struct Endpoint: Codable, Equatable, Sendable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
    }

    /// A listening socket the keeper binds and hands to a worker.
    public struct Listener: Codable, Equatable, Sendable {
        /// The name the worker knows it by (`http`, `https`, `unix`).
        public var name: String
        public var tcp: Endpoint?
        public var unix: String?
        /// When its address cannot be bound, the keeper logs it and runs the worker without it (the
        /// plain-HTTP S3 port) instead of refusing to start.
        public var optional: Bool?

        public init(name: String, tcp: Endpoint? = nil, unix: String? = nil, optional: Bool? = nil) {
            self.name = name
            self.tcp = tcp
            self.unix = unix
            self.optional = optional
        }

        public var display: String {
            if let tcp { return "\(tcp.address):\(tcp.port)" }
            return "unix:\(unix ?? "?")"
        }
    }

    public struct Worker: Codable, Equatable, Sendable {
        public var name: String
        /// An absolute path, or a file name looked up in `paths.libexec`.
        public var executable: String
        public var enabled: Bool
        public var arguments: [String]
        public var listeners: [Listener]
        /// `permanent` unless set (see OTP's restart types).
        public var restart: String?

        public init(
            name: String, executable: String, enabled: Bool = true, arguments: [String] = [],
            listeners: [Listener], restart: String? = nil
        ) {
            self.name = name
            self.executable = executable
            self.enabled = enabled
            self.arguments = arguments
            self.listeners = listeners
            self.restart = restart
        }
    }

    /// 2 since the S3 gateway became a default worker, 3 since the virtual-IP translator did; older
    /// files get the new default workers added.
    public var formatVersion: Int?
    public static let currentFormat = 3
    public var nodeName: String
    public var dev: Bool
    public var paths: Paths
    public var control: Endpoint
    public var workers: [Worker]
    /// Where gossip listens (UDP and TCP on one port). Unset: 0.0.0.0:7946 installed, 127.0.0.1:7946
    /// in `--dev`.
    public var gossip: Endpoint?
    /// The address other nodes reach this one at, when `gossip.address` is a wildcard (default: the
    /// first non-loopback IPv4 address of the host).
    public var gossipAdvertise: String?

    public static let defaultGossipPort = 7946

    public var gossipEndpoint: Endpoint {
        gossip ?? Endpoint(address: dev ? "127.0.0.1" : "0.0.0.0", port: Self.defaultGossipPort)
    }

    /// The installed layout (DESIGN.md §11).
    public static func installed(nodeName: String) -> NodeConfig {
        let paths = Paths(
            etc: "/etc/voss", lib: "/var/lib/voss", log: "/var/log/voss", run: "/run/voss",
            libexec: "/usr/libexec/voss", i18n: "/etc/voss/i18n", portal: "/usr/share/voss/portal")
        return NodeConfig(
            formatVersion: currentFormat, nodeName: nodeName, dev: false, paths: paths, control: Endpoint(address: "127.0.0.1", port: 5198),
            workers: defaultWorkers(paths: paths, i18nPort: 8091, httpsPort: 443, httpPort: 80))
    }

    /// Everything under one directory, unprivileged (`--dev --data-dir DIR`).
    public static func dev(dataDir: String, libexec: String, nodeName: String, i18n: String? = nil, portal: String? = nil) -> NodeConfig {
        let paths = Paths(
            etc: dataDir + "/etc", lib: dataDir + "/lib", log: dataDir + "/log", run: dataDir + "/run",
            libexec: libexec, i18n: i18n, portal: portal)
        return NodeConfig(
            formatVersion: currentFormat, nodeName: nodeName, dev: true, paths: paths, control: Endpoint(address: "127.0.0.1", port: 5198),
            workers: defaultWorkers(paths: paths, i18nPort: 8091, httpsPort: 9443, httpPort: 9080))
    }

    /// The workers every node runs, in start order (the keeper stops them in reverse).
    public static func defaultWorkers(paths: Paths, i18nPort: Int, httpsPort: Int, httpPort: Int) -> [Worker] {
        [
            Worker(
                name: "i18n", executable: "voss-i18n",
                listeners: [
                    Listener(name: "http", tcp: Endpoint(address: "127.0.0.1", port: i18nPort)),
                    Listener(name: "unix", unix: paths.run + "/i18n.sock"),
                ]),
            Worker(
                name: "s3", executable: "voss-s3",
                listeners: [
                    Listener(name: "https", tcp: Endpoint(address: "0.0.0.0", port: httpsPort)),
                    Listener(name: "http", tcp: Endpoint(address: "0.0.0.0", port: httpPort), optional: true),
                    Listener(name: "admin", unix: paths.run + "/s3-admin.sock"),
                ]),
            // Binds the virtual address itself (cluster configuration, `ose vip set`); idle until then.
            Worker(name: "vip", executable: "voss-vip", listeners: []),
        ]
    }

    /// Adds default workers a node file written by an older version does not know (to leave one out,
    /// keep it in the file with `"enabled": false`).
    public mutating func addMissingDefaultWorkers() -> [String] {
        let dev = self.dev
        let defaults = NodeConfig.defaultWorkers(
            paths: paths, i18nPort: 8091, httpsPort: dev ? 9443 : 443, httpPort: dev ? 9080 : 80)
        var added: [String] = []
        for w in defaults where worker(named: w.name) == nil {
            workers.append(w)
            added.append(w.name)
        }
        return added
    }

    public var nodeFilePath: String { paths.etc + "/node.json" }
    public var statePath: String { paths.etc + "/state.json" }
    public var tokenPath: String { paths.etc + "/token" }
    public var configPath: String { paths.etc + "/config.json" }
    public var clusterKeyPath: String { paths.etc + "/cluster.key" }
    /// The cluster this node belongs to (label, seeds, last known members); absent on a lone node.
    public var clusterFilePath: String { paths.etc + "/cluster.json" }

    public func worker(named name: String) -> Worker? { workers.first { $0.name == name } }

    /// Problems that would stop the keeper from starting, all at once.
    public func validate() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if !(1...65535).contains(control.port) {
            issues.append(ConfigIssue(key: "node.control.port", Message("value.port", String(control.port))))
        }
        var seenNames = Set<String>()
        var seenPorts = Set<Int>([control.port])
        if !(1...65535).contains(gossipEndpoint.port) {
            issues.append(ConfigIssue(key: "node.gossip.port", Message("value.port", String(gossipEndpoint.port))))
        }
        for w in workers {
            if !seenNames.insert(w.name).inserted {
                issues.append(ConfigIssue(key: "node.workers", Message("node.duplicate_worker", w.name)))
            }
            if let r = w.restart, RestartPolicyName(rawValue: r) == nil {
                issues.append(
                    ConfigIssue(key: "node.workers.\(w.name).restart", Message("value.one_of", "permanent, transient, temporary")))
            }
            for l in w.listeners {
                if let tcp = l.tcp {
                    if !(1...65535).contains(tcp.port) {
                        issues.append(
                            ConfigIssue(key: "node.workers.\(w.name).\(l.name)", Message("value.port", String(tcp.port))))
                    } else if w.enabled && !seenPorts.insert(tcp.port).inserted {
                        issues.append(
                            ConfigIssue(key: "node.workers.\(w.name).\(l.name)", Message("node.port_in_use", String(tcp.port))))
                    }
                }
                if let path = l.unix, path.utf8.count > 107 {
                    issues.append(
                        ConfigIssue(key: "node.workers.\(w.name).\(l.name)", Message("node.socket_path_too_long", path)))
                }
                if l.tcp == nil && l.unix == nil {
                    issues.append(ConfigIssue(key: "node.workers.\(w.name).\(l.name)", Message("node.listener_empty")))
                }
            }
        }
        return issues
    }
}

/// The restart policy names a node file may use (kept here so the config core does not import the
/// supervision core).
public enum RestartPolicyName: String, Sendable { case permanent, transient, temporary }

/// What the operator last asked of this node's service (`ose service start|stop|restart [--debug]`),
/// kept in `state.json` beside the node file so a keeper restart honours it. Node-local, never gossiped.
public struct NodeState: Codable, Equatable, Sendable {
    public var serviceStarted: Bool
    /// `debug` after `--debug`, otherwise `info` (or `args.log.level` when set).
    public var logLevel: String?

    public init(serviceStarted: Bool = true, logLevel: String? = nil) {
        self.serviceStarted = serviceStarted
        self.logLevel = logLevel
    }
}
