import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import UnixSignals
import Synchronization
import VossBase
import VossCertificates
import VossConfig
import VossHTTP
import VossPosix
import VossSystemd
import VossWire

/// Command-line options of `voss-keeper`.
public struct KeeperOptions: Equatable, Sendable {
    public var dev = false
    public var dataDir: String?
    public var nodeName: String?
    public var controlAddress: String?
    public var controlPort: Int?
    public var i18nPort: Int?
    public var s3Port: Int?
    public var s3HTTPPort: Int?
    public var i18nDir: String?
    public var libexec: String?
    public var gossipAddress: String?
    public var gossipPort: Int?
    public var gossipAdvertise: String?
    public var objectsDir: String?
    public var showHelp = false
    public var showVersion = false

    public static let usage = """
        usage: voss-keeper [--dev --data-dir DIR] [options]

        Supervises the VOSS workers (S3 gateway, i18n, virtual-IP translator), serves the `ose` control
        API and keeps the node's configuration. Installed, systemd starts it (`systemctl start voss-keeper`)
        with the layout /etc/voss, /var/lib/voss, /var/log/voss, /run/voss. For development, `--dev
        --data-dir DIR` runs everything unprivileged under DIR.

        options:
          --dev                   development layout under --data-dir (required with --dev)
          --data-dir DIR          where config, data, logs and sockets go in --dev mode
          --node-name NAME        this node's name in the cluster (default: the host name)
          --control-address ADDR  control API address (default 127.0.0.1)
          --control-port PORT     control API port (default 5198)
          --i18n-port PORT        i18n service port (default 8091)
          --s3-port PORT          S3 HTTPS port (default 443; --dev: 9443)
          --s3-http-port PORT     S3 plain HTTP port (default 80; --dev: 9080)
          --gossip-address ADDR   where cluster gossip listens, UDP and TCP (default 0.0.0.0;
                                  --dev: 127.0.0.1)
          --gossip-port PORT      gossip port (default 7946)
          --gossip-advertise ADDR the address other nodes use for this one (default: the gossip
                                  address, or the first non-loopback IPv4 address when it is 0.0.0.0)
          --objects-dir DIR       where object bytes go (default DATA/objects); the nodes of a cluster
                                  must share it (an NFS or CephFS mount)
          --i18n-dir DIR          translation bundles (default /etc/voss/i18n; --dev: ./etc/voss/i18n)
          --libexec DIR           where worker executables are (default /usr/libexec/voss;
                                  --dev: the directory of voss-keeper)
          --version               print the version
          -h, --help              this help

        Options given are saved in the node file (ETC/node.json) and apply to later starts too.
        Signals: SIGTERM/SIGINT stop the workers in order and exit; SIGHUP pushes the configuration to
        every worker again and reopens logs.
        """

    public static func parse(_ args: [String]) throws(KeeperError) -> KeeperOptions {
        var o = KeeperOptions()
        var i = 0
        func value() throws(KeeperError) -> String {
            guard i + 1 < args.count else { throw KeeperError(Message("keeper.option_needs_value", args[i])) }
            i += 1
            return args[i]
        }
        func port() throws(KeeperError) -> Int {
            let v = try value()
            guard let p = Int(v), (1...65535).contains(p) else { throw KeeperError(Message("value.port", v)) }
            return p
        }
        while i < args.count {
            switch args[i] {
            case "--dev": o.dev = true
            case "--data-dir": o.dataDir = try value()
            case "--node-name": o.nodeName = try value()
            case "--control-address": o.controlAddress = try value()
            case "--control-port": o.controlPort = try port()
            case "--i18n-port": o.i18nPort = try port()
            case "--s3-port": o.s3Port = try port()
            case "--s3-http-port": o.s3HTTPPort = try port()
            case "--i18n-dir": o.i18nDir = try value()
            case "--libexec": o.libexec = try value()
            case "--gossip-address": o.gossipAddress = try value()
            case "--gossip-port": o.gossipPort = try port()
            case "--gossip-advertise": o.gossipAdvertise = try value()
            case "--objects-dir": o.objectsDir = try value()
            case "-h", "--help": o.showHelp = true
            case "--version": o.showVersion = true
            default: throw KeeperError(Message("keeper.unknown_option", args[i]))
            }
            i += 1
        }
        if o.dev && o.dataDir == nil { throw KeeperError(Message("keeper.dev_needs_data_dir")) }
        if !o.dev && o.dataDir != nil { throw KeeperError(Message("keeper.data_dir_needs_dev")) }
        return o
    }

