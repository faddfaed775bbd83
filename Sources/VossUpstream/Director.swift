import Foundation
import NIOCore
import NIOHTTP1
import VossBase
import VossS3Core
import VossS3Store

/// Who a director session belongs to (`GET /cloudapi/1.0.0/sessions/current`).
public struct DirectorSession: Sendable, Equatable {
    public var user: String
    public var userID: String
    public var org: String
    public var orgID: String
    public var roles: [String]
    public var roleIDs: [String]

    public init(user: String, userID: String, org: String, orgID: String, roles: [String], roleIDs: [String]) {
        self.user = user
        self.userID = userID
        self.org = org
        self.orgID = orgID
        self.roles = roles
        self.roleIDs = roleIDs
    }
}

/// A registered UI extension (`/cloudapi/extensions/ui`).
public struct DirectorUIPlugin: Codable, Sendable, Equatable {
    public var id: String?
    public var pluginName: String
    public var vendor: String
    public var description: String?
    public var version: String
    public var license: String
    public var link: String
    public var tenant_scoped: Bool?
    public var provider_scoped: Bool?
    public var enabled: Bool?
    public var plugin_status: String?

    public init(pluginName: String, vendor: String, description: String, version: String, license: String, link: String) {
        self.pluginName = pluginName
        self.vendor = vendor
        self.description = description
        self.version = version
        self.license = license
        self.link = link
        tenant_scoped = true
        provider_scoped = true
        enabled = true
    }
}

/// SPEC.md §3: a director user's VOSS role from the rights its roles hold.
public enum DirectorRights {
    static func has(_ rights: Set<String>, _ names: String...) -> Bool {
        names.contains { n in rights.contains { $0.caseInsensitiveCompare(n) == .orderedSame } }
    }

    /// nil: the user may not use VOSS at all (it lacks "UI Plugins: View").
    public static func role(_ rights: Set<String>) -> Role? {
        guard has(rights, "UI Plugins: View") else { return nil }
        guard has(rights, "General: Administrator View") else { return .tenantUser }
        return has(rights, "Provider VDC: View") ? .providerAdmin : .tenantAdmin
    }
}

/// The VMware Cloud Director API, as VOSS uses it (from the published API reference; no director runs
/// here — the tests use a server written from that reference, Tests/fakes/director.py):
/// `GET /api/versions` (XML, no login) for the API versions; `POST /cloudapi/1.0.0/sessions/provider`
/// (HTTP Basic `user@System:password`) for a provider session, whose token comes back in
/// `X-VMWARE-VCLOUD-ACCESS-TOKEN`; `GET /cloudapi/1.0.0/sessions/current` (Bearer) for whom a token
/// belongs to; `GET /cloudapi/1.0.0/roles/{id}/rights` for a role's rights; and the UI extension API
/// (`/cloudapi/extensions/ui…`, the transfer service's upload link) for the portal plugin.
public final class DirectorClient: Sendable {
    let call: AdminCall
    public let url: String
    /// The oldest API version VOSS speaks (CloudAPI sessions exist since 33.0).
    public static let minimumVersion = 33.0

    public init(url: String, tls: UpstreamTLSOptions = .init(), group: any EventLoopGroup, timeout: TimeAmount = .seconds(10)) throws {
        guard let endpoint = UpstreamEndpoint.parse(url) else { throw UpstreamError.protocolError("'\(url)' is not an http(s) URL") }
        call = AdminCall(
            http: try UpstreamHTTPClient(endpoint: endpoint, tls: tls, group: group, maxIdle: 4, connectTimeout: .seconds(5), responseTimeout: timeout))
        self.url = url
    }

    public func close() { call.http.closeIdle() }

    /// The API versions the director supports and has not deprecated.
    public func versions() async throws -> [String] {
        let (head, body) = try await call(.GET, "/api/versions", headers: [("Accept", "application/*+xml")])
        guard head.status.code == 200 else { throw AdminCall.failure("GET /api/versions", head, body) }
        let root = try VossS3Core.XMLParser.parse(body)
        return root.all("VersionInfo").filter { $0.attributes["deprecated"] != "true" }.compactMap { $0.childText("Version") }
    }

    /// The newest supported version VOSS can speak.
    public static func pick(_ versions: [String]) -> String? {
        versions.compactMap { v in Double(v).map { (v, $0) } }.filter { $0.1 >= minimumVersion }.max { $0.1 < $1.1 }?.0
    }

    static func accept(_ version: String) -> (String, String) { ("Accept", "application/json;version=\(version)") }

    /// A provider (System) session; returns its access token.
    public func providerLogin(user: String, password: String, version: String) async throws -> String {
        let login = user.lowercased().hasSuffix("@system") ? String(user.dropLast(7)) + "@System" : user
        let (head, body) = try await call(.POST, "/cloudapi/1.0.0/sessions/provider", headers: [AdminCall.basic(login, password), Self.accept(version)])
        guard head.status.code == 200, let token = head.headers.first(name: "X-VMWARE-VCLOUD-ACCESS-TOKEN"), !token.isEmpty else {
            if head.status.code == 401 || head.status.code == 403 {
                throw AdminCall.failure("the director refused the user name or password", head, body)
            }
            throw AdminCall.failure("director login", head, body)
        }
        return token
    }

    struct Ref: Decodable {
        var name: String?
        var id: String?
    }

