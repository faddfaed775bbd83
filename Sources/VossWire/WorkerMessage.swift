#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One message on the keeper↔worker socketpair. On the wire:
/// `{"type": "...", "id": N, "body": {...}}` inside a length-prefixed frame (see `FrameCodec`).
public struct WorkerEnvelope: Equatable, Sendable {
    public var id: UInt64
    public var message: WorkerMessage

    public init(id: UInt64, message: WorkerMessage) {
        self.id = id
        self.message = message
    }
}

public enum WorkerMessage: Equatable, Sendable {
    /// worker → keeper, first message: who is speaking.
    case hello(Hello)
    /// keeper → worker: the worker's slice of the configuration (also sent again on change).
    case config(ConfigSlice)
    /// worker → keeper: serving.
    case ready(Ready)
    /// keeper → worker: liveness probe of the worker's event loops.
    case ping(seq: UInt64)
    /// worker → keeper: answer to `ping`, with counters.
    case pong(Pong)
    /// keeper → worker: apply this configuration without restarting if possible.
    case reload(ConfigSlice)
    /// keeper → worker: change the log level (`trace`…`critical`).
    case logLevel(String)
    /// keeper → worker: stop accepting new work; finish what is in flight within the grace period.
    case drain(graceMilliseconds: Int64)
    /// keeper → worker: drain, then exit 0.
    case stop(graceMilliseconds: Int64)
    /// worker → keeper: free text for `ose service show`.
    case status(String)
    /// worker → keeper: answer to a `reload` (error text when it could not be applied).
    case reloaded(version: String, error: String?)

    public var type: String {
        switch self {
        case .hello: "hello"
        case .config: "config"
        case .ready: "ready"
        case .ping: "ping"
        case .pong: "pong"
        case .reload: "reload"
        case .logLevel: "log-level"
        case .drain: "drain"
        case .stop: "stop"
        case .status: "status"
        case .reloaded: "reloaded"
        }
    }
}

public struct Hello: Codable, Equatable, Sendable {
    public var name: String
    public var pid: Int32
    public var version: String
    public var protocolVersion: Int

    public init(name: String, pid: Int32, version: String, protocolVersion: Int) {
        self.name = name
        self.pid = pid
        self.version = version
        self.protocolVersion = protocolVersion
    }
}

/// The worker's slice of the configuration: flat string keys (`log.level`, `peer.i18n.socket`,
/// `s3.domain`, ...). Each worker reads the keys it knows and ignores the rest.
public struct ConfigSlice: Codable, Equatable, Sendable {
    public var version: String
    public var values: [String: String]

    public init(version: String, values: [String: String]) {
        self.version = version
        self.values = values
    }
}

public struct Ready: Codable, Equatable, Sendable {
    public var addresses: [String]
    public init(addresses: [String]) { self.addresses = addresses }
}

public struct Pong: Codable, Equatable, Sendable {
    public var seq: UInt64
    /// Counters since the worker started: `requests`, `connections`, `errors`, worker-specific extras.
    public var counters: [String: Int64]

    public init(seq: UInt64, counters: [String: Int64] = [:]) {
        self.seq = seq
        self.counters = counters
    }
}

public struct WireError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension WorkerEnvelope {
    private struct Raw: Codable {
        var type: String
        var id: UInt64
        var body: Body?
    }

    /// Every body field any message uses; the `type` says which are meaningful.
    private struct Body: Codable {
        var name: String?
        var pid: Int32?
        var version: String?
        var protocolVersion: Int?
        var values: [String: String]?
        var addresses: [String]?
        var seq: UInt64?
        var counters: [String: Int64]?
        var level: String?
        var graceMilliseconds: Int64?
        var text: String?
        var error: String?
    }

    public func encode() -> [UInt8] {
        var b = Body()
        switch message {
        case .hello(let h):
            b.name = h.name; b.pid = h.pid; b.version = h.version; b.protocolVersion = h.protocolVersion
        case .config(let c), .reload(let c):
            b.version = c.version; b.values = c.values
        case .ready(let r):
            b.addresses = r.addresses
        case .ping(let seq):
            b.seq = seq
        case .pong(let p):
            b.seq = p.seq; b.counters = p.counters
        case .logLevel(let l):
            b.level = l
        case .drain(let g), .stop(let g):
            b.graceMilliseconds = g
        case .status(let t):
            b.text = t
        case .reloaded(let v, let e):
            b.version = v; b.error = e
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding these plain structs cannot fail.
        let data = (try? encoder.encode(Raw(type: message.type, id: id, body: b))) ?? Data()
        return Array(data)
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> WorkerEnvelope {
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: Data(bytes))
        } catch {
            throw WireError("malformed IPC message: \(error)")
        }
        let b = raw.body ?? Body()
        func need<T>(_ v: T?, _ field: String) throws(WireError) -> T {
            guard let v else { throw WireError("IPC message '\(raw.type)' lacks body.\(field)") }
            return v
        }
        let message: WorkerMessage
        switch raw.type {
        case "hello":
            message = .hello(
                Hello(
                    name: try need(b.name, "name"), pid: try need(b.pid, "pid"),
                    version: try need(b.version, "version"),
                    protocolVersion: try need(b.protocolVersion, "protocolVersion")))
        case "config":
            message = .config(ConfigSlice(version: try need(b.version, "version"), values: b.values ?? [:]))
        case "reload":
            message = .reload(ConfigSlice(version: try need(b.version, "version"), values: b.values ?? [:]))
        case "ready":
            message = .ready(Ready(addresses: b.addresses ?? []))
        case "ping":
            message = .ping(seq: try need(b.seq, "seq"))
        case "pong":
            message = .pong(Pong(seq: try need(b.seq, "seq"), counters: b.counters ?? [:]))
        case "log-level":
            message = .logLevel(try need(b.level, "level"))
        case "drain":
            message = .drain(graceMilliseconds: try need(b.graceMilliseconds, "graceMilliseconds"))
        case "stop":
            message = .stop(graceMilliseconds: try need(b.graceMilliseconds, "graceMilliseconds"))
        case "status":
            message = .status(try need(b.text, "text"))
        case "reloaded":
            message = .reloaded(version: try need(b.version, "version"), error: b.error)
        default:
            throw WireError("unknown IPC message type '\(raw.type)'")
        }
        return WorkerEnvelope(id: raw.id, message: message)
    }
}
