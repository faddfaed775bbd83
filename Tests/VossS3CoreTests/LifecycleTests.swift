import Foundation
import Testing
import VossS3Core

/// Lifecycle rules: the document as S3 checks it, and the decisions at a given time.
@Suite struct LifecycleTests {
    static let doc = """
        <LifecycleConfiguration>
          <Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>
          <Rule><ID>big-tmp</ID><Filter><And><Prefix>tmp/</Prefix><Tag><Key>kind</Key><Value>scratch</Value></Tag>
            <ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>
            <Expiration><Date>2026-01-01T00:00:00Z</Date></Expiration></Rule>
          <Rule><ID>old</ID><Prefix></Prefix><Status>Enabled</Status>
            <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>
            <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
          <Rule><ID>markers</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
          <Rule><ID>off</ID><Filter><Prefix>x</Prefix></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
        </LifecycleConfiguration>
        """

    func date(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    @Test func theDocumentRoundTrips() throws {
        let rules = try Lifecycle.parse(Array(Self.doc.utf8)).get()
        #expect(rules.map(\.id) == ["logs", "big-tmp", "old", "markers", "off"])
        #expect(rules[1].tags == ["kind": "scratch"] && rules[1].sizeGreaterThan == 100 && rules[1].prefix == "tmp/")
        #expect(try Lifecycle.parse(Array(Lifecycle.xml(rules).utf8)).get() == rules)
    }

    @Test func expirationIsRoundedUpToMidnightUTC() {
        #expect(Lifecycle.due(date("2026-03-01T10:30:00Z"), days: 1) == date("2026-03-03T00:00:00Z"))
        #expect(Lifecycle.due(date("2026-03-01T00:00:00Z"), days: 1) == date("2026-03-02T00:00:00Z"))
    }

    @Test func decisions() throws {
        let rules = try Lifecycle.parse(Array(Self.doc.utf8)).get()
        let made = date("2026-03-01T10:00:00Z")
        func current(_ key: String, size: Int64 = 1, tags: [String: String] = [:], now: String) -> Bool {
            Lifecycle.currentExpires(rules, key: key, size: size, tags: tags, modified: made, now: date(now))
        }
        #expect(!current("logs/a", now: "2026-03-31T23:59:59Z"))
        #expect(current("logs/a", now: "2026-04-01T00:00:00Z"))
        #expect(!current("data/a", now: "2030-01-01T00:00:00Z"))
        #expect(current("tmp/a", size: 101, tags: ["kind": "scratch"], now: "2026-03-02T00:00:00Z"))  // the date has passed
        #expect(!current("tmp/a", size: 100, tags: ["kind": "scratch"], now: "2026-03-02T00:00:00Z"))
        #expect(!current("tmp/a", size: 101, tags: ["kind": "other"], now: "2026-03-02T00:00:00Z"))
        #expect(!current("x1", now: "2030-01-01T00:00:00Z"))  // disabled rule
        // Noncurrent for 7 days, and at least 2 newer noncurrent versions kept.
        let since = date("2026-03-01T12:00:00Z")
        #expect(!Lifecycle.noncurrentExpires(rules, key: "k", size: 1, tags: [:], since: since, newer: 2, now: date("2026-03-08T23:00:00Z")))
        #expect(Lifecycle.noncurrentExpires(rules, key: "k", size: 1, tags: [:], since: since, newer: 2, now: date("2026-03-09T00:00:00Z")))
        #expect(!Lifecycle.noncurrentExpires(rules, key: "k", size: 1, tags: [:], since: since, newer: 1, now: date("2027-01-01T00:00:00Z")))
        #expect(Lifecycle.markerExpires(rules, key: "anything"))
        #expect(Lifecycle.uploadExpires(rules, key: "u", initiated: made, now: date("2026-03-05T00:00:00Z")))
        #expect(!Lifecycle.uploadExpires(rules, key: "u", initiated: made, now: date("2026-03-04T23:00:00Z")))
    }

    @Test(arguments: [
        ("<LifecycleConfiguration/>", "MalformedXML"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>", "InvalidRequest"),
        ("<LifecycleConfiguration><Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>", "MalformedXML"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>", "InvalidArgument"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>-5</Days></Expiration></Rule></LifecycleConfiguration>", "InvalidArgument"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>99999999999999999999</Days></Expiration></Rule></LifecycleConfiguration>", "InvalidArgument"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Date>2026-01-01T10:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>", "InvalidArgument"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days><Date>2026-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>", "MalformedXML"),
        ("<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>", "InvalidArgument"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>", "InvalidStorageClass"),
        ("<LifecycleConfiguration><Rule><Status>Enabled</Status><NoncurrentVersionExpiration></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>", "MalformedXML"),
    ])
    func badDocumentsAreRefused(_ doc: String, _ code: String) {
        guard case .failure(let e) = Lifecycle.parse(Array(doc.utf8)) else {
            Issue.record("accepted \(doc)")
            return
        }
        #expect(e.code == code)
    }
}
