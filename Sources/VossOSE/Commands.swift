import Foundation
import VossBase
import VossCLI
import VossPosix
import VossWire

extension OSE {
    mutating func execute(_ p: Parsed) throws(OSEFailure) {
        switch p.command.path {
        case ["show"]:
            let (c, raw): (ConfigShow, [UInt8]) = try call(Routes.show, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.configShow(c, t), terminator: "")
        case ["args", "set"]:
            let k = p.value("--k")!
            let (a, raw): (ArgValue, [UInt8]) = try call(Routes.argSet, ["key": k], ArgSetRequest(value: p.value("--v")!))
            json ? emitJSON(raw) : print(t("args.set_done", a.key, a.value))
        case ["args", "get"]:
            let (a, raw): (ArgValue, [UInt8]) = try call(Routes.argGet, ["key": p.value("--k")!])
            json ? emitJSON(raw) : print(a.value)
        case ["args", "del"]:
            let k = p.value("--k")!
            let (_, raw): (ArgValue, [UInt8]) = try call(Routes.argDelete, ["key": k])
            json ? emitJSON(raw) : print(t("args.deleted", k))
        case ["args", "show"]:
            let (a, raw): (ArgList, [UInt8]) = try call(Routes.argsList)
            json ? emitJSON(raw) : print(Render.args(a, t), terminator: "")
        case ["service", "show"]:
            let (s, raw): (ServiceShow, [UInt8]) = try call(Routes.serviceShow)
            json ? emitJSON(raw) : print(Render.serviceShow(s, t), terminator: "")
        case ["service", "start"], ["service", "stop"], ["service", "restart"]:
            try service(p.command.path[1], p)
        case ["cert", "gen"]:
            let secret = try secret(p, confirm: true)
            var days: Int?
            if let d = p.value("--days") {
                guard let n = Int(d) else { throw OSEFailure(code: .usage, message: Message("value.integer_range", "1", "3650")) }
                days = n
            }
            let sans = p.value("--san").map { $0.split(separator: ",").map { String($0).trimmingWhitespace() } }
            let (c, raw): (CertInfo, [UInt8]) = try call(
                Routes.certGenerate,
                CertGenerateRequest(commonName: p.value("--cn")!, secret: secret, subjectAlternativeNames: sans, validityDays: days))
            if json { emitJSON(raw) } else {
                print(t("cert.generated"))
                print(Render.cert(c, t, now: Date()), terminator: "")
            }
        case ["cert", "import"]:
            let bytes = try readInput(p.value("--path")!, limit: 1 << 20)
            let secret = try secret(p, confirm: false)
            let (c, raw): (CertInfo, [UInt8]) = try call(
                Routes.certImport,
                CertImportRequest(pkcs12Base64: Data(bytes).base64EncodedString(), secret: secret, force: p.flag("--force")))
            if json { emitJSON(raw) } else {
                print(t("cert.imported"))
                print(Render.cert(c, t, now: Date()), terminator: "")
            }
        case ["cert", "show"]:
            let (c, raw): (CertInfo, [UInt8]) = try call(Routes.certShow, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.cert(c, t, now: Date()), terminator: "")
        case ["db", "set"]:
            let secret = try secret(p, confirm: false)
            let (d, raw): (DBInfo, [UInt8]) = try call(
                Routes.dbSet, DBSetRequest(url: p.value("--url")!, user: p.value("--user")!, secret: secret, force: p.flag("--force")))
            json ? emitJSON(raw) : print(Render.db(d, t), terminator: "")
        case let path where path.count == 3 && (path[0] == "cloudian" || path[0] == "ecs") && path[2] == "set":
            let kind = path[0], service = path[1]
            let withLogin = service == "admin" || service == "console"
            let body = VendorSetRequest(
                url: p.value("--url")!, user: withLogin ? p.value("--user") : nil, secret: withLogin ? try secret(p, confirm: false) : nil,
                region: p.value("--region"), force: p.flag("--force"))
            let route = kind == "ecs" ? Routes.ecsSet : Routes.cloudianSet
            let (info, raw): (VendorInfo, [UInt8]) = try call(route, ["service": service], body)
            json ? emitJSON(raw) : print(Render.vendor(info, t), terminator: "")
        case let path where path.count == 2 && (path[0] == "cloudian" || path[0] == "ecs") && path[1] == "show":
            let kind = path[0]
            let (info, raw): (VendorInfo, [UInt8]) = try call(kind == "ecs" ? Routes.ecsShow : Routes.cloudianShow, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.vendor(info, t), terminator: "")
        case ["director", "set"]:
            let secret = try secret(p, confirm: false)
            let (d, raw): (DirectorInfo, [UInt8]) = try call(
                Routes.directorSet,
                DirectorSetRequest(url: p.value("--url")!, user: p.value("--user")!, secret: secret, force: p.flag("--force"), insecure: p.flag("--insecure")))
            json ? emitJSON(raw) : print(Render.director(d, t), terminator: "")
        case ["director", "show"]:
            let (d, raw): (DirectorInfo, [UInt8]) = try call(Routes.directorShow, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.director(d, t), terminator: "")
        case ["ui", "install"]:
            let (u, raw): (UIPluginInfo, [UInt8]) = try call(Routes.uiInstall, UIInstallRequest(oseURL: p.value("--ose-url")!))
            json ? emitJSON(raw) : print(Render.uiPlugin(u, t), terminator: "")
        case ["ui", "uninstall"]:
            let (u, raw): (UIPluginInfo, [UInt8]) = try call(Routes.uiUninstall)
            json ? emitJSON(raw) : print(Render.uiPlugin(u, t), terminator: "")
        case ["ui", "show"]:
            let (u, raw): (UIPluginInfo, [UInt8]) = try call(Routes.uiShow)
            json ? emitJSON(raw) : print(Render.uiPlugin(u, t), terminator: "")
        case ["migration", "bucket", "start"]:
            let body = BucketMoveRequest(bucket: p.value("--bucket")!, to: p.value("--to")!, force: p.flag("--force"))
            var (m, _): (BucketMoveInfo, [UInt8]) = try call(Routes.bucketMoveStart, body)
            if !p.flag("--no-wait") {
                let tty = Terminal.isTTY(1) && !json
                while m.status == "RUNNING" {
                    if tty { FileHandle.standardOutput.write(Data("\r\(t("migration.progress", String(m.progress)))".utf8)) }
                    usleep(500_000)
                    let (list, _): (BucketMoveList, [UInt8]) = try call(Routes.bucketMoveList)
                    guard let now = list.moves.first(where: { $0.bucket == m.bucket }) else { break }
                    m = now
                }
                if tty { print("") }
            }
            json ? emitJSON(m) : print(Render.bucketMoves([m], t), terminator: "")
            if m.status == "FAILED" { throw OSEFailure(code: .error, message: Message("move.refused", m.error ?? "")) }
        case ["migration", "bucket", "show"]:
            let (list, raw): (BucketMoveList, [UInt8]) = try call(Routes.bucketMoveList)
            let shown = list.moves.filter { p.value("--bucket") == nil || $0.bucket == p.value("--bucket") }
            json ? emitJSON(raw) : print(Render.bucketMoves(shown, t), terminator: "")
        case ["encryption", "show"]:
            let (info, raw): (EncryptionInfo, [UInt8]) = try call(Routes.encryptionShow)
            json ? emitJSON(raw) : print(Render.encryption(info, t), terminator: "")
        case ["encryption", "rotate"]:
            let (r, raw): (EncryptionRotation, [UInt8]) = try call(Routes.encryptionRotate)
            if json { return emitJSON(raw) }
            print(t("encryption.rotated", r.added ?? "-", String(r.rewrapped), r.retired.isEmpty ? "-" : r.retired.joined(separator: ", ")))
            print(Render.encryption(r.info, t), terminator: "")
        case ["platforms", "show"]:
            let (info, raw): (PlatformsInfo, [UInt8]) = try call(Routes.platformsShow, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.platforms(info, t), terminator: "")
        case ["platforms", "enable"]:
            let (info, raw): (PlatformsInfo, [UInt8]) = try call(Routes.platformEnable, PlatformEnableRequest(name: p.value("--name")!))
            json ? emitJSON(raw) : print(Render.platforms(info, t), terminator: "")
        case ["platforms", "s3", "set"]:
            let secret = try secret(p, confirm: false)
            var quota: Int?
            if let q = p.value("--quota-gb") {
                guard let n = ASCIIDecimal.int(q), n > 0 else { throw OSEFailure(code: .usage, message: Message("value.integer_range", "1", "1000000000")) }
                quota = n
            }
            let body = PlatformSetRequest(
                url: p.value("--url")!, region: p.value("--region"), accessKey: p.value("--access-key")!, secret: secret,
                tenancy: p.value("--tenancy"), bucket: p.value("--bucket"), tlsVerify: p.flag("--no-tls-verify") ? false : nil,
                caFile: p.value("--ca-file"), quotaGB: quota, force: p.flag("--force"))
            let (info, raw): (PlatformsInfo, [UInt8]) = try call(Routes.platformSet, ["name": p.value("--name")!], body)
            json ? emitJSON(raw) : print(Render.platforms(info, t), terminator: "")
        case ["platforms", "s3", "delete"]:
            let (info, raw): (PlatformsInfo, [UInt8]) = try call(Routes.platformDelete, ["name": p.value("--name")!])
            json ? emitJSON(raw) : print(Render.platforms(info, t), terminator: "")
        case ["db", "show"]:
            let (d, raw): (DBInfo, [UInt8]) = try call(Routes.dbShow, query: secretQuery(p))
            json ? emitJSON(raw) : print(Render.db(d, t), terminator: "")
        case ["migration", "start"]:
            let (m, raw): (MigrationInfo, [UInt8]) = try call(Routes.migrationStart, MigrationStartRequest(force: p.flag("--force")))
            if json && p.flag("--no-wait") { return emitJSON(raw) }
            if !json { print(t("migration.started", m.id)) }
            if p.flag("--no-wait") { return print(Render.migration(m, t), terminator: "") }
            try waitForMigration(m)
        case ["migration", "show"]:
            let (m, raw): (MigrationInfo, [UInt8]) = try call(Routes.migrationShow)
            json ? emitJSON(raw) : print(Render.migration(m, t), terminator: "")
        case ["s3", "set"]:
            guard p.value("--domain") != nil || p.value("--region") != nil else {
                throw OSEFailure(code: .usage, message: Message("usage.s3_set_nothing"))
            }
            let (s, raw): (S3Settings, [UInt8]) = try call(Routes.s3Set, S3Settings(domain: p.value("--domain"), region: p.value("--region")))
            json ? emitJSON(raw) : print(Render.s3(s, t), terminator: "")
        case ["s3", "show"]:
            let (s, raw): (S3Settings, [UInt8]) = try call(Routes.s3Show)
            json ? emitJSON(raw) : print(Render.s3(s, t), terminator: "")
        case ["tenant", "create"]:
            let (x, raw): (TenantInfo, [UInt8]) = try call(Routes.tenantCreate, NameRequest(name: p.value("--name")!))
            json ? emitJSON(raw) : print(t("tenant.created", x.name, x.id))
        case ["tenant", "list"]:
            let (x, raw): (TenantList, [UInt8]) = try call(Routes.tenantList)
            json ? emitJSON(raw) : print(Render.tenants(x, t), terminator: "")
        case ["tenant", "delete"]:
            let n = p.value("--name")!
            let (_, raw): (Deleted, [UInt8]) = try call(Routes.tenantDelete, ["tenant": n])
            json ? emitJSON(raw) : print(t("tenant.deleted", n))
        case ["user", "create"]:
            let tn = p.value("--tenant")!
            let (x, raw): (UserInfo, [UInt8]) = try call(
                Routes.userCreate, ["tenant": tn], NameRequest(name: p.value("--name")!, role: p.value("--role")))
            json ? emitJSON(raw) : print(t("user.created", x.name, x.tenant, x.role))
        case ["user", "passwd"]:
            let tn = p.value("--tenant")!, n = p.value("--name")!
            let secret = try secret(p, confirm: true)
            let (_, raw): (UserInfo, [UInt8]) = try call(
                Routes.userPassword, ["tenant": tn, "user": n], PasswordRequest(password: secret, force: p.flag("--force")))
            json ? emitJSON(raw) : print(t("user.password_set", n, tn))
        case ["user", "list"]:
            let (x, raw): (UserList, [UInt8]) = try call(Routes.userList, ["tenant": p.value("--tenant")!])
            json ? emitJSON(raw) : print(Render.users(x, t), terminator: "")
        case ["user", "delete"]:
            let n = p.value("--name")!
            let (_, raw): (Deleted, [UInt8]) = try call(
                Routes.userDelete, ["tenant": p.value("--tenant")!, "user": n])
            json ? emitJSON(raw) : print(t("user.deleted", n))
        case ["key", "create"]:
            let (x, raw): (KeyInfo, [UInt8]) = try call(
                Routes.keyCreate, ["tenant": p.value("--tenant")!, "user": p.value("--user")!])
            json ? emitJSON(raw) : print(Render.keyCreated(x, t), terminator: "")
        case ["key", "list"]:
            let (x, raw): (KeyList, [UInt8]) = try call(
                Routes.keyList, ["tenant": p.value("--tenant")!, "user": p.value("--user")!])
            json ? emitJSON(raw) : print(Render.keys(x, t), terminator: "")
        case ["key", "delete"]:
            let k = p.value("--key")!
            let (_, raw): (Deleted, [UInt8]) = try call(Routes.keyDelete, ["key": k])
            json ? emitJSON(raw) : print(t("key.deleted", k))
        case ["vip", "set"]:
            guard let port = Int(p.value("--port")!), (1...65535).contains(port) else {
                throw OSEFailure(code: .usage, message: Message("value.port", p.value("--port")!))
            }
            let (v, raw): (VIPInfo, [UInt8]) = try call(
                Routes.vipSet,
                VIPSetRequest(
                    address: p.value("--address")!, port: port, interface: p.value("--interface"), own: p.flag("--own"),
                    target: p.value("--target"), proxyProtocol: p.flag("--proxy-protocol")))
            json ? emitJSON(raw) : print(Render.vip(v, t), terminator: "")
        case ["vip", "show"]:
            let (v, raw): (VIPInfo, [UInt8]) = try call(Routes.vipShow)
            json ? emitJSON(raw) : print(Render.vip(v, t), terminator: "")
        case ["vip", "disable"]:
            let (v, raw): (VIPInfo, [UInt8]) = try call(Routes.vipDisable)
            json ? emitJSON(raw) : print(Render.vip(v, t), terminator: "")
        case ["cluster", "show"]:
            let (c, raw): (ClusterView, [UInt8]) = try call(Routes.clusterShow)
            json ? emitJSON(raw) : print(Render.cluster(c, t), terminator: "")
        case ["cluster", "token"]:
            let (c, raw): (ClusterToken, [UInt8]) = try call(Routes.clusterToken, query: p.value("--label").map { [("label", $0)] } ?? [])
            json ? emitJSON(raw) : print(c.token)
        case ["cluster", "join"]:
            let (c, raw): (ClusterView, [UInt8]) = try call(
                Routes.clusterJoin, ClusterJoinRequest(seed: p.value("--seed"), token: p.value("--token")!))
            if json { emitJSON(raw) } else {
                print(t("cluster.joined", c.label, String(c.members.count)))
                print(Render.cluster(c, t), terminator: "")
            }
        case ["cluster", "leave"]:
            let (c, raw): (ClusterView, [UInt8]) = try call(Routes.clusterLeave, NoBody())
            json ? emitJSON(raw) : print(t("cluster.left", c.node))
        case ["config", "export"]:
            let path = p.value("--file")!
            let secret = try secret(p, confirm: true)
            let (x, _): (ConfigExportResponse, [UInt8]) = try call(
                Routes.configExport, ConfigExportRequest(secret: secret, force: p.flag("--force")))
            guard let bytes = Data(base64Encoded: x.file) else {
                throw OSEFailure(code: .error, message: Message("api.bad_body", "file"))
            }
            do {
                try Files.writeAtomically(Array(bytes), to: path, mode: 0o600)
            } catch {
                throw OSEFailure(code: .error, message: Message("error.file_unwritable", path, error.reason))
            }
            if json {
                struct Exported: Encodable {
                    var file: String
                    var entries: Int
                }
                emitJSON(Array((try? JSONEncoder().encode(Exported(file: path, entries: x.entries))) ?? Data()))
            } else {
                print(t("config.exported", String(x.entries), path))
            }
        case ["config", "import"]:
            let bytes = try readInput(p.value("--file")!, limit: 64 << 20)
            let secret = try secret(p, confirm: false)
            let (x, raw): (ConfigImportResponse, [UInt8]) = try call(
                Routes.configImport, ConfigImportRequest(file: Data(bytes).base64EncodedString(), secret: secret))
            json ? emitJSON(raw) : print(t("config.imported", String(x.entries), x.exportedBy, String(x.changed.count)))
        default:
            throw OSEFailure(code: .usage, message: Message("usage.unknown_command", p.command.name))
        }
    }