    /// The node configuration: the saved node file if there is one, else the preset; options override.
    func nodeConfig(existing: NodeConfig?) -> NodeConfig {
        let name = nodeName ?? existing?.nodeName ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "voss"
        var n: NodeConfig
        if let existing {
            n = existing
            if (n.formatVersion ?? 1) < NodeConfig.currentFormat {
                _ = n.addMissingDefaultWorkers()
                n.formatVersion = NodeConfig.currentFormat
            }
        } else if dev, let dataDir {
            let dir = Files.absolute(dataDir)
            n = .dev(dataDir: dir, libexec: Files.executableDirectory, nodeName: name, i18n: Self.findDevI18nDir(), portal: Self.findDevPortalDir())
        } else {
            n = .installed(nodeName: name)
        }
        n.nodeName = name
        if let controlAddress { n.control.address = controlAddress }
        if let controlPort { n.control.port = controlPort }
        if let libexec { n.paths.libexec = Files.absolute(libexec) }
        if let i18nDir { n.paths.i18n = Files.absolute(i18nDir) }
        if gossipAddress != nil || gossipPort != nil {
            var g = n.gossipEndpoint
            if let gossipAddress { g.address = gossipAddress }
            if let gossipPort { g.port = gossipPort }
            n.gossip = g
        }
        if let gossipAdvertise { n.gossipAdvertise = gossipAdvertise }
        if let objectsDir { n.paths.objects = Files.absolute(objectsDir) }
        if let i18nPort, let wi = n.workers.firstIndex(where: { $0.name == "i18n" }),
            let li = n.workers[wi].listeners.firstIndex(where: { $0.tcp != nil })
        {
            n.workers[wi].listeners[li].tcp?.port = i18nPort
        }
        func setPort(worker: String, listener: String, _ port: Int?) {
            guard let port, let wi = n.workers.firstIndex(where: { $0.name == worker }),
                let li = n.workers[wi].listeners.firstIndex(where: { $0.name == listener })
            else { return }
            n.workers[wi].listeners[li].tcp?.port = port
        }
        setPort(worker: "s3", listener: "https", s3Port)
        setPort(worker: "s3", listener: "http", s3HTTPPort)
        return n
    }

    /// In a source checkout the bundles are in ./etc/voss/i18n (or beside the build directory).
    /// The portal's files in a source tree (`portal/`) or next to an unpacked install.
    static func findDevPortalDir() -> String? {
        let exe = Files.executableDirectory
        let candidates = [
            FileManager.default.currentDirectoryPath + "/portal", exe + "/../../portal", exe + "/../../../portal", exe + "/../share/voss/portal",
        ]
        return candidates.map { ($0 as NSString).standardizingPath }.first { Files.exists($0 + "/index.html") }
    }

    static func findDevI18nDir() -> String? {
        let exe = Files.executableDirectory
        let candidates = [
            FileManager.default.currentDirectoryPath + "/etc/voss/i18n", exe + "/../../etc/voss/i18n",
            exe + "/../../../etc/voss/i18n", exe + "/../share/voss/i18n",
        ]
        return candidates.map { ($0 as NSString).standardizingPath }.first { Files.exists($0) }
    }
}

