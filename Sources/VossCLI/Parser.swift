import VossBase

/// Exit statuses of `ose`, documented in `ose -h` and docs/operations.md.
public enum ExitCode: Int32, Sendable {
    case ok = 0
    /// The keeper refused or failed the operation.
    case error = 1
    /// Bad command line.
    case usage = 2
    /// The keeper could not be reached.
    case unreachable = 3
    /// The token was missing or wrong.
    case unauthorized = 4
}

public struct GlobalOptions: Equatable, Sendable {
    public var json = false
    public var host: String?
    public var port: Int?
    public var tokenFile: String?
    public var dataDir: String?

    public init() {}
}

public enum Invocation: Equatable, Sendable {
    /// Help for a group (`ose args -h`), a command, or everything (`[]`).
    case help(path: [String], global: GlobalOptions)
    case version(global: GlobalOptions)
    case run(Parsed)
}

public struct Parsed: Equatable, Sendable {
    public var command: CommandSpec
    public var values: [String: String]
    public var flags: Set<String>
    public var global: GlobalOptions

    public func value(_ name: String) -> String? { values[name] }
    public func flag(_ name: String) -> Bool { flags.contains(name) }
}

public struct UsageError: Error, Equatable, Sendable {
    public var message: Message
    /// The command whose help to point at.
    public var path: [String]

    public init(_ message: Message, path: [String]) {
        self.message = message
        self.path = path
    }
}

public enum Parser {
    /// The original's positional forms: `ose platforms enable NAME` is `… --name NAME`, and
    /// `ose cloudian|ecs s3|iam set URL` is `… --url URL`.
    public static func positionalPlatform(_ args: [String]) -> [String] {
        var out = args
        if let i = args.firstIndex(of: "enable"), i > 0, args[i - 1] == "platforms", i + 1 < args.count, !args[i + 1].hasPrefix("-") {
            out.insert("--name", at: i + 1)
            return out
        }
        if let i = args.firstIndex(of: "set"), i >= 2, ["cloudian", "ecs"].contains(args[i - 2]), ["s3", "iam"].contains(args[i - 1]),
            i + 1 < args.count, !args[i + 1].hasPrefix("-")
        {
            out.insert("--url", at: i + 1)
        }
        return out
    }

    public static func parse(_ args: [String]) throws(UsageError) -> Invocation {
        var global = GlobalOptions()
        var words: [String] = []
        var values: [String: String] = [:]
        var flags = Set<String>()
        var wantsHelp = false
        var wantsVersion = false
        var rest: [(String, String?)] = []  // options in order, with an inline `=value`
        var i = 0
        // Split words (the command path) from options; options may come anywhere.
        var pendingValueFor: String?
        var tokens: [String] = []
        for a in args { tokens.append(a) }
        while i < tokens.count {
            let a = tokens[i]
            // Only `--name` and `-h` are options: `-3` or `-` after an option are its value.
            if a.hasPrefix("--") || a == "-h" {
                if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                    rest.append((String(a[..<eq]), String(a[a.index(after: eq)...])))
                } else {
                    rest.append((a, nil))
                }
                pendingValueFor = a
            } else if pendingValueFor != nil, let last = rest.last, last.1 == nil, optionTakesValue(last.0, words: words) {
                rest[rest.count - 1].1 = a
                pendingValueFor = nil
            } else {
                words.append(a)
                pendingValueFor = nil
            }
            i += 1
        }
        let spec = CommandTable.find(words)
        let knownGroup = CommandTable.groups.contains(words.first ?? "")

        for (name, value) in rest {
            func take(_ opt: OptionSpec, _ spec: CommandSpec) throws(UsageError) {
                if opt.isFlag {
                    if value != nil { throw UsageError(Message("usage.flag_takes_no_value", opt.name), path: spec.path) }
                    flags.insert(opt.name)
                } else {
                    guard let value else { throw UsageError(Message("usage.needs_value", opt.name), path: spec.path) }
                    if values[opt.name] != nil { throw UsageError(Message("usage.repeated", opt.name), path: spec.path) }
                    values[opt.name] = value
                }
            }
            func need() throws(UsageError) -> String {
                guard let value else { throw UsageError(Message("usage.needs_value", name), path: words) }
                return value
            }
            // A command's own option wins over a global one of the same name (`ose vip set --port` is
            // the virtual port; the keeper's port is then taken from VOSS_HOME or the default).
            if let spec, let opt = spec.options.first(where: { $0.name == name || $0.aliases.contains(name) }), name != "-h", name != "--help" {
                try take(opt, spec)
                continue
            }
            switch name {
            case "-h", "--help": wantsHelp = true
            case "--version" where words.isEmpty: wantsVersion = true
            case "--json": global.json = true
            case "--host": global.host = try need()
            case "--port":
                let v = try need()
                guard let p = Int(v), (1...65535).contains(p) else { throw UsageError(Message("value.port", v), path: words) }
                global.port = p
            case "--token-file": global.tokenFile = try need()
            case "--data-dir": global.dataDir = try need()
            default:
                guard let spec else {
                    if wantsHelp || words.isEmpty { continue }
                    throw UsageError(Message("usage.unknown_command", words.joined(separator: " ")), path: knownGroup ? [words[0]] : [])
                }
                guard let opt = spec.options.first(where: { $0.name == name || $0.aliases.contains(name) }) else {
                    throw UsageError(Message("usage.unknown_option", name, spec.name), path: spec.path)
                }
                try take(opt, spec)
            }
        }
        if wantsVersion { return .version(global: global) }
        if wantsHelp || words.isEmpty { return .help(path: spec?.path ?? (knownGroup ? [words[0]] : []), global: global) }
        guard let spec else {
            if knownGroup && words.count == 1 { return .help(path: words, global: global) }
            throw UsageError(Message("usage.unknown_command", words.joined(separator: " ")), path: knownGroup ? [words[0]] : [])
        }
        for o in spec.options where o.required && values[o.name] == nil {
            if spec.takesSecret && o.name == "--secret" { continue }
            throw UsageError(Message("usage.missing_option", o.name, spec.name), path: spec.path)
        }
        if values["--secret"] != nil && values["--secret-file"] != nil {
            throw UsageError(Message("usage.secret_twice"), path: spec.path)
        }
        return .run(Parsed(command: spec, values: values, flags: flags, global: global))
    }

    /// Whether `name` is an option that consumes the next word, given the command words seen so far.
    static func optionTakesValue(_ name: String, words: [String]) -> Bool {
        if let spec = CommandTable.find(words), let o = spec.options.first(where: { $0.name == name || $0.aliases.contains(name) }) {
            return !o.isFlag
        }
        if let g = CommandTable.global.first(where: { $0.name == name || $0.aliases.contains(name) }) { return !g.isFlag }
        // The command may not be complete yet (`ose --k x args set`): look in every command.
        let candidates = CommandTable.commands.filter { words.isEmpty || Array($0.path.prefix(words.count)) == words }
        return candidates.contains { $0.options.contains { ($0.name == name || $0.aliases.contains(name)) && !$0.isFlag } }
    }
}
