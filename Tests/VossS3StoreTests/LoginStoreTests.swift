import Crypto
import Foundation
import Testing
import VossS3Core
import VossS3Store
import VossSQLite

/// Passwords and sessions in the store (real SQLite in a temporary directory), and the hashes.
@Suite struct LoginStoreTests {
    let store: SQLMetadataStore

    init() async throws {
        let dir = NSTemporaryDirectory() + "voss-logins-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try SQLMetadataStore.sqlite(path: dir + "/m.sqlite", secretKey: SymmetricKey(size: .bits256))
        _ = try await store.createTenant(name: "acme")
        _ = try await store.createUser(tenant: "acme", name: "alice", role: .tenantAdmin)
    }

    static let cheap = Passwords.Cost(n: 16, r: 1, p: 1)

    @Test func aPasswordVerifiesAndNothingElseDoes() throws {
        let h = try Passwords.hash("S3cret!pass", cost: Self.cheap)
        #expect(h.hasPrefix("scrypt$16$1$1$"))
        #expect(Passwords.verify("S3cret!pass", against: h))
        #expect(!Passwords.verify("S3cret!pasS", against: h))
        #expect(!Passwords.verify("", against: h))
        // Two hashes of one password differ (random salt).
        #expect(try Passwords.hash("S3cret!pass", cost: Self.cheap) != h)
    }

    @Test(arguments: [
        "", "scrypt", "scrypt$16$1$1$$", "bcrypt$16$1$1$AAAA$AAAA", "scrypt$15$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "scrypt$1099511627776$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + String(repeating: "A", count: 44),
        "scrypt$16$1$99$AAAAAAAAAAAAAAAAAAAAAA==$" + String(repeating: "A", count: 44), "scrypt$16$1$1$!!$!!",
    ])
    func aDamagedHashNeverMatches(_ stored: String) {
        #expect(!Passwords.verify("anything", against: stored))
    }

    @Test func tokensAreLongRandomAndOnlyTheirHashIsKept() {
        let a = Passwords.newToken(), b = Passwords.newToken()
        #expect(a != b && a.count == 43)
        #expect(a.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(Passwords.tokenHash(a).count == 64 && Passwords.tokenHash(a) != Passwords.tokenHash(b))
    }

    @Test func credentialsCarryTheHashOnceSet() async throws {
        let before = try #require(try await store.credentials(tenant: "acme", user: "alice"))
        #expect(before.passwordHash == nil && before.user.role == .tenantAdmin && before.tenant.name == "acme")
        try await store.setPassword(tenant: "acme", user: "alice", hash: "h1")
        try await store.setPassword(tenant: "acme", user: "alice", hash: "h2")
        #expect(try await store.credentials(tenant: "acme", user: "alice")?.passwordHash == "h2")
        #expect(try await store.credentials(tenant: "acme", user: "bob") == nil)
        #expect(try await store.credentials(tenant: "other", user: "alice") == nil)
        await #expect(throws: StoreError.self) { try await store.setPassword(tenant: "acme", user: "bob", hash: "h") }
    }

    @Test func sessionsExpireEndWithANewPasswordAndWithTheirUser() async throws {
        let now = Date()
        let uid = try #require(try await store.credentials(tenant: "acme", user: "alice")).user.id
        try await store.createSession(tokenHash: "t1", userID: uid, now: now, expires: now.addingTimeInterval(60))
        try await store.createSession(tokenHash: "t2", userID: uid, now: now, expires: now.addingTimeInterval(60))
        #expect(try await store.session(tokenHash: "t1", now: now)?.user.name == "alice")
        #expect(try await store.session(tokenHash: "t1", now: now.addingTimeInterval(61)) == nil)
        try await store.deleteSession(tokenHash: "t1")
        #expect(try await store.session(tokenHash: "t1", now: now) == nil)
        #expect(try await store.session(tokenHash: "t2", now: now) != nil)
        try await store.setPassword(tenant: "acme", user: "alice", hash: "h")
        #expect(try await store.session(tokenHash: "t2", now: now) == nil)
        try await store.createSession(tokenHash: "t3", userID: uid, now: now, expires: now.addingTimeInterval(60))
        try await store.deleteUser(tenant: "acme", name: "alice")
        #expect(try await store.session(tokenHash: "t3", now: now) == nil)
        await #expect(throws: StoreError.self) {
            try await store.createSession(tokenHash: "t4", userID: uid, now: now, expires: now.addingTimeInterval(60))
        }
    }
}
