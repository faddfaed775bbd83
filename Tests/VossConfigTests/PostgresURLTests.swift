import Testing
import VossBase
import VossConfig

@Suite struct PostgresURLTests {
    func ok(_ s: String) -> PostgresURL? {
        if case .success(let u) = PostgresURL.parse(s) { return u }
        return nil
    }

    func code(_ s: String) -> String? {
        if case .failure(let i) = PostgresURL.parse(s) { return i.message.key }
        return nil
    }

    @Test func theOriginalForm() {
        let u = ok("jdbc:postgresql://db_host:5432/ossdb")!
        #expect(u.hosts == [.init("db_host", 5432)])
        #expect(u.database == "ossdb")
        #expect(u.sslMode == .prefer)
        #expect(u.jdbc == "jdbc:postgresql://db_host:5432/ossdb")
    }

    @Test func severalHosts_ipv6_defaultPort_andParameters() {
        let u = ok("jdbc:postgresql://h1:5433,[::1]:5434,h3/voss%20db?sslmode=verify-full&connectTimeout=3&socketTimeout=7&targetServerType=primary")!
        #expect(u.hosts == [.init("h1", 5433), .init("::1", 5434), .init("h3", 5432)])
        #expect(u.database == "voss db")
        #expect(u.sslMode == .verifyFull && u.connectTimeout == 3 && u.socketTimeout == 7)
        #expect(u.jdbc == "jdbc:postgresql://h1:5433,[::1]:5434,h3:5432/voss%20db?sslmode=verify-full&connectTimeout=3&socketTimeout=7")
        #expect(ok(u.jdbc) == u)
        #expect(ok("postgresql://localhost/voss")?.hosts == [.init("localhost", 5432)])
        #expect(ok("jdbc:postgresql://h/db?ssl=true")?.sslMode == .require)
    }

    @Test(arguments: [
        ("mysql://h/db", "db.url_form"),
        ("jdbc:postgresql://h:5432", "db.url_no_database"),
        ("jdbc:postgresql://h:5432/", "db.url_no_database"),
        ("jdbc:postgresql://u:pw@h/db", "db.url_credentials"),
        ("jdbc:postgresql://h/db?password=x", "db.url_credentials"),
        ("jdbc:postgresql://h:99999/db", "value.port"),
        ("jdbc:postgresql://h:x/db", "value.port"),
        ("jdbc:postgresql://bad host/db", "db.url_form"),
        ("jdbc:postgresql://-h/db", "db.url_host"),
        ("jdbc:postgresql://h1,,h2/db", "db.url_host"),
        ("jdbc:postgresql://[::1/db", "db.url_host"),
        ("jdbc:postgresql://h/db?sslmode=maybe", "db.url_param_value"),
        ("jdbc:postgresql://h/db?connectTimeout=0", "db.url_param_value"),
        ("jdbc:postgresql://h/db?loginTimeout=5", "db.url_param"),
        ("jdbc:postgresql://h/db%ZZ", "db.url_no_database"),
    ])
    func rejections(url: String, expected: String) {
        #expect(code(url) == expected)
    }

    @Test func schemaValidatesTheURL_andKnowsNodeLocalKeys() {
        #expect(ConfigSchema.validate(key: "db.url", value: "jdbc:postgresql://h/db").isEmpty)
        #expect(ConfigSchema.validate(key: "db.url", value: "h/db").map(\.message.key) == ["db.url_form"])
        #expect(ConfigSchema.validate(key: "db.active", value: "sqlite").map(\.message.key) == ["value.one_of"])
        #expect(ConfigSchema.isSecret("db.secret"))
        #expect(ConfigSchema.isNodeLocal("db.active") && ConfigSchema.isNodeLocal("db.migrating"))
        #expect(!ConfigSchema.isNodeLocal("db.url"))
    }
}
