import VossBase
import VossWire

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Text renderings of the keeper's answers, in the `[Section]` / indented `key: value` style of the
/// original `ose` (SPEC.md §4). Pure: every function takes the data and the translator.
public enum Render {
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }

    public static func date(_ d: Date) -> String { d.formatted(.iso8601) }

    public static func serviceShow(_ s: ServiceShow, _ t: Translator) -> String {
        let stateWord = t("state.\(s.state)")
        var out = "[\(t("label.service"))]\n"
        out += "    \(t("label.state")): \(stateWord)\n"
        out += "    \(t("label.summary")): \(t(s.summary))\n"
        out += "    \(t("label.log_level")): \(s.logLevel)\n"
        let header = [
            t("col.worker"), t("col.state"), t("col.pid"), t("col.uptime"), t("col.restarts"), t("col.health"),
            t("col.last_exit"), t("col.listeners"),
        ]
        let rows = s.workers.map { w -> [String] in
            let lastExit = w.lastExitMessage.map { m in w.lastExitAt.map { "\(t(m)) (\(date($0)))" } ?? t(m) } ?? "-"
            return [
                w.name, t("state.\(w.state)"), w.pid.map(String.init) ?? "-", w.uptimeSeconds.map(duration) ?? "-",
                String(w.restarts), t(w.healthMessage), lastExit, w.listeners.joined(separator: " "),
            ]
        }
        out += TextTable(header: header, rows: rows).render() + "\n"
        for w in s.workers where w.status != nil || !w.counters.isEmpty {
            var line = "    \(w.name): "
            if let st = w.status { line += st }
            if !w.counters.isEmpty {
                line += (w.status == nil ? "" : "; ") + w.counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: " ")
            }
            out += line + "\n"
        }
        return out
    }

    public static func configShow(_ c: ConfigShow, _ t: Translator) -> String {
        if c.sections.isEmpty { return t("show.empty") + "\n" }
        var out = ""
        for section in c.sections {
            out += "[\(t("section.\(section.name)"))]\n"
            for e in section.entries {
                let key = String(e.key.dropFirst(section.name.count + 1))
                out += "    \(key): \(displayValue(e.value))\n"
            }
        }
        out += "\(t("label.config_version")): \(c.version)\n"
        return out
    }

    /// PEM blocks are summarised in text mode (the full value is in `--json`).
    static func displayValue(_ v: String) -> String {
        if v.hasPrefix("-----BEGIN ") {
            let kinds = v.split(separator: "\n").filter { $0.hasPrefix("-----BEGIN ") }.map {
                $0.dropFirst(11).dropLast(5)
            }
            return "<PEM: " + Dictionary(grouping: kinds, by: { String($0) }).sorted { $0.key < $1.key }.map {
                "\($0.key) ×\($0.value.count)"
            }.joined(separator: ", ") + ">"
        }
        return v
    }

    public static func args(_ a: ArgList, _ t: Translator) -> String {
        var out = "[\(t("section.args"))]\n"
        if a.args.isEmpty { out += "    \(t("args.none"))\n" }
        for arg in a.args { out += "    \(arg.key): \(arg.value)\n" }
        return out
    }

    public static func cert(_ c: CertInfo, _ t: Translator, now: Date) -> String {
        guard c.configured || !c.chain.isEmpty else { return t("cert.none") + "\n" }
        var out = "[\(t("section.cert"))]\n"
        out += "    \(t("label.source")): \(c.source.map { t("cert.source.\($0)") } ?? "-")\n"
        for (i, e) in c.chain.enumerated() {
            if c.chain.count > 1 { out += "  #\(i + 1)\n" }
            out += "    \(t("label.subject")): \(e.subject)\n"
            out += "    \(t("label.issuer")): \(e.issuer)\(e.selfSigned ? " (\(t("cert.self_signed")))" : "")\n"
            out += "    \(t("label.serial")): \(e.serial)\n"
            out += "    \(t("label.valid_from")): \(date(e.notBefore))\n"
            let days = Int((e.notAfter.timeIntervalSince(now) / 86400).rounded(.down))
            let left = days >= 0 ? t("cert.days_left", String(days)) : t("cert.expired")
            out += "    \(t("label.valid_until")): \(date(e.notAfter)) (\(left))\n"
            out += "    \(t("label.key_type")): \(e.keyType)\n"
            if !e.subjectAlternativeNames.isEmpty {
                out += "    \(t("label.names")): \(e.subjectAlternativeNames.joined(separator: ", "))\n"
            }
            out += "    \(t("label.fingerprint")): \(e.sha256Fingerprint)\n"
        }
        if let s = c.secret { out += "    \(t("label.secret")): \(s)\n" }
        return out
    }

    public static func db(_ d: DBInfo, _ t: Translator) -> String {
        var out = "[\(t("section.db"))]\n"
        out += "    \(t("label.db_active")): \(d.active == "postgres" ? "PostgreSQL" : t("db.embedded", d.embeddedPath ?? ""))\n"
        out += "    URL: \(d.url ?? t("db.url_unset"))\n"
        if let u = d.user { out += "    username: \(u)\n" }
        if let s = d.secret { out += "    \(t("label.secret")): \(s)\n" }
        if let m = d.migrating { out += "    \(t("label.db_migrating")): \(m)\n" }
        for n in d.notes { out += t(n) + "\n" }
        return out
    }

    /// `ose cloudian show`, `ose ecs show` (the original's layout).
    public static func vendor(_ v: VendorInfo, _ t: Translator) -> String {
        let title = v.kind == "ecs" ? "ECS" : "Cloudian"
        var out = ""
        for (name, s) in [("Admin", v.admin), ("Console", v.console), ("S3", v.s3), ("IAM", v.iam)] {
            guard let s else { continue }
            out += "[\(title) \(name)]\n    URL: \(s.url)\n"
            if let u = s.user { out += "    username: \(u)\n" }
            if let p = s.secret { out += "    \(t("label.secret")): \(p)\n" }
            if let r = s.region { out += "    region: \(r)\n" }
        }
        if out.isEmpty { out = t("vendor.not_configured", title) + "\n" }
        for n in v.notes { out += t(n) + "\n" }
        return out
    }

    /// `ose director show|set`.
    public static func director(_ d: DirectorInfo, _ t: Translator) -> String {
        guard d.configured, let url = d.url else { return t("director.none") + "\n" }
        var out = "[\(t("section.director"))]\n    URL: \(url)\n"
        if let u = d.user { out += "    username: \(u)\n" }
        if let s = d.secret { out += "    \(t("label.secret")): \(s)\n" }
        if let v = d.apiVersion { out += "    API version: \(v)\n" }
        if d.tlsVerify == false { out += "    \(t("director.tls_unverified"))\n" }
        return out
    }

    /// `ose ui show|install|uninstall`.
    public static func uiPlugin(_ u: UIPluginInfo, _ t: Translator) -> String {
        guard u.installed else { return t("ui.none") + "\n" }
        var out = "[\(t("section.ui"))]\n"
        out += "    \(t("col.name")): \(u.name ?? "-")\n    ID: \(u.id ?? "-")\n    \(t("col.version")): \(u.version ?? "-")\n"
        if let o = u.oseURL { out += "    OSE URL: \(o)\n" }
        if let s = u.status { out += "    \(t("col.state")): \(s)\n" }
        if let d = u.detail { out += "    \(t("col.detail")): \(d)\n" }
        return out
    }

    /// `ose platforms show`: every platform with its state, the default marked.
    public static func platforms(_ info: PlatformsInfo, _ t: Translator) -> String {
        var out = "[\(t("section.platforms"))]\n"
        let rows = info.platforms.map { p in
            [
                p.name + (p.isDefault ? " *" : ""), p.kind, p.url ?? "-", p.tenancy.map { $0 == "shared" ? "shared (\(p.bucket ?? ""))" : $0 } ?? "-",
                p.state == "normal" ? t("state.normal") : t("state.unavailable"), p.detail ?? "",
            ]
        }
        out += TextTable(
            header: [t("col.name"), t("col.kind"), "URL", t("col.tenancy"), t("col.state"), t("col.detail")], rows: rows
        ).render() + "\n"
        for p in info.platforms where p.secret != nil || p.accessKey != nil {
            out += "    \(p.name): access key \(p.accessKey ?? "")\(p.secret.map { ", \(t("label.secret")): \($0)" } ?? "")\n"
        }
        out += "    " + t("platforms.default_note") + "\n"
        for n in info.notes { out += t(n) + "\n" }
        return out
    }

    /// `ose vip show`: the virtual address, who holds it, and the gateways behind it.
    public static func vip(_ v: VIPInfo, _ t: Translator) -> String {
        var out = "[\(t("section.vip"))]\n"
        guard v.enabled, let a = v.address, let p = v.port else { return out + "    " + t("vip.disabled") + "\n" }
        out += "    \(t("label.vip_address")): \(a.contains(":") ? "[\(a)]" : a):\(p) -> \(v.target)\(v.proxyProtocol ? " (PROXY v2)" : "")\n"
        if v.own {
            out += "    \(t("label.vip_owner")): \(v.owner ?? t("vip.no_owner")) (\(v.interface ?? "?"))\(v.holding ? " *" : "")\n"
            if let e = v.ownershipError { out += "    " + t("vip.cannot_hold", e) + "\n" }
        }
        if let w = v.worker { out += "    \(t("label.vip_worker")): \(w)\n" }
        let rows = v.backends.map { b in [b.name, b.address, b.state, b.active.map(String.init) ?? "-", b.total.map(String.init) ?? "-"] }
        out += TextTable(header: [t("col.name"), t("col.address"), t("col.state"), t("col.active"), t("col.total")], rows: rows).render() + "\n"
        return out
    }

    /// `ose cluster show`: this node, then every member it knows.
    public static func cluster(_ c: ClusterView, _ t: Translator) -> String {
        var out = "[\(t("section.cluster"))]\n"
        out += "    \(t("label.cluster_label")): \(c.label)\n"
        out += "    \(t("label.cluster_node")): \(c.node) (\(c.address))\n"
        out += "    \(t("label.config_version")): \(c.configDigest)\n"
        if let e = c.listenError { out += "    " + t("cluster.not_listening", e) + "\n" }
        if let e = c.joinError { out += "    " + t("cluster.join_problem", e) + "\n" }
        if c.refusedMessages > 0 { out += "    " + t("cluster.refused_count", String(c.refusedMessages)) + "\n" }
        let header = [t("col.name"), t("col.address"), t("col.state"), t("col.incarnation"), t("col.last_contact"), t("col.config")]
        var rows: [[String]] = []
        for m in c.members {
            let contact = m.isSelf ? "-" : m.lastContactMs.map { $0 < 1000 ? "\($0)ms" : "\($0 / 1000)s" } ?? "-"
            let cfg = m.configInSync.map { $0 ? t("cluster.in_sync") : t("cluster.differs") } ?? "?"
            rows.append([m.name + (m.isSelf ? " *" : ""), m.address, m.status, String(m.incarnation), contact, cfg])
        }
        out += TextTable(header: header, rows: rows).render() + "\n"
        return out
    }

    /// SPEC.md §4 `ose migration show`.
    public static func migration(_ m: MigrationInfo, _ t: Translator) -> String {
        // 2019-10-10T08:14:18.041+0000, as the original prints it.
        func stamp(_ d: Date) -> String {
            var s = d.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            if s.hasSuffix("Z") { s = String(s.dropLast()) + "+0000" }
            return s
        }
        var out = "[Migration Task]\n"
        out += "ID : \(m.id)\nStatus : \(m.status)\nProgress : \(m.progress)\n"
        out += "StartDate : \(stamp(m.startDate))\nEndDate : \(m.endDate.map(stamp) ?? "")\n"
        out += "Type Migration : \(m.typeMigration)\nPath Migration : \(m.pathMigration)\n"
        out += "Permission Migration : \(m.permissionMigration == "success" && m.differences.isEmpty ? "success" : m.permissionMigration)\n"
        for d in m.differences { out += d + "\n" }
        if let e = m.error { out += t(e) + "\n" }
        return out
    }

    /// `ose migration bucket show`: one block per bucket move, in the style of `ose migration show`.
    public static func bucketMoves(_ moves: [BucketMoveInfo], _ t: Translator) -> String {
        if moves.isEmpty { return t("move.none") + "\n" }
        var out = ""
        for m in moves {
            out += "[Bucket Migration]\nBucket : \(m.bucket)\nFrom : \(m.from)\nTo : \(m.to)\nStatus : \(m.status)\nProgress : \(m.progress)\n"
            out += "Objects : \(m.moved) moved, \(m.skipped) already there or replaced, of \(m.total) (\(m.movedBytes) of \(m.totalBytes) bytes)\n"
            if let r = m.remaining { out += "Not on \(m.to) after the pass : \(r)\n" }
            out += "Node : \(m.node)\n"
            if let e = m.error { out += "Error : \(e)\n" }
        }
        return out
    }

    public static func encryption(_ e: EncryptionInfo, _ t: Translator) -> String {
        if e.keys.isEmpty { return t("encryption.none") + "\n" + t("encryption.rotation", String(e.rotationDays), "-") + "\n" }
        let rows = e.keys.map { [$0.id, date($0.createdAt), $0.current ? "*" : "", String($0.dataKeys)] }
        return TextTable(header: [t("col.key"), t("col.created"), t("col.current"), t("col.data_keys")], rows: rows).render() + "\n"
            + t("encryption.rotation", String(e.rotationDays), e.nextRotation.map(date) ?? "-") + "\n"
    }

    public static func s3(_ s: S3Settings, _ t: Translator) -> String {
        "[\(t("section.s3"))]\n    \(t("label.s3_domain")): \(s.domain.map { "\($0) (BUCKET.s3.\($0))" } ?? t("s3.domain_unset"))\n    \(t("label.region")): \(s.region ?? "us-east-1")\n"
    }

    public static func tenants(_ l: TenantList, _ t: Translator) -> String {
        if l.tenants.isEmpty { return t("tenant.none") + "\n" }
        return TextTable(header: [t("col.tenant"), t("col.id"), t("col.created")], rows: l.tenants.map { [$0.name, $0.id, date($0.createdAt)] }).render() + "\n"
    }

    public static func users(_ l: UserList, _ t: Translator) -> String {
        if l.users.isEmpty { return t("user.none") + "\n" }
        return TextTable(header: [t("col.user"), t("col.role"), t("col.created")], rows: l.users.map { [$0.name, $0.role, date($0.createdAt)] }).render() + "\n"
    }

    public static func keys(_ l: KeyList, _ t: Translator) -> String {
        if l.keys.isEmpty { return t("key.none") + "\n" }
        return TextTable(header: [t("col.access_key"), t("col.created")], rows: l.keys.map { [$0.accessKey, date($0.createdAt)] }).render() + "\n"
    }

    public static func keyCreated(_ k: KeyInfo, _ t: Translator) -> String {
        """
        [\(t("section.key"))]
            \(t("label.access_key")): \(k.accessKey)
            \(t("label.secret_key")): \(k.secret ?? "")
            \(t("label.user")): \(k.user)@\(k.tenant)
        \(t("key.shown_once"))

        """
    }

    public static func error(_ e: APIErrorBody, _ t: Translator) -> String {
        var out = t("error.prefix") + t(e.error.message)
        for i in e.error.issues ?? [] { out += "\n  - \(i.key): \(t(i.message))" }
        if let h = e.error.hint { out += "\n" + t(h) }
        return out
    }
}