    /// A file the command sends to the keeper (a keystore, an exported configuration).
    func readInput(_ path: String, limit: Int) throws(OSEFailure) -> [UInt8] {
        do {
            guard let b = try Files.read(path, limit: limit) else {
                throw OSEFailure(code: .error, message: Message("error.file_missing", path))
            }
            return b
        } catch let e as OSEFailure {
            throw e
        } catch {
            throw OSEFailure(code: .error, message: Message("error.file_unreadable", path, (error as? PosixError)?.reason ?? "\(error)"))
        }
    }

    /// Follows a migration task to its end, with a progress line on a terminal; fails (exit 1) when
    /// the task does.
    mutating func waitForMigration(_ start: MigrationInfo) throws(OSEFailure) {
        var m = start
        var raw: [UInt8] = []
        let tty = Terminal.isTTY(1) && !json
        while m.status == "RUNNING" {
            if tty { FileHandle.standardOutput.write(Data("\r\(t("migration.progress", String(m.progress)))".utf8)) }
            usleep(500_000)
            (m, raw) = try call(Routes.migrationShow)
        }
        if tty { print("") }
        json ? emitJSON(raw) : print(Render.migration(m, t), terminator: "")
        if m.status != "COMPLETED" { throw OSEFailure(code: .error, message: m.error ?? Message("migration.failed")) }
    }

