import Foundation
import VossBase
import VossCLI
import VossConfig
import VossI18n
import VossPosix
import VossWire

/// Where the keeper is and how to authenticate, from options, environment and the node file.
struct Target {
    var host: String
    var port: Int
    var tokenPath: String
    var nodeFile: String?
    var i18nURL: String?

    static func resolve(_ g: GlobalOptions, env: [String: String]) -> Target {
        let home = g.dataDir ?? env["VOSS_HOME"]
        let etc = home.map { Files.absolute($0) + "/etc" } ?? "/etc/voss"
        var node: NodeConfig?
        if let bytes = try? Files.read(etc + "/node.json") {
            node = try? JSONDecoder().decode(NodeConfig.self, from: Data(bytes))
        }
        let i18n = node?.worker(named: "i18n").flatMap { w in
            w.enabled ? w.listeners.first { $0.tcp != nil }?.tcp.map { "http://\($0.address):\($0.port)" } : nil
        }
        return Target(
            host: g.host ?? node?.control.address ?? "127.0.0.1", port: g.port ?? node?.control.port ?? 5198,
            tokenPath: g.tokenFile ?? env["VOSS_TOKEN_FILE"] ?? etc + "/token", nodeFile: node == nil ? nil : etc + "/node.json",
            i18nURL: i18n)
    }
}

struct OSEFailure: Error {
    var code: ExitCode
    var message: Message
    var body: APIErrorBody?
}

/// The `ose` program (Sources/ose/main.swift and the multi-call `voss` binary call `OSEMain.run`).
public enum OSEMain {
    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        var ose = OSE(env: environment)
        return ose.run(arguments)
    }
}

struct OSE {
    let env: [String: String]
    var t = Translator.english
    var json = false
    var target: Target!
    var token: String?

    init(env: [String: String]) { self.env = env }

    mutating func run(_ args: [String]) -> Int32 {
        let invocation: Invocation
        do {
            invocation = try Parser.parse(Parser.positionalPlatform(args))
        } catch {
            loadTranslations(GlobalOptions())
            let hint = error.path.isEmpty ? "ose -h" : "ose \(error.path.joined(separator: " ")) -h"
            printErr(t("error.prefix") + t(error.message) + "\n" + t("usage.see_help", hint))
            return ExitCode.usage.rawValue
        }
        switch invocation {
        case .help(let path, let g):
            loadTranslations(g)
            print(Help.text(for: path, t), terminator: "")
            return 0
        case .version(let g):
            json = g.json
            loadTranslations(g)
            return version(g)
        case .run(let p):
            json = p.global.json
            loadTranslations(p.global)
            do {
                try execute(p)
                return 0
            } catch {
                report(error)
                return error.code.rawValue
            }
        }
    }

    // MARK: plumbing

    /// Loads the operator's language from the i18n service (via the node file or the keeper); English
    /// when the locale is English or the service cannot be reached within a second.
    mutating func loadTranslations(_ g: GlobalOptions) {
        target = Target.resolve(g, env: env)
        let locale = LocaleTag.fromPOSIX(environment: env)
        guard locale.language != "en" else { return }
        var base = target.i18nURL
        if base == nil, let info: VersionInfo = try? get(Routes.version.path(), timeout: .seconds(1)) { base = info.i18nURL }
        guard let base, let u = SimpleURL(base) else { return }
        let path = "/i18n/api/v2/translation/products/VOSS/versions/\(VossVersion.current)/locales/\(locale)/components/ose"
        guard let r = try? BlockingHTTP.request(host: u.host, port: u.port ?? 80, method: "GET", path: path, timeout: .seconds(1)),
            r.status == 200
        else { return }
        struct Bundle: Decodable {
            struct D: Decodable {
                var locale: String
                var messages: [String: String]
            }
            var data: D
        }
        if let b = try? JSONDecoder().decode(Bundle.self, from: Data(r.body)) {
            t = Translator(messages: b.data.messages, locale: b.data.locale)
        }
    }

    mutating func readToken() throws(OSEFailure) -> String {
        if let token { return token }
        do {
            guard let bytes = try Files.read(target.tokenPath) else {
                throw OSEFailure(code: .unauthorized, message: Message("error.no_token", target.tokenPath))
            }
            let t = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
            token = t
            return t
        } catch let e as OSEFailure {
            throw e
        } catch {
            throw OSEFailure(code: .unauthorized, message: Message("error.token_unreadable", target.tokenPath, (error as? PosixError)?.reason ?? "\(error)"))
        }
    }

