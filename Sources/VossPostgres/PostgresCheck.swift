import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import VossBase
import VossConfig
import VossS3Store

/// What went wrong talking to one PostgreSQL server, in the operator's terms.
public enum PostgresProblem: Equatable, Sendable {
    case unreachable(String)
    case authentication(String)
    case databaseMissing(String)
    case tls(String)
    case timeout
    case server(state: String, message: String)
    case other(String)

    public init(_ error: any Error) {
        if error is PostgresBackend.Deadline {
            self = .timeout
            return
        }
        if case .unavailable(let m) = error as? StoreError {
            self = .unreachable(m)
            return
        }
        guard let p = error as? PSQLError else {
            self = .unreachable(Self.describe(error))
            return
        }
        if p.code == .server, let state = p.serverInfo?[.sqlState] {
            let message = p.serverInfo?[.message] ?? ""
            switch state {
            case "28P01", "28000": self = .authentication(message)
            case "3D000": self = .databaseMissing(message)
            case "57P03", "53300": self = .unreachable(message)
            default: self = .server(state: state, message: message)
            }
            return
        }
        switch p.code {
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            self = .authentication("\(p.code)")
        case .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
            self = .tls(p.underlying.map(Self.describe) ?? "\(p.code)")
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            if let u = p.underlying, "\(type(of: u))".contains("SSL") {
                self = .tls(Self.describe(u))
            } else {
                self = .unreachable(p.underlying.map(Self.describe) ?? "\(p.code)")
            }
        default:
            self = .other("\(p.code)")
        }
    }

    static func describe(_ e: any Error) -> String {
        if let io = e as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let c = e as? NIOConnectionError {
            if let first = c.connectionErrors.first { return describe(first.error) }
            if c.dnsAError != nil || c.dnsAAAAError != nil { return "the host name does not resolve" }
        }
        if e is ChannelError, "\(e)".contains("connectTimeout") { return "connection timed out" }
        return "\(e)"
    }

    public var summary: String {
        switch self {
        case .unreachable(let d): "unreachable (\(d))"
        case .authentication(let d): "authentication failed (\(d))"
        case .databaseMissing(let d): "database missing (\(d))"
        case .tls(let d): "TLS failed (\(d))"
        case .timeout: "no answer in time"
        case .server(let s, let m): "\(m) (SQLSTATE \(s))"
        case .other(let d): d
        }
    }
}

/// The result of `ose db set`'s connection check.
public struct PostgresCheckReport: Sendable {
    /// Problems that make the settings unusable (empty: usable).
    public var errors: [Message] = []
    /// What was found (the writable host, server version), for the operator.
    public var notes: [Message] = []
    public var primary: PostgresURL.Host?
    public var serverVersion: String?

    public var ok: Bool { errors.isEmpty }
}

extension PostgresBackend {
    /// Checks `target` as `ose db set` must before saving: every host is reachable and accepts the
    /// credentials, the database exists, one host is writable, the server is 9.5 or newer and
    /// UTF-8, and the user may create tables there.
    public static func check(_ target: PostgresTarget, logger: Logger = Logger(label: "voss.postgres.check")) -> PostgresCheckReport {
        var report = PostgresCheckReport()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try Self.tls(target.url)
        } catch {
            report.errors.append(Message("db.check_tls", target.url.hosts.first?.description ?? "", "\(error)"))
            return report
        }
        let timeout = TimeAmount.seconds(Int64(target.url.connectTimeout))
        var primary: PostgresConnection?
        for host in target.url.hosts {
            var config = PostgresConnection.Configuration(
                host: host.name, port: host.port, username: target.user, password: target.password,
                database: target.url.database, tls: tls)
            config.options.connectTimeout = timeout
            config.options.additionalStartupParameters = [("application_name", "voss-check")]
            do {
                let c = try wait(PostgresConnection.connect(on: group.next(), configuration: config, id: 0, logger: logger), timeout + .seconds(1))
                let ro = try wait(c.query(PostgresQuery(unsafeSQL: "SHOW transaction_read_only"), logger: logger), timeout)
                if primary == nil, try ro.rows.first?.decode(String.self) == "off" {
                    primary = c
                    report.primary = host
                } else {
                    _ = try? wait(c.close(), .seconds(1))
                }
            } catch {
                switch PostgresProblem(error) {
                case .unreachable(let d): report.errors.append(Message("db.check_unreachable", host.description, d))
                case .timeout: report.errors.append(Message("db.check_unreachable", host.description, "no answer within \(target.url.connectTimeout) s"))
                case .authentication: report.errors.append(Message("db.check_auth", host.description, target.user))
                case .databaseMissing: report.errors.append(Message("db.check_database", host.description, target.url.database))
                case .tls(let d): report.errors.append(Message("db.check_tls", host.description, d))
                case let p: report.errors.append(Message("db.check_other", host.description, p.summary))
                }
            }
        }
        guard let c = primary else {
            if report.errors.isEmpty { report.errors.append(Message("db.check_no_primary", target.url.hosts.map(\.description).joined(separator: ", "))) }
            return report
        }
        defer { _ = try? wait(c.close(), .seconds(1)) }
        func one(_ sql: String) throws -> String {
            let r = try wait(c.query(PostgresQuery(unsafeSQL: sql), logger: logger), timeout + .seconds(5))
            return try r.rows.first?.decode(String.self) ?? ""
        }
        let host = report.primary!.description
        do {
            let num = Int(try one("SHOW server_version_num")) ?? 0
            let version = try one("SHOW server_version")
            report.serverVersion = version
            if num < 90500 { report.errors.append(Message("db.check_version", host, version)) }
            let encoding = try one("SHOW server_encoding")
            if encoding.uppercased() != "UTF8" { report.errors.append(Message("db.check_encoding", host, encoding)) }
            // The schema is created and migrated by VOSS itself: try it, leaving nothing behind.
            _ = try one("BEGIN")
            do {
                _ = try one("CREATE TABLE voss_permission_probe(id BIGINT PRIMARY KEY)")
                _ = try one("CREATE INDEX voss_permission_probe_i ON voss_permission_probe(id)")
            } catch {
                _ = try? one("ROLLBACK")
                throw error
            }
            _ = try one("ROLLBACK")
            report.notes.append(Message("db.check_ok", host, version))
        } catch {
            if case .server(let state, let message) = PostgresProblem(error), state == "42501" {
                report.errors.append(Message("db.check_create", target.user, target.url.database, message))
            } else {
                report.errors.append(Message("db.check_other", host, PostgresProblem(error).summary))
            }
        }
        return report
    }
}
