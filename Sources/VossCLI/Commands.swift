/// The `ose` command set (SPEC.md §4) as data: the parser, the help and the docs are all made from this
/// table, so a command cannot exist without its help.
public struct OptionSpec: Sendable, Equatable {
    public var name: String
    /// `nil` for a flag; otherwise the placeholder shown in help (`KEY`, `FILE`).
    public var valueName: String?
    public var required: Bool
    /// Catalog key of the one-line description.
    public var helpKey: String
    /// Other spellings (`--username` for `--user`).
    public var aliases: [String]

    public init(_ name: String, _ valueName: String? = nil, required: Bool = false, help: String, aliases: [String] = []) {
        self.name = name
        self.valueName = valueName
        self.required = required
        self.helpKey = help
        self.aliases = aliases
    }

    public var isFlag: Bool { valueName == nil }
}

public struct CommandSpec: Sendable, Equatable {
    public var path: [String]
    public var summaryKey: String
    public var options: [OptionSpec]
    /// Example invocations for the command's help.
    public var examples: [String]
    /// The command takes a secret (`--secret`, `--secret-file`, prompt).
    public var takesSecret: Bool

    public init(_ path: [String], summary: String, options: [OptionSpec] = [], examples: [String] = [], takesSecret: Bool = false) {
        self.path = path
        self.summaryKey = summary
        self.options = options
        self.examples = examples
        self.takesSecret = takesSecret
    }

    public var name: String { path.joined(separator: " ") }

    /// `args set --k KEY --v VALUE [--json]`
    public var usage: String {
        var parts = ["ose"] + path
        for o in options {
            let text = o.isFlag ? o.name : "\(o.name) \(o.valueName!)"
            parts.append(o.required ? text : "[\(text)]")
        }
        return parts.joined(separator: " ")
    }
}

public enum CommandTable {
    static let withSecret = OptionSpec("--with-secret", help: "opt.with_secret")
    static let secret = OptionSpec("--secret", "SECRET", help: "opt.secret")
    static let secretFile = OptionSpec("--secret-file", "FILE", help: "opt.secret_file")
    static let force = OptionSpec("--force", help: "opt.force")
    static let worker = OptionSpec("--worker", "NAME", help: "opt.worker")
    static let debug = OptionSpec("--debug", help: "opt.debug")
    static let noWait = OptionSpec("--no-wait", help: "opt.no_wait")
    static let tenant = OptionSpec("--tenant", "TENANT", required: true, help: "opt.tenant")
    static let user = OptionSpec("--user", "USER", required: true, help: "opt.user")