    func call(_ method: String, _ path: String, body: [UInt8] = [], token: String?, timeout: Duration = .seconds(60))
        throws(OSEFailure) -> BlockingHTTP.Response
    {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        let r: BlockingHTTP.Response
        do {
            r = try BlockingHTTP.request(
                host: target.host, port: target.port, method: method, path: path, headers: headers, body: body,
                timeout: timeout)
        } catch {
            throw OSEFailure(code: .unreachable, message: Message("error.unreachable", "\(target.host):\(target.port)", "\(error)"))
        }
        if r.status == 401 {
            throw OSEFailure(code: .unauthorized, message: Message("error.unauthorized", target.tokenPath))
        }
        if r.status >= 400 {
            let body = try? ControlJSON.decoder().decode(APIErrorBody.self, from: Data(r.body))
            throw OSEFailure(
                code: .error, message: body?.error.message ?? Message("error.http", String(r.status)), body: body)
        }
        return r
    }

    mutating func request<T: Decodable>(_ method: String, _ path: String, _ body: (some Encodable)? = nil as String?)
        throws(OSEFailure) -> (T, [UInt8])
    {
        let token = try readToken()
        var bytes: [UInt8] = []
        if let body { bytes = Array((try? ControlJSON.encoder().encode(body)) ?? Data()) }
        let r = try call(method, path, body: bytes, token: token)
        do {
            return (try ControlJSON.decoder().decode(T.self, from: Data(r.body)), r.body)
        } catch {
            throw OSEFailure(code: .error, message: Message("error.bad_response", "\(error)"))
        }
    }

    /// One control-API call, built from the route table (VossWire `Routes`).
    mutating func call<B, R>(
        _ route: ControlRoute<B, R>, _ params: [String: String] = [:], query: [(String, String)] = [], _ body: B? = nil
    ) throws(OSEFailure) -> (R, [UInt8]) {
        try request(route.method, route.path(params, query: query), body)
    }

    mutating func call<B, R>(_ route: ControlRoute<B, R>, _ body: B) throws(OSEFailure) -> (R, [UInt8]) {
        try call(route, [:], query: [], body)
    }

    func get<T: Decodable>(_ path: String, timeout: Duration) throws -> T {
        let tok = try? Files.read(target.tokenPath).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() }
        let r = try call("GET", path, token: tok ?? nil, timeout: timeout)
        return try ControlJSON.decoder().decode(T.self, from: Data(r.body))
    }

    func emitJSON(_ raw: [UInt8]) {
        if let obj = try? JSONSerialization.jsonObject(with: Data(raw)),
            let pretty = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: raw, as: UTF8.self))
        }
    }

    func emitJSON<T: Encodable>(_ value: T) {
        let e = ControlJSON.encoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self))
    }

    func report(_ f: OSEFailure) {
        if json {
            emitJSON(f.body ?? APIErrorBody(code: "\(f.code)", message: f.message))
            return
        }
        if let b = f.body {
            printErr(Render.error(b, t))
        } else {
            printErr(t("error.prefix") + t(f.message))
        }
    }

    func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    // MARK: secrets

    /// `--secret`, else `--secret-file FILE` (`-` for stdin), else a prompt on its own line (no echo)
    /// on a terminal, else one line from stdin.
    func secret(_ p: Parsed, confirm: Bool) throws(OSEFailure) -> String {
        if let s = p.value("--secret") { return s }
        if let f = p.value("--secret-file") {
            if f == "-" { return readLine(strippingNewline: true) ?? "" }
            do {
                guard let bytes = try Files.read(f, limit: 64 << 10) else {
                    throw OSEFailure(code: .error, message: Message("error.file_missing", f))
                }
                var s = String(decoding: bytes, as: UTF8.self)
                if s.hasSuffix("\n") { s.removeLast() }
                if s.hasSuffix("\r") { s.removeLast() }
                return s
            } catch let e as OSEFailure {
                throw e
            } catch {
                throw OSEFailure(code: .error, message: Message("error.file_unreadable", f, "\(error)"))
            }
        }
        guard Terminal.isTTY(0) else {
            guard let line = readLine(strippingNewline: true) else {
                throw OSEFailure(code: .usage, message: Message("secret.none_given"))
            }
            return line
        }
        func ask(_ prompt: String) -> String {
            FileHandle.standardError.write(Data((prompt + "\n").utf8))
            _ = Terminal.setEcho(false)
            defer {
                _ = Terminal.setEcho(true)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            return readLine(strippingNewline: true) ?? ""
        }
        let first = ask(t("secret.prompt"))
        if confirm {
            let second = ask(t("secret.prompt_again"))
            guard first == second else { throw OSEFailure(code: .usage, message: Message("secret.mismatch")) }
        }
        return first
    }
}