    public func currentSession(token: String, version: String) async throws -> DirectorSession? {
        struct Session: Decodable {
            var user: Ref?
            var org: Ref?
            var roles: [String]?
            var roleRefs: [Ref]?
        }
        let (head, body) = try await call(.GET, "/cloudapi/1.0.0/sessions/current", headers: [("Authorization", "Bearer " + token), Self.accept(version)])
        if head.status.code == 401 || head.status.code == 403 { return nil }
        guard head.status.code == 200 else { throw AdminCall.failure("GET /cloudapi/1.0.0/sessions/current", head, body) }
        let s = try JSONDecoder().decode(Session.self, from: Data(body))
        guard let user = s.user?.name, let org = s.org?.name else { throw UpstreamError.protocolError("the director's session names no user or organization") }
        return DirectorSession(
            user: user, userID: s.user?.id ?? "", org: org, orgID: s.org?.id ?? "", roles: s.roles ?? [],
            roleIDs: (s.roleRefs ?? []).compactMap(\.id))
    }

    /// Every right of a role (all pages).
    public func roleRights(roleID: String, token: String, version: String) async throws -> [String] {
        struct Page: Decodable {
            var pageCount: Int?
            var values: [Ref]?
        }
        var out: [String] = []
        var page = 1
        while page <= 100 {
            let uri = "/cloudapi/1.0.0/roles/\(Percent.encode(roleID.utf8))/rights?page=\(page)&pageSize=128"
            let (head, body) = try await call(.GET, uri, headers: [("Authorization", "Bearer " + token), Self.accept(version)])
            guard head.status.code == 200 else { throw AdminCall.failure("GET role rights", head, body) }
            let p = try JSONDecoder().decode(Page.self, from: Data(body))
            out += (p.values ?? []).compactMap(\.name)
            if page >= (p.pageCount ?? 1) { break }
            page += 1
        }
        return out
    }

    // MARK: UI extensions

    public func uiPlugins(token: String, version: String) async throws -> [DirectorUIPlugin] {
        let (head, body) = try await call(.GET, "/cloudapi/extensions/ui", headers: [("Authorization", "Bearer " + token), Self.accept(version)])
        guard head.status.code == 200 else { throw AdminCall.failure("GET /cloudapi/extensions/ui", head, body) }
        return try JSONDecoder().decode([DirectorUIPlugin].self, from: Data(body))
    }

    public func register(_ plugin: DirectorUIPlugin, token: String, version: String) async throws -> DirectorUIPlugin {
        let (head, body) = try await call(
            .POST, "/cloudapi/extensions/ui", headers: [("Authorization", "Bearer " + token), Self.accept(version), ("Content-Type", "application/json")],
            body: Array(try JSONEncoder().encode(plugin)))
        guard head.status.code == 201 || head.status.code == 200 else { throw AdminCall.failure("registering the UI plugin", head, body) }
        return try JSONDecoder().decode(DirectorUIPlugin.self, from: Data(body))
    }

    /// Uploads the plugin's zip: asks for a transfer link, then PUTs the file there.
    public func upload(pluginID id: String, fileName: String, zip: [UInt8], token: String, version: String) async throws {
        let spec = #"{"fileName":"\#(fileName)","size":\#(zip.count)}"#
        let auth = ("Authorization", "Bearer " + token)
        let (head, body) = try await call(
            .POST, "/cloudapi/extensions/ui/\(Percent.encode(id.utf8))/plugin", headers: [auth, Self.accept(version), ("Content-Type", "application/json")],
            body: Array(spec.utf8))
        guard head.status.code == 204 || head.status.code == 200,
            let link = head.headers[canonicalForm: "Link"].map(String.init).compactMap(Self.uploadLink).first
        else { throw AdminCall.failure("starting the UI plugin upload", head, body) }
        // The transfer link is on the director itself; only its path is used.
        guard let path = Self.path(of: link) else { throw UpstreamError.protocolError("the director's upload link is not a URL: \(link)") }
        let (h2, b2) = try await call(.PUT, path, headers: [auth, ("Content-Type", "application/octet-stream")], body: zip)
        guard (200..<300).contains(h2.status.code) else { throw AdminCall.failure("uploading the UI plugin", h2, b2) }
    }

    /// `<https://vcd/transfer/…/plugin.zip>;rel="upload:default";type="application/octet-stream"` → the URL.
    static func uploadLink(_ header: String) -> String? {
        guard header.contains("upload:default"), let open = header.firstIndex(of: "<"), let close = header.firstIndex(of: ">"), open < close else {
            return nil
        }
        return String(header[header.index(after: open)..<close])
    }

    static func path(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return url.hasPrefix("/") ? url : nil }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    public func publishAll(pluginID id: String, token: String, version: String) async throws {
        let (head, body) = try await call(
            .POST, "/cloudapi/extensions/ui/\(Percent.encode(id.utf8))/tenants/publishAll", headers: [("Authorization", "Bearer " + token), Self.accept(version)])
        guard (200..<300).contains(head.status.code) else { throw AdminCall.failure("publishing the UI plugin", head, body) }
    }

    /// Removes the plugin's file and the extension (a missing one is not an error).
    public func remove(pluginID id: String, token: String, version: String) async throws {
        let auth = ("Authorization", "Bearer " + token)
        let base = "/cloudapi/extensions/ui/\(Percent.encode(id.utf8))"
        let (h1, b1) = try await call(.DELETE, base + "/plugin", headers: [auth, Self.accept(version)])
        guard (200..<300).contains(h1.status.code) || h1.status.code == 404 else { throw AdminCall.failure("removing the UI plugin's file", h1, b1) }
        let (h2, b2) = try await call(.DELETE, base, headers: [auth, Self.accept(version)])
        guard (200..<300).contains(h2.status.code) || h2.status.code == 404 else { throw AdminCall.failure("removing the UI plugin", h2, b2) }
    }
}
