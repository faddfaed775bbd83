import VossBase

/// Typed, read-only views of the `ConfigDocument`, one struct per section, with the defaults VOSS uses
/// when a key is unset. The document stays the source of truth (it carries the version stamps).
public struct VossSettings: Equatable, Sendable {
    public struct Certificate: Equatable, Sendable {
        public var chainPEM: String?
        public var keyPEM: String?
        public var secret: String?
        public var source: String?
        public var commonName: String?
        public var isConfigured: Bool { chainPEM != nil && keyPEM != nil }
    }

    /// Supervision tunables from `args` (`worker.*`), already validated when set.
    public struct Supervision: Equatable, Sendable {
        public var maxRestarts = 5
        public var restartPeriod: Duration = .seconds(60)
        public var pingInterval: Duration = .seconds(1)
        public var missedPongs = 3
        public var stopTimeout: Duration = .seconds(10)
        public var readyTimeout: Duration = .seconds(30)
        public var failedRetryAfter: Duration = .seconds(300)
    }

    public var cert = Certificate()
    public var supervision = Supervision()
    public var args: [String: String] = [:]

    public init() {}

    public init(_ doc: ConfigDocument) {
        cert.chainPEM = doc["cert.chain"]
        cert.keyPEM = doc["cert.key"]
        cert.secret = doc["cert.secret"]
        cert.source = doc["cert.source"]
        cert.commonName = doc["cert.cn"]
        for (k, v) in doc.values(withPrefix: "args.") { args[String(k.dropFirst(5))] = v }
        if let v = args["worker.restart.max"].flatMap({ Int($0) }) { supervision.maxRestarts = v }
        if let v = args["worker.restart.period"].flatMap({ Duration(parsing: $0) }) { supervision.restartPeriod = v }
        if let v = args["worker.ping.interval"].flatMap({ Duration(parsing: $0) }) { supervision.pingInterval = v }
        if let v = args["worker.ping.missed"].flatMap({ Int($0) }) { supervision.missedPongs = v }
        if let v = args["worker.stop.timeout"].flatMap({ Duration(parsing: $0) }) { supervision.stopTimeout = v }
        if let v = args["worker.ready.timeout"].flatMap({ Duration(parsing: $0) }) { supervision.readyTimeout = v }
        if let v = args["worker.failed.retry"].flatMap({ Duration(parsing: $0) }) { supervision.failedRetryAfter = v }
    }
}