public enum KeeperMain {
    public static func run(arguments: [String]) async -> Never {
        let options: KeeperOptions
        do {
            options = try KeeperOptions.parse(arguments)
        } catch {
            fail(2, "\(error.message.english)\n\n\(KeeperOptions.usage)")
        }
        if options.showHelp {
            print(KeeperOptions.usage)
            exit(0)
        }
        if options.showVersion {
            print("voss-keeper \(VossVersion.current)")
            exit(0)
        }

        // Node layout: the node file in the etc directory of the chosen layout.
        let presetEtc = options.dev ? Files.absolute(options.dataDir!) + "/etc" : "/etc/voss"
        var existing: NodeConfig?
        do {
            if let bytes = try Files.read(presetEtc + "/node.json") {
                existing = try JSONDecoder().decode(NodeConfig.self, from: Data(bytes))
            }
        } catch {
            fail(1, Message("keeper.node_file_unreadable", presetEtc + "/node.json", "\(error)").english)
        }
        let node = options.nodeConfig(existing: existing)
        let issues = node.validate()
        if !issues.isEmpty {
            fail(1, "invalid node configuration:\n" + issues.map { "  \($0)" }.joined(separator: "\n"))
        }
        do {
            try Files.makeDirectory(node.paths.etc, mode: 0o700)
            try Files.makeDirectory(node.paths.lib, mode: 0o750)
            try Files.makeDirectory(node.paths.log, mode: 0o750)
            try Files.makeDirectory(node.paths.run, mode: 0o755)
            if node != existing { try Files.writeJSON(node, to: node.nodeFilePath, mode: 0o600) }
        } catch {
            fail(1, "cannot prepare \(node.paths.etc): \(error)")
        }

        VossLogging.bootstrap(name: "keeper", logDirectory: node.paths.log)
        let logger = Logger(label: "voss.keeper")
        let env = ProcessInfo.processInfo.environment
        let notifier = SystemdNotifier(environment: env)
        let watchdog = WatchdogPolicy(environment: env, pid: getpid())

        let box: SecretBox
        let token: TokenStore
        let config: ConfigStore
        var state = NodeState()
        do {
            var b = try SecretBox.loadOrCreate(path: node.clusterKeyPath)
            token = try TokenStore.loadOrCreate(path: node.tokenPath)
            let pending = node.clusterKeyPath + ".next"
            if Files.exists(pending) {
                // A join stopped between re-sealing the configuration with the cluster's key and
                // installing that key: whichever key opens config.json is the right one.
                if (try? ConfigStore(path: node.configPath, node: node.nodeName, box: b)) == nil {
                    b = try SecretBox.loadOrCreate(path: pending)
                    _ = try ConfigStore(path: node.configPath, node: node.nodeName, box: b)
                    guard rename(pending, node.clusterKeyPath) == 0 else {
                        throw KeeperError(Message("keeper.rename_failed", pending, String(cString: strerror(errno))))
                    }
                } else {
                    unlink(pending)
                }
            }
            box = b
            config = try ConfigStore(path: node.configPath, node: node.nodeName, box: box)
            if let bytes = try Files.read(node.statePath) {
                state = try JSONDecoder().decode(NodeState.self, from: Data(bytes))
            }
        } catch {
            logger.critical("\(error)")
            fail(1, "\(error)")
        }

        await ensureCertificate(config: config, node: node, logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let supervisor = Supervisor(
            node: node, document: await config.document, state: state, group: group, notifier: notifier,
            watchdog: watchdog, extraSlices: ["s3": box.s3Slice])
        do {
            try await supervisor.bindListeners()
        } catch {
            logger.critical("\(error)")
            fail(1, "\(error)")
        }

        let i18nURL = node.worker(named: "i18n").flatMap { w in
            w.enabled ? w.listeners.first { $0.tcp != nil }?.tcp.map { "http://\($0.address):\($0.port)" } : nil
        }
        let info = VersionInfo(
            version: VossVersion.current, node: node.nodeName, pid: getpid(), startedAt: Date(), i18nURL: i18nURL)
        let adminPool = NIOThreadPool(numberOfThreads: 2)
        adminPool.start()
        let db = DatabaseManager(config: config, supervisor: supervisor, node: node)
        let gossip = await GossipService(node: node, config: config, box: box, group: group)
        let vip = VIPManager(config: config, gossip: gossip, supervisor: supervisor, nodeName: node.nodeName)
        let api = ControlAPI(
            token: token, config: config, supervisor: supervisor, node: node, info: info,
            admin: AdminForwarder(socket: node.worker(named: "s3").flatMap { $0.enabled ? $0.listeners.first { $0.name == "admin" }?.unix : nil }, pool: adminPool),
            db: db, gossip: gossip, vip: vip
        ).withRoutes()
        // The token is checked on the head, before any body is read: without it a caller can make
        // the keeper hold at most a few KiB (issue 11).
        let control = HTTPServer(
            group: group,
            configuration: .init(
                maxBodySize: 16 << 20, serverName: "voss-keeper",
                authorize: { head in token.verify(authorization: head.headers.first(name: "authorization")) })
        ) {
            await api.handle($0)
        }
        do {
            _ = try await control.serve(host: node.control.address, port: node.control.port)
        } catch {
            let msg = Message("keeper.control_bind_failed", "\(node.control.address):\(node.control.port)", "\(error)")
            logger.critical("\(msg.english)")
            fail(1, msg.english)
        }
        // The long-lived parts, started in this order and stopped in reverse (KeeperServices.swift).
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: ControlService(server: control)),
                    .init(service: SupervisorService(supervisor: supervisor, config: config, db: db, logger: logger)),
                    .init(service: GossipRunner(gossip: gossip, supervisor: supervisor, config: config)),
                    .init(service: VIPService(vip: vip, gossip: gossip, config: config)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))

