import Testing
import VossBase

@testable import VossConfig

@Suite struct PasswordPolicyTests {
    @Test func aGoodSecret_passes() {
        #expect(PasswordPolicy.evaluate("Str0ng!pw") == [])
        #expect(PasswordPolicy.evaluate("It's0k'ay") == [])
    }

    @Test(arguments: [
        ("Sh0rt!", [PasswordPolicy.Violation.tooShort]),
        ("alllower1!", [.noUpper]),
        ("ALLUPPER1!", [.noLower]),
        ("NoDigits!!", [.noDigit]),
        ("NoSymbol12", [.noSymbol]),
        ("With space1!A", [.invalidCharacter]),
        ("Tab\there1!A", [.invalidCharacter]),
        ("Ünïcode1!A", [.invalidCharacter]),
        ("", [.tooShort, .noUpper, .noLower, .noDigit, .noSymbol]),
    ])
    func eachRule_isReported(secret: String, expected: [PasswordPolicy.Violation]) {
        #expect(PasswordPolicy.evaluate(secret) == expected)
    }

    @Test func force_skipsThePolicy_butNotEmptiness() {
        #expect(Validators.password("db.secret", "weak", force: true) == [])
        #expect(Validators.password("db.secret", "", force: true).map(\.code) == ["value.empty"])
        #expect(Validators.password("db.secret", "weak", force: false).count == 4)
    }
}

@Suite struct HLCTests {
    @Test func localTicks_areStrictlyIncreasing_evenWhenTheWallClockStalls() {
        var c = HybridClock(node: "a")
        let s1 = c.tick(wallMillis: 1000)
        let s2 = c.tick(wallMillis: 1000)
        let s3 = c.tick(wallMillis: 999)
        #expect(s1 < s2 && s2 < s3)
        #expect(s3 == HLC(wallMillis: 1000, counter: 2, node: "a"))
    }

    @Test func observingARemoteStampFromTheFuture_ordersLaterLocalWritesAfterIt() {
        var c = HybridClock(node: "a")
        let remote = HLC(wallMillis: 5000, counter: 7, node: "b")
        c.observe(remote, wallMillis: 1000)
        let next = c.tick(wallMillis: 1001)
        #expect(next > remote)
    }

    @Test func ties_breakByNode() {
        #expect(HLC(wallMillis: 1, counter: 0, node: "a") < HLC(wallMillis: 1, counter: 0, node: "b"))
    }
}

@Suite struct ConfigDocumentTests {
    let s1 = HLC(wallMillis: 1, counter: 0, node: "a")
    let s2 = HLC(wallMillis: 2, counter: 0, node: "b")

    @Test func olderWrites_lose() {
        var d = ConfigDocument()
        let first = d.set("args.x", "new", stamp: s2, secret: false)
        let second = d.set("args.x", "old", stamp: s1, secret: false)
        #expect(first && !second)
        #expect(d["args.x"] == "new")
    }

    @Test func tombstones_winOverOlderValues_andHideTheKey() {
        var d = ConfigDocument()
        d.set("args.x", "v", stamp: s1, secret: false)
        d.set("args.x", nil, stamp: s2, secret: false)
        #expect(d["args.x"] == nil)
        #expect(d.values(withPrefix: "args.").isEmpty)
    }

    @Test func merge_isCommutativeAndIdempotent() {
        var a = ConfigDocument()
        a.set("args.x", "a", stamp: s1, secret: false)
        a.set("args.y", "a", stamp: s2, secret: false)
        var b = ConfigDocument()
        b.set("args.x", "b", stamp: s2, secret: false)
        b.set("args.z", "b", stamp: s1, secret: false)
        var ab = a
        let changed = ab.merge(b.entries)
        #expect(changed == ["args.x", "args.z"])
        var ba = b
        _ = ba.merge(a.entries)
        #expect(ab == ba)
        #expect(ab.digest == ba.digest)
        var again = ab
        let none = again.merge(b.entries)
        #expect(none == [])
        #expect(again == ab)
    }