    public static let commands: [CommandSpec] = [
        CommandSpec(["show"], summary: "cmd.show", options: [withSecret]),
        CommandSpec(
            ["args", "set"], summary: "cmd.args.set",
            options: [OptionSpec("--k", "KEY", required: true, help: "opt.k"), OptionSpec("--v", "VALUE", required: true, help: "opt.v")],
            examples: ["ose args set --k worker.restart.max --v 10"]),
        CommandSpec(["args", "get"], summary: "cmd.args.get", options: [OptionSpec("--k", "KEY", required: true, help: "opt.k")]),
        CommandSpec(["args", "del"], summary: "cmd.args.del", options: [OptionSpec("--k", "KEY", required: true, help: "opt.k")]),
        CommandSpec(["args", "show"], summary: "cmd.args.show"),
        CommandSpec(["service", "start"], summary: "cmd.service.start", options: [debug, worker, noWait]),
        CommandSpec(["service", "stop"], summary: "cmd.service.stop", options: [worker]),
        CommandSpec(["service", "restart"], summary: "cmd.service.restart", options: [debug, worker, noWait]),
        CommandSpec(["service", "show"], summary: "cmd.service.show"),
        CommandSpec(
            ["cert", "gen"], summary: "cmd.cert.gen",
            options: [
                OptionSpec("--cn", "CN", required: true, help: "opt.cn"), secret, secretFile,
                OptionSpec("--san", "NAME[,NAME]", help: "opt.san"), OptionSpec("--days", "DAYS", help: "opt.days"),
            ],
            examples: ["ose cert gen --cn s3.example.com --san '*.s3.example.com'"], takesSecret: true),
        CommandSpec(
            ["cert", "import"], summary: "cmd.cert.import",
            options: [OptionSpec("--path", "FILE.p12", required: true, help: "opt.path"), secret, secretFile, force],
            examples: ["ose cert import --path /root/voss.p12"], takesSecret: true),
        CommandSpec(["cert", "show"], summary: "cmd.cert.show", options: [withSecret]),
        CommandSpec(
            ["db", "set"], summary: "cmd.db.set",
            options: [
                OptionSpec("--url", "JDBC-URL", required: true, help: "opt.db_url"),
                OptionSpec("--user", "USER", required: true, help: "opt.db_user", aliases: ["--username"]), secret, secretFile, force,
            ],
            examples: [
                "ose db set --url jdbc:postgresql://db.example.com:5432/voss --user voss",
                "ose db set --url 'jdbc:postgresql://pg1:5432,pg2:5432/voss?sslmode=require' --user voss --secret-file /root/pg.pw",
            ], takesSecret: true),
        CommandSpec(["db", "show"], summary: "cmd.db.show", options: [withSecret]),
        CommandSpec(
            ["migration", "start"], summary: "cmd.migration.start", options: [force, noWait],
            examples: ["ose migration start", "ose migration start --force --no-wait"]),
        CommandSpec(["migration", "show"], summary: "cmd.migration.show"),
        CommandSpec(
            ["migration", "bucket", "start"], summary: "cmd.migration.bucket.start",
            options: [
                OptionSpec("--bucket", "BUCKET", required: true, help: "opt.move_bucket"),
                OptionSpec("--to", "PLATFORM", required: true, help: "opt.move_to"), force, noWait,
            ],
            examples: ["ose migration bucket start --bucket photos --to ceph1", "ose migration bucket start --bucket photos --to local --force --no-wait"]),
        CommandSpec(
            ["migration", "bucket", "show"], summary: "cmd.migration.bucket.show",
            options: [OptionSpec("--bucket", "BUCKET", help: "opt.move_bucket")]),
        CommandSpec(
            ["s3", "set"], summary: "cmd.s3.set",
            options: [OptionSpec("--domain", "DOMAIN", help: "opt.s3_domain"), OptionSpec("--region", "REGION", help: "opt.region")],
            examples: ["ose s3 set --domain example.com --region us-east-1"]),
        CommandSpec(["s3", "show"], summary: "cmd.s3.show"),
        CommandSpec(
            ["cloudian", "admin", "set"], summary: "cmd.cloudian.admin.set",
            options: [
                OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"),
                OptionSpec("--user", "USER", required: true, help: "opt.vendor_user", aliases: ["--username"]), secret, secretFile, force,
            ],
            examples: ["ose cloudian admin set --url https://object-storage.acme.com:19443 --user sysadmin"],
            takesSecret: true),
        CommandSpec(
            ["cloudian", "s3", "set"], summary: "cmd.cloudian.s3.set",
            options: [OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"), OptionSpec("--region", "REGION", help: "opt.platform_region")],
            examples: ["ose cloudian s3 set https://object-storage.acme.com:443"]),
        CommandSpec(
            ["cloudian", "iam", "set"], summary: "cmd.cloudian.iam.set",
            options: [OptionSpec("--url", "URL", required: true, help: "opt.vendor_url")],
            examples: ["ose cloudian iam set https://object-storage.acme.com:16443"]),
        CommandSpec(
            ["cloudian", "console", "set"], summary: "cmd.cloudian.console.set",
            options: [
                OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"),
                OptionSpec("--user", "USER", required: true, help: "opt.vendor_user", aliases: ["--username"]), secret, secretFile, force,
            ],
            examples: ["ose cloudian console set --url https://object-storage.acme.com:8443 --user admin"],
            takesSecret: true),
        CommandSpec(["cloudian", "show"], summary: "cmd.cloudian.show", options: [withSecret]),
        CommandSpec(
            ["director", "set"], summary: "cmd.director.set",
            options: [
                OptionSpec("--url", "URL", required: true, help: "opt.director_url"),
                OptionSpec("--user", "USER@system", required: true, help: "opt.director_user", aliases: ["--username"]), secret, secretFile, force,
                OptionSpec("--insecure", help: "opt.director_insecure"),
            ],
            examples: ["ose director set --url https://vcd.example.com --user administrator@system"],
            takesSecret: true),
        CommandSpec(["director", "show"], summary: "cmd.director.show", options: [withSecret]),
        CommandSpec(
            ["ui", "install"], summary: "cmd.ui.install", options: [OptionSpec("--ose-url", "URL", required: true, help: "opt.ose_url")],
            examples: ["ose ui install --ose-url https://s3.example.com"]),
        CommandSpec(["ui", "uninstall"], summary: "cmd.ui.uninstall"),
        CommandSpec(["ui", "show"], summary: "cmd.ui.show"),
        CommandSpec(
            ["ecs", "admin", "set"], summary: "cmd.ecs.admin.set",
            options: [
                OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"),
                OptionSpec("--user", "USER", required: true, help: "opt.vendor_user", aliases: ["--username"]), secret, secretFile, force,
            ],
            examples: ["ose ecs admin set --url https://object-storage.acme.com:4443 --user sysadmin"],
            takesSecret: true),
        CommandSpec(
            ["ecs", "s3", "set"], summary: "cmd.ecs.s3.set",
            options: [OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"), OptionSpec("--region", "REGION", help: "opt.platform_region")],
            examples: ["ose ecs s3 set https://object-storage.acme.com:443"]),
        CommandSpec(
            ["ecs", "console", "set"], summary: "cmd.ecs.console.set",
            options: [
                OptionSpec("--url", "URL", required: true, help: "opt.vendor_url"),
                OptionSpec("--user", "USER", required: true, help: "opt.vendor_user", aliases: ["--username"]), secret, secretFile, force,
            ],
            examples: ["ose ecs console set --url https://object-storage.acme.com:8443 --user admin"],
            takesSecret: true),
        CommandSpec(["ecs", "show"], summary: "cmd.ecs.show", options: [withSecret]),
        CommandSpec(["platforms", "show"], summary: "cmd.platforms.show", options: [withSecret]),
        CommandSpec(["encryption", "show"], summary: "cmd.encryption.show", examples: ["ose encryption show", "ose --json encryption show"]),
        CommandSpec(["encryption", "rotate"], summary: "cmd.encryption.rotate", examples: ["ose encryption rotate"]),
        CommandSpec(
            ["platforms", "enable"], summary: "cmd.platforms.enable",
            options: [OptionSpec("--name", "NAME", required: true, help: "opt.platform_name")],
            examples: ["ose platforms enable ceph1", "ose platforms enable local"]),
        CommandSpec(
            ["platforms", "s3", "set"], summary: "cmd.platforms.s3.set",
            options: [
                OptionSpec("--name", "NAME", required: true, help: "opt.platform_name"),
                OptionSpec("--url", "URL", required: true, help: "opt.platform_url"),
                OptionSpec("--access-key", "KEY", required: true, help: "opt.platform_access_key"), secret, secretFile,
                OptionSpec("--region", "REGION", help: "opt.platform_region"),
                OptionSpec("--tenancy", "provisioned|shared", help: "opt.platform_tenancy"),
                OptionSpec("--bucket", "BUCKET", help: "opt.platform_bucket"),
                OptionSpec("--ca-file", "FILE", help: "opt.platform_ca_file"),
                OptionSpec("--no-tls-verify", help: "opt.platform_no_tls_verify"),
                OptionSpec("--quota-gb", "GB", help: "opt.platform_quota"), force,
            ],
            examples: [
                "ose platforms s3 set --name ceph1 --url http://rgw.example.com:7480 --access-key ADMINKEY --secret-file /root/rgw.secret --region default",
                "ose platforms s3 set --name minio --url https://minio.example.com --access-key KEY --tenancy shared --bucket voss-data",
            ], takesSecret: true),
        CommandSpec(
            ["platforms", "s3", "delete"], summary: "cmd.platforms.s3.delete",
            options: [OptionSpec("--name", "NAME", required: true, help: "opt.platform_name")]),
        CommandSpec(["tenant", "create"], summary: "cmd.tenant.create", options: [OptionSpec("--name", "NAME", required: true, help: "opt.tenant_name")]),
        CommandSpec(["tenant", "list"], summary: "cmd.tenant.list"),
        CommandSpec(["tenant", "delete"], summary: "cmd.tenant.delete", options: [OptionSpec("--name", "NAME", required: true, help: "opt.tenant_name")]),
        CommandSpec(
            ["user", "create"], summary: "cmd.user.create",
            options: [
                tenant, OptionSpec("--name", "NAME", required: true, help: "opt.user_name"),
                OptionSpec("--role", "ROLE", help: "opt.role"),
            ],
            examples: ["ose user create --tenant acme --name alice --role tenant-admin"]),
        CommandSpec(
            ["user", "passwd"], summary: "cmd.user.passwd",
            options: [tenant, OptionSpec("--name", "NAME", required: true, help: "opt.user_name"), secret, secretFile, force],
            examples: ["ose user passwd --tenant acme --name alice", "ose user passwd --tenant acme --name alice --secret-file /root/alice.pw"],
            takesSecret: true),
        CommandSpec(["user", "list"], summary: "cmd.user.list", options: [tenant]),
        CommandSpec(["user", "delete"], summary: "cmd.user.delete", options: [tenant, OptionSpec("--name", "NAME", required: true, help: "opt.user_name")]),
        CommandSpec(
            ["key", "create"], summary: "cmd.key.create", options: [tenant, user],
            examples: ["ose key create --tenant acme --user alice"]),
        CommandSpec(["key", "list"], summary: "cmd.key.list", options: [tenant, user]),
        CommandSpec(["key", "delete"], summary: "cmd.key.delete", options: [OptionSpec("--key", "ACCESS-KEY", required: true, help: "opt.access_key")]),
        CommandSpec(
            ["vip", "set"], summary: "cmd.vip.set",
            options: [
                OptionSpec("--address", "IP", required: true, help: "opt.vip_address"),
                OptionSpec("--port", "PORT", required: true, help: "opt.vip_port"),
                OptionSpec("--interface", "IF", help: "opt.vip_interface"), OptionSpec("--own", help: "opt.vip_own"),
                OptionSpec("--target", "https|http", help: "opt.vip_target"),
                OptionSpec("--proxy-protocol", help: "opt.vip_proxy_protocol"),
            ],
            examples: [
                "ose vip set --address 10.0.0.100 --port 443", "ose vip set --address 10.0.0.100 --port 80 --target http",
                "ose vip set --address 10.0.0.100 --port 443 --interface eth0 --own",
            ]),
        CommandSpec(["vip", "show"], summary: "cmd.vip.show"),
        CommandSpec(["vip", "disable"], summary: "cmd.vip.disable"),
        CommandSpec(["cluster", "show"], summary: "cmd.cluster.show"),
        CommandSpec(
            ["cluster", "token"], summary: "cmd.cluster.token", options: [OptionSpec("--label", "LABEL", help: "opt.cluster_label")],
            examples: ["ose cluster token", "ose cluster token --label prod-eu"]),
        CommandSpec(
            ["cluster", "join"], summary: "cmd.cluster.join",
            options: [OptionSpec("--seed", "HOST:PORT", help: "opt.cluster_seed"), OptionSpec("--token", "TOKEN", required: true, help: "opt.cluster_token")],
            examples: ["ose cluster join --seed 10.0.0.11:7946 --token voss1.eyJ…"]),
        CommandSpec(["cluster", "leave"], summary: "cmd.cluster.leave"),
        CommandSpec(
            ["config", "export"], summary: "cmd.config.export",
            options: [OptionSpec("--file", "FILE", required: true, help: "opt.config_file"), secret, secretFile, force],
            examples: ["ose config export --file /root/voss-config.enc", "ose config export --file voss.enc --secret-file /root/export.pw"],
            takesSecret: true),
        CommandSpec(
            ["config", "import"], summary: "cmd.config.import",
            options: [OptionSpec("--file", "FILE", required: true, help: "opt.config_file"), secret, secretFile],
            examples: ["ose config import --file /root/voss-config.enc"], takesSecret: true),
    ]

    /// Options every command accepts.
    public static let global: [OptionSpec] = [
        OptionSpec("--json", help: "opt.json"),
        OptionSpec("--host", "HOST", help: "opt.host"),
        OptionSpec("--port", "PORT", help: "opt.port"),
        OptionSpec("--token-file", "FILE", help: "opt.token_file"),
        OptionSpec("--data-dir", "DIR", help: "opt.data_dir"),
        OptionSpec("--help", help: "opt.help", aliases: ["-h"]),
    ]

    /// Top-level groups in help order.
    public static var groups: [String] {
        var seen: [String] = []
        for c in commands where !seen.contains(c.path[0]) { seen.append(c.path[0]) }
        return seen
    }

    public static func find(_ path: [String]) -> CommandSpec? { commands.first { $0.path == path } }

    public static func commands(inGroup g: String) -> [CommandSpec] { commands.filter { $0.path[0] == g } }
}