        logger.notice(
            "voss-keeper \(VossVersion.current) starting",
            metadata: [
                "node": "\(node.nodeName)", "control": "\(node.control.address):\(node.control.port)",
                "etc": "\(node.paths.etc)", "dev": "\(node.dev)",
                "watchdog": "\(watchdog.map { "\($0.timeout)" } ?? "off")",
            ])

        // SIGTERM/SIGINT belong to the service group; these two the keeper handles itself.
        let signals = SignalWatcher([SIGHUP, SIGCHLD]) { sig in
            switch sig {
            case SIGCHLD:
                Task { await supervisor.reap() }
            default:
                Task {
                    logger.notice("SIGHUP: pushing configuration to every worker")
                    await supervisor.reload(await config.document)
                }
            }
        }
        do {
            try await services.run()
        } catch {
            logger.error("a keeper service failed", metadata: ["error": "\(error)"])
        }
        signals.cancel()
        logger.notice("voss-keeper stopped")
        exit(0)
    }

    /// A node without a certificate gets a self-signed one at first start, so HTTPS works at once
    /// (replace it with `ose cert gen` or `ose cert import`).
    static func ensureCertificate(config: ConfigStore, node: NodeConfig, logger: Logger) async {
        guard await config.document["cert.chain"] == nil else { return }
        var names = ["localhost", "127.0.0.1"]
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty && host != node.nodeName { names.append(host) }
        do {
            let bundle = try CertificateTools.generateSelfSigned(commonName: node.nodeName, extraNames: names)
            var rng = SystemRandomNumberGenerator()
            let secret = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
            try await config.set([
                ("cert.chain", bundle.chainPEM), ("cert.key", bundle.keyPEM), ("cert.secret", secret),
                ("cert.source", "generated"), ("cert.cn", node.nodeName),
            ])
            logger.notice("created a self-signed certificate for \(node.nodeName); replace it with 'ose cert gen' or 'ose cert import'")
        } catch {
            logger.error("cannot create a self-signed certificate: \(error)")
        }
    }

    static func fail(_ code: Int32, _ text: String) -> Never {
        FileHandle.standardError.write(Data("voss-keeper: \(text)\n".utf8))
        exit(code)
    }
}
