import Testing
import VossS3Core

/// Bucket policies: what is refused as malformed, and how a request is decided (explicit deny wins).
@Suite struct BucketPolicyTests {
    func policy(_ json: String, bucket: String = "b") throws -> BucketPolicy { try BucketPolicy.parse(Array(json.utf8), bucket: bucket).get() }

    func request(
        _ action: String, _ resource: String = "arn:aws:s3:::b/k", tenant: String? = "T2", user: String? = "U2", name: String? = "bob",
        keys: [String: [String]] = [:]
    ) -> BucketPolicy.Request {
        BucketPolicy.Request(action: action, resource: resource, tenantID: tenant, userID: user, userName: name, ownerTenantID: "T1", keys: keys)
    }

    static let readForT2 = """
        {"Version":"2012-10-17","Statement":[
          {"Sid":"read","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::T2:root"]},"Action":["s3:GetObject","s3:List*"],
           "Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
          {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"},
          {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*",
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
        """

    @Test func allowDenyAndNothing() throws {
        let p = try policy(Self.readForT2)
        #expect(p.evaluate(request("s3:GetObject")) == .allow)
        #expect(p.evaluate(request("s3:ListBucket", "arn:aws:s3:::b")) == .allow)
        #expect(p.evaluate(request("s3:GetObject", "arn:aws:s3:::b/secret/x")) == .deny)
        #expect(p.evaluate(request("s3:GetObject", tenant: "T3", user: "U3")) == .none)
        #expect(p.evaluate(request("s3:DeleteObject")) == .none)
        #expect(p.evaluate(request("s3:GetObject", tenant: nil, user: nil, name: nil)) == .none)
        #expect(p.evaluate(request("s3:PutObject", keys: ["aws:securetransport": ["false"]])) == .deny)
        #expect(p.evaluate(request("s3:PutObject", keys: ["aws:securetransport": ["true"]])) == .none)
        #expect(!p.isPublic)
    }

    @Test func conditionsOnAddressesPrefixesAndNumbers() throws {
        let p = try policy("""
            {"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
              "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"StringLike":{"s3:prefix":"public/*"},
                           "NumericLessThanEquals":{"s3:max-keys":"100"}}}]}
            """)
        func list(_ ip: String, _ prefix: String, _ max: String = "10") -> BucketPolicy.Decision {
            p.evaluate(request("s3:ListBucket", "arn:aws:s3:::b", tenant: nil, user: nil, name: nil,
                               keys: ["aws:sourceip": [ip], "s3:prefix": [prefix], "s3:max-keys": [max]]))
        }
        #expect(list("10.1.2.3", "public/a") == .allow)
        #expect(list("2001:db8::7", "public/") == .allow)
        #expect(list("::ffff:10.9.9.9", "public/x") == .allow)
        #expect(list("11.1.2.3", "public/a") == .none)
        #expect(list("10.1.2.3", "private/a") == .none)
        #expect(list("10.1.2.3", "public/a", "1000") == .none)
        #expect(list("not-an-ip", "public/a") == .none)
        // A key the request does not have: the condition fails, unless …IfExists or Null.
        #expect(p.evaluate(request("s3:ListBucket", "arn:aws:s3:::b", keys: [:])) == .none)
        let q = try policy("""
            {"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*",
              "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-acl":"private"},"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}
            """)
        #expect(q.evaluate(request("s3:PutObject")) == .deny)
        #expect(q.evaluate(request("s3:PutObject", keys: ["s3:x-amz-acl": ["private"]])) == .none)
        #expect(q.evaluate(request("s3:PutObject", keys: ["s3:x-amz-acl": ["public-read"]])) == .deny)
        #expect(q.evaluate(request("s3:PutObject", keys: ["s3:x-amz-server-side-encryption": ["AES256"]])) == .none)
    }

    @Test func principalsNotActionsAndPublicStatus() throws {
        let p = try policy("""
            {"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::T2:user/bob"},"NotAction":"s3:Delete*",
              "Resource":"arn:aws:s3:::b/*"}}
            """)
        #expect(p.evaluate(request("s3:PutObject")) == .allow)
        #expect(p.evaluate(request("s3:DeleteObject")) == .none)
        #expect(p.evaluate(request("s3:PutObject", name: "eve")) == .none)
        let pub = try policy(#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#)
        #expect(pub.isPublic)
        #expect(pub.evaluate(request("s3:GetObject", tenant: nil, user: nil, name: nil)) == .allow)
        let narrowed = try policy("""
            {"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
              "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}
            """)
        #expect(!narrowed.isPublic)
    }

    @Test(arguments: [
        "", "[]", "not json", #"{"Statement":[]}"#, #"{"Version":"2020-01-01","Statement":[]}"#,
        #"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::b/*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::b/*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Sometimes":{"a":"b"}}}]}"#,
        #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"a":{"b":1}}}}]}"#,
        #"{"Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    ])
    func malformedPoliciesAreRefused(_ json: String) {
        guard case .failure(let e) = BucketPolicy.parse(Array(json.utf8), bucket: "b") else {
            Issue.record("accepted \(json)")
            return
        }
        #expect(e.code == "MalformedPolicy")
    }

    @Test func aPolicyOver20KBIsTooLarge() {
        let big = Array(repeating: UInt8(ascii: " "), count: 20 * 1024 + 1)
        guard case .failure(let e) = BucketPolicy.parse(big, bucket: "b") else { return #expect(Bool(false)) }
        #expect(e.code == "PolicyTooLarge")
    }
}