    @Test func digest_changesWithAnyStamp() {
        var d = ConfigDocument()
        d.set("args.x", "1", stamp: s1, secret: false)
        let before = d.digest
        d.set("args.x", "1", stamp: s2, secret: false)
        #expect(d.digest != before)
    }
}

@Suite struct SchemaTests {
    @Test func knownArgs_areValidated() {
        #expect(ConfigSchema.validate(key: "args.worker.restart.max", value: "1000") == [])
        #expect(ConfigSchema.validate(key: "args.worker.restart.max", value: "-1").map(\.code) == ["value.integer_range"])
        #expect(ConfigSchema.validate(key: "args.worker.ping.interval", value: "250ms") == [])
        #expect(ConfigSchema.validate(key: "args.worker.ping.interval", value: "2 fortnights").map(\.code)
            == ["value.duration_range"])
        #expect(ConfigSchema.validate(key: "args.log.level", value: "loud").map(\.code) == ["value.one_of"])
    }

    @Test func freeArgs_needAValidKey_andPrintableValue() {
        #expect(ConfigSchema.validate(key: "args.my-setting_1", value: "anything at all") == [])
        #expect(ConfigSchema.validate(key: "args.1bad", value: "x").map(\.code) == ["args.bad_key"])
        #expect(ConfigSchema.validate(key: "args.a b", value: "x").map(\.code) == ["args.bad_key"])
        #expect(ConfigSchema.validate(key: "args.ok", value: "line\nbreak").map(\.code) == ["value.control_char"])
    }

    @Test func unknownKeys_areRejected() {
        #expect(ConfigSchema.validate(key: "nonsense.key", value: "1").map(\.code) == ["config.unknown_key"])
    }

    @Test func secrets_areMarked() {
        #expect(ConfigSchema.isSecret("cert.key"))
        #expect(!ConfigSchema.isSecret("cert.chain"))
        #expect(!ConfigSchema.isSecret("args.password"))
    }

    @Test func settings_readSupervisionArgs() {
        var d = ConfigDocument()
        d.set("args.worker.restart.max", "1000", stamp: .zero, secret: false)
        d.set("args.worker.ping.interval", "200ms", stamp: .zero, secret: false)
        let s = VossSettings(d)
        #expect(s.supervision.maxRestarts == 1000)
        #expect(s.supervision.pingInterval == .milliseconds(200))
    }
}

@Suite struct ValidatorTests {
    @Test func urls() {
        #expect(Validators.httpURL("u", "https://ecs.example.com:4443/api") == [])
        #expect(Validators.httpURL("u", "ftp://x").count == 1)
        #expect(Validators.httpURL("u", "https://user:pw@host").count == 1)
        #expect(Validators.httpURL("u", "https://[::1]:9021") == [])
        #expect(Validators.httpURL("u", "https://host:99999").map(\.code) == ["value.port"])
    }

    @Test func systemUsers() {
        #expect(Validators.systemUser("u", "admin@system") == [])
        #expect(Validators.systemUser("u", "admin").count == 1)
        #expect(Validators.systemUser("u", "@system").count == 1)
    }

    @Test func messages_renderPlaceholders() {
        #expect(Message("value.integer_range", "1", "5").english == "Expected a whole number from 1 to 5.")
        #expect(Message.format("{1}-{0}-{2}", ["a", "b"]) == "b-a-{2}")
    }

    @Test func nodeConfig_reportsEveryProblem() {
        var n = NodeConfig.dev(dataDir: "/tmp/x", libexec: "/usr/libexec/voss", nodeName: "n1")
        n.workers.append(n.workers[0])
        let copy = n.workers.count - 1
        n.workers[copy].listeners[0].tcp?.port = 5198
        n.workers[copy].listeners[1].unix = "/" + String(repeating: "a", count: 120)
        let codes = n.validate().map(\.code)
        #expect(codes == ["node.duplicate_worker", "node.port_in_use", "node.socket_path_too_long"])
    }
}
