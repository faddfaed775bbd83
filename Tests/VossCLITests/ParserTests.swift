import Testing
import VossBase
import VossWire

@testable import VossCLI

@Suite struct ParserTests {
    func run(_ args: String...) throws -> Parsed {
        guard case .run(let p) = try Parser.parse(args) else {
            Issue.record("not a run")
            throw UsageError(Message("x"), path: [])
        }
        return p
    }

    @Test func argsSet_takesKeyAndValue_inAnyOrder() throws {
        let p = try run("args", "set", "--v", "10", "--k", "worker.restart.max")
        #expect(p.command.path == ["args", "set"])
        #expect(p.value("--k") == "worker.restart.max")
        #expect(p.value("--v") == "10")
        let q = try run("args", "set", "--k=a", "--v=-5", "--json")
        #expect(q.value("--v") == "-5")
        let r = try run("args", "set", "--k", "a", "--v", "-3")
        #expect(r.value("--v") == "-3")
        let s = try run("cert", "import", "--path", "x.p12", "--secret-file", "-")
        #expect(s.value("--secret-file") == "-")
        #expect(q.global.json)
    }

    @Test func globalOptions_mayComeFirst() throws {
        let p = try run("--json", "--port", "6000", "service", "show")
        #expect(p.global.port == 6000)
        #expect(p.command.path == ["service", "show"])
    }

    @Test func help_atEveryLevel() throws {
        #expect(try Parser.parse([]) == .help(path: [], global: GlobalOptions()))
        #expect(try Parser.parse(["-h"]) == .help(path: [], global: GlobalOptions()))
        #expect(try Parser.parse(["args"]) == .help(path: ["args"], global: GlobalOptions()))
        #expect(try Parser.parse(["cert", "import", "--help"]) == .help(path: ["cert", "import"], global: GlobalOptions()))
        #expect(try Parser.parse(["--version"]) == .version(global: GlobalOptions()))
    }

    @Test func usageErrors_sayWhatIsWrong() {
        func code(_ args: [String]) -> String? {
            do {
                _ = try Parser.parse(args)
                return nil
            } catch { return error.message.key }
        }
        #expect(code(["args", "set", "--k", "x"]) == "usage.missing_option")
        #expect(code(["args", "set", "--k"]) == "usage.needs_value")
        #expect(code(["args", "frobnicate"]) == "usage.unknown_command")
        #expect(code(["nonsense"]) == "usage.unknown_command")
        #expect(code(["args", "show", "--bogus"]) == "usage.unknown_option")
        #expect(code(["cert", "show", "--with-secret=yes"]) == "usage.flag_takes_no_value")
        #expect(code(["args", "get", "--k", "a", "--k", "b"]) == "usage.repeated")
        #expect(code(["cert", "import", "--path", "x", "--secret", "a", "--secret-file", "f"]) == "usage.secret_twice")
        #expect(code(["--port", "99999", "service", "show"]) == "value.port")
    }

    @Test func secretCommands_doNotRequireSecretOnTheCommandLine() throws {
        let p = try run("cert", "import", "--path", "/tmp/x.p12")
        #expect(p.value("--secret") == nil)
    }
}

@Suite struct RenderTests {
    @Test func table_alignsChineseText() {
        let t = TextTable(header: ["名称", "State"], rows: [["i18n", "运行中"], ["s3", "ok"]]).render()
        let lines = t.split(separator: "\n").map(String.init)
        #expect(Set(lines.map(DisplayWidth.of)).count == 1, "every line has the same display width")
        #expect(lines[2].hasPrefix("+====="))
    }

    @Test func displayWidth_countsWideCharactersTwice() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("运行中") == 6)
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }

    @Test func durations_areShort() {
        #expect(Render.duration(42.9) == "42s")
        #expect(Render.duration(3725) == "1h2m")
        #expect(Render.duration(90061) == "1d1h")
    }

    @Test func serviceShow_listsEveryWorkerWithItsLastExit() {
        let s = ServiceShow(
            state: "ready", summary: Message("summary.ready", "1", "1", "i18n"), logLevel: "info",
            workers: [
                WorkerInfo(
                    name: "i18n", enabled: true, state: "running", pid: 42, uptimeSeconds: 5, restarts: 1,
                    lastExitMessage: Message("why.signaled", "SIGKILL"), lastExitAt: nil,
                    healthMessage: Message("health.healthy"), status: "1 products",
                    listeners: ["127.0.0.1:8091"], counters: ["requests": 3])
            ])
        let text = Render.serviceShow(s, .english)
        #expect(text.contains("| i18n "))
        #expect(text.contains("killed by SIGKILL"))
        #expect(text.contains("requests=3"))
    }

    @Test func pemValues_areSummarised() {
        #expect(Render.displayValue("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n") == "<PEM: CERTIFICATE ×1>")
    }

    @Test func translator_fallsBackToEnglish_andFillsPlaceholders() {
        let t = Translator(messages: ["args.deleted": "已删除 {0}。"], locale: "zh-Hans")
        #expect(t("args.deleted", "x") == "已删除 x。")
        #expect(t("args.set_done", "a", "b") == "a = b")
        #expect(t("no.such.key") == "no.such.key")
    }

    @Test func help_listsEveryCommand() {
        let h = Help.overview(.english)
        for c in CommandTable.commands { #expect(h.contains(c.path.joined(separator: " ")), "\(c.name)") }
        #expect(h.contains("Exit status"))
    }
}