    func secretQuery(_ p: Parsed) -> [(String, String)] { p.flag("--with-secret") ? [("withSecret", "true")] : [] }

    /// `service start|stop|restart`: ask, then wait (with progress on a terminal) until the workers
    /// settle, unless `--no-wait`.
    mutating func service(_ verb: String, _ p: Parsed) throws(OSEFailure) {
        let body = ServiceRequest(debug: p.flag("--debug") ? true : nil, worker: p.value("--worker"))
        var (s, raw): (ServiceShow, [UInt8]) = try call(Routes.serviceControl, ["verb": verb], body)
        if !p.flag("--no-wait") {
            let deadline = ContinuousClock.now + .seconds(90)
            let tty = Terminal.isTTY(2) && !json
            var lastLine = ""
            while ContinuousClock.now < deadline {
                let settled: Bool
                let targets = s.workers.filter { p.value("--worker") == nil || $0.name == p.value("--worker") }
                if verb == "stop" {
                    settled = targets.allSatisfy { $0.state == "stopped" || $0.state == "FAILED" }
                } else {
                    settled = targets.allSatisfy { $0.state == "running" || $0.state == "FAILED" }
                        && !(verb == "restart" && targets.contains { $0.state == "stopping" })
                }
                if settled { break }
                if tty {
                    let ready = targets.filter { $0.state == "running" }.count
                    let line = t("service.waiting", String(ready), String(targets.count))
                    if line != lastLine {
                        FileHandle.standardError.write(Data((line + "\n").utf8))
                        lastLine = line
                    }
                }
                Thread.sleep(forTimeInterval: 0.2)
                (s, raw) = try call(Routes.serviceShow)
            }
        }
        if json {
            emitJSON(raw)
        } else {
            print(t("service.\(verb)_done"))
            print(Render.serviceShow(s, t), terminator: "")
        }
        if verb != "stop" && s.workers.contains(where: { $0.state == "FAILED" && (p.value("--worker") == nil || $0.name == p.value("--worker")) }) {
            throw OSEFailure(code: .error, message: Message("service.some_failed"))
        }
    }

    mutating func version(_ g: GlobalOptions) -> Int32 {
        struct Both: Encodable {
            var ose: String
            var keeper: VersionInfo?
        }
        let info: VersionInfo? = try? get(Routes.version.path(), timeout: .seconds(3))
        if json {
            emitJSON(Both(ose: VossVersion.current, keeper: info))
        } else {
            print("ose \(VossVersion.current)")
            if let info {
                print(t("version.keeper", info.version, info.node, "\(target.host):\(target.port)"))
            } else {
                print(t("version.keeper_unreachable", "\(target.host):\(target.port)"))
            }
        }
        return 0
    }
}

