import Foundation
import Testing
import VossS3Core

@testable import VossS3Store

/// The role matrix of issue 11: 2 tenants × 3 roles (plus anonymous) × read, write, configure and
/// list, on a bucket made by a tenant user, with and without grants and public-read.
@Suite struct AccessTests {
    static let t = [TenantRecord(id: "T1", name: "acme", createdAt: .distantPast), TenantRecord(id: "T2", name: "other", createdAt: .distantPast)]

    static func who(_ tenant: Int, _ role: Role, _ user: String) -> Principal {
        Principal(accessKey: "AK" + user, secret: "s", user: UserRecord(id: user, tenantID: t[tenant].id, name: user, role: role, createdAt: .distantPast),
                  tenant: t[tenant])
    }

    // In tenant 1: alice (creator of the bucket), bob (another user), carol (tenant admin); in
    // tenant 2: dave (user), erin (tenant admin); and a provider admin in tenant 2.
    static let alice = who(0, .tenantUser, "alice"), bob = who(0, .tenantUser, "bob"), carol = who(0, .tenantAdmin, "carol")
    static let dave = who(1, .tenantUser, "dave"), erin = who(1, .tenantAdmin, "erin"), root = who(1, .providerAdmin, "root")

    static func bucket(_ policy: AccessPolicy = .private) -> BucketRecord {
        BucketRecord(id: 1, name: "b", tenantID: "T1", ownerID: "alice", createdAt: .distantPast, region: "us-east-1", policy: policy, tags: nil)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var who: Principal?
        var policy: AccessPolicy
        /// read, write, configure, listed
        var expect: (Bool, Bool, Bool, Bool)
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        // A private bucket of alice's.
        Row(name: "creator", who: alice, policy: .private, expect: (true, true, true, true)),
        Row(name: "other user, same tenant", who: bob, policy: .private, expect: (false, false, false, false)),
        Row(name: "tenant admin, same tenant", who: carol, policy: .private, expect: (true, true, true, true)),
        Row(name: "user of another tenant", who: dave, policy: .private, expect: (false, false, false, false)),
        Row(name: "admin of another tenant", who: erin, policy: .private, expect: (false, false, false, false)),
        Row(name: "provider admin", who: root, policy: .private, expect: (true, true, true, false)),
        Row(name: "anonymous", who: nil, policy: .private, expect: (false, false, false, false)),
        // Public-read: everybody reads; nobody else writes or configures.
        Row(name: "public-read, other user", who: bob, policy: AccessPolicy(canned: .publicRead), expect: (true, false, false, false)),
        Row(name: "public-read, other tenant", who: dave, policy: AccessPolicy(canned: .publicRead), expect: (true, false, false, false)),
        Row(name: "public-read, anonymous", who: nil, policy: AccessPolicy(canned: .publicRead), expect: (true, false, false, false)),
        // Grants to a user, to the own tenant, to another tenant: read or write, never configure.
        Row(name: "read granted to bob", who: bob, policy: AccessPolicy(readTenants: ["bob"]), expect: (true, false, false, true)),
        Row(name: "write granted to bob", who: bob, policy: AccessPolicy(writeTenants: ["bob"]), expect: (true, true, false, true)),
        Row(name: "read granted to tenant 1, bob", who: bob, policy: AccessPolicy(readTenants: ["T1"]), expect: (true, false, false, true)),
        Row(name: "write granted to tenant 2, dave", who: dave, policy: AccessPolicy(writeTenants: ["T2"]), expect: (true, true, false, false)),
        Row(name: "write granted to tenant 2, erin", who: erin, policy: AccessPolicy(writeTenants: ["T2"]), expect: (true, true, false, false)),
        Row(name: "grant to bob, dave", who: dave, policy: AccessPolicy(readTenants: ["bob"], writeTenants: ["bob"]), expect: (false, false, false, false)),
        // The other canned ACLs and FULL_CONTROL grants.
        Row(name: "public-read-write, other tenant", who: dave, policy: AccessPolicy(canned: .publicReadWrite), expect: (true, true, false, false)),
        Row(name: "public-read-write, anonymous", who: nil, policy: AccessPolicy(canned: .publicReadWrite), expect: (true, false, false, false)),
        Row(name: "authenticated-read, other tenant", who: dave, policy: AccessPolicy(canned: .authenticatedRead), expect: (true, false, false, false)),
        Row(name: "authenticated-read, anonymous", who: nil, policy: AccessPolicy(canned: .authenticatedRead), expect: (false, false, false, false)),
        Row(name: "full control to tenant 2, dave", who: dave, policy: AccessPolicy(fullControl: ["T2"]), expect: (true, true, false, false)),
    ]

    @Test func bucketOwnerEnforcedIgnoresACLs() {
        var b = Self.bucket(AccessPolicy(canned: .publicRead, readTenants: ["T2"], fullControl: ["T2"]))
        b.settings.ownership = .bucketOwnerEnforced
        #expect(!Access.canRead(bucket: b, principal: nil))
        #expect(!Access.canRead(bucket: b, principal: Self.dave))
        #expect(!Access.canWriteACL(bucket: b, principal: Self.dave))
        #expect(Access.canRead(bucket: b, principal: Self.alice))
    }

    @Test(arguments: rows) func matrix(_ r: Row) {
        let b = Self.bucket(r.policy)
        #expect(Access.canRead(bucket: b, principal: r.who) == r.expect.0, "read")
        #expect(Access.canWrite(bucket: b, principal: r.who) == r.expect.1, "write")
        #expect(Access.isOwner(bucket: b, principal: r.who) == r.expect.2, "configure")
        if let p = r.who { #expect(Access.lists(bucket: b, principal: p) == r.expect.3, "listed") }
    }

    @Test func objectACLOpensOneObjectOnly() {
        let b = Self.bucket()
        let o = ObjectRecord(
            bucketID: 1, key: "k", size: 0, etag: "e", lastModified: .distantPast, headers: .init(), checksum: nil,
            policy: AccessPolicy(readTenants: ["T2"]), tags: [:], storage: ObjectStorage(pieces: []), ownerID: "alice")
        #expect(Access.canRead(object: o, in: b, principal: Self.dave))
        #expect(!Access.canRead(object: o, in: b, principal: Self.bob))
        #expect(!Access.canWrite(bucket: b, principal: Self.dave))
    }
}
