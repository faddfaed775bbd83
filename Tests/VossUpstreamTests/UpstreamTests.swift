import Testing
import VossBlobStore
import VossConfig
import VossS3Core
import VossS3Store
@testable import VossUpstream

@Suite struct EndpointTests {
    @Test(arguments: [
        ("http://127.0.0.1:7480", UpstreamEndpoint(tls: false, host: "127.0.0.1", port: 7480)),
        ("https://rgw.example.com", UpstreamEndpoint(tls: true, host: "rgw.example.com", port: 443)),
        ("HTTP://h/some/path", UpstreamEndpoint(tls: false, host: "h", port: 80)),
        ("https://[::1]:9000/", UpstreamEndpoint(tls: true, host: "::1", port: 9000)),
    ])
    func parses(_ url: String, _ want: UpstreamEndpoint) {
        #expect(UpstreamEndpoint.parse(url) == want)
    }

    @Test(arguments: [
        "", "ftp://h", "http://", "http://:80", "http://h:0", "http://h:65536", "http://h:８０", "http://user@h", "http://h:-1",
        "http://[::1", "http://h h", "http://h:99999999999999999999",
    ])
    func refuses(_ url: String) {
        #expect(UpstreamEndpoint.parse(url) == nil)
    }

    @Test func hostHeaderLeavesOutTheDefaultPort() {
        #expect(UpstreamEndpoint(tls: true, host: "h", port: 443).hostHeader == "h")
        #expect(UpstreamEndpoint(tls: false, host: "::1", port: 8080).hostHeader == "[::1]:8080")
    }
}

@Suite struct BlobIDTests {
    @Test func idsNameTheirPlatform() {
        let local = BlobID.make(platform: "local", tenant: "t")
        #expect(local.utf8.count == 32 && BlobID.platform(of: local) == "local" && BlobID.tenant(of: local) == nil)
        let up = BlobID.make(platform: "ceph", tenant: "6e72acac-933f")
        #expect(BlobID.platform(of: up) == "ceph" && BlobID.tenant(of: up) == "6e72acac-933f" && BlobID.leaf(of: up).utf8.count == 32)
        let ref = BlobID.partReference(up, handle: "2~abc")
        #expect(BlobID.splitPartReference(ref)! == (up, "2~abc"))
        #expect(BlobID.platform(of: ref) == "ceph")
        #expect(BlobID.splitPartReference(up) == nil)
    }

    @Test func segmentsFollowPiecesAndOffsets() {
        // Three parts of one assembled blob, the middle one left out by the client (offset 10..20 unused).
        let s = ObjectStorage(pieces: [.init(blob: "b", size: 10, offset: 0), .init(blob: "b", size: 5, offset: 20)])
        #expect(s.blobs == ["b"])
        let all = s.segments(first: 0, count: 15).map { [$0.offset, $0.length] }
        #expect(all == [[0, 10], [20, 5]])
        #expect(s.segments(first: 8, count: 4).map { [$0.offset, $0.length] } == [[8, 2], [20, 2]])
        #expect(s.segments(first: 12, count: 3).map { [$0.offset, $0.length] } == [[22, 3]])
        let plain = ObjectStorage(pieces: [.init(blob: "x", size: 4), .init(blob: "y", size: 4)])
        #expect(plain.segments(first: 3, count: 2).map { "\($0.blob)@\($0.offset)+\($0.length)" } == ["x@3+1", "y@0+1"])
    }
}

@Suite struct PlatformConfigTests {
    @Test func completeUpstreamsAreRead() {
        let c = UpstreamPlatformConfig(name: "ceph1", url: "http://rgw:7480", region: "default", accessKey: "A", secret: "S", quotaGB: 5)
        var values = c.keys
        values["platforms.s3.half.url"] = "http://x"  // no keys: not a platform yet
        values["platforms.default"] = "ceph1"
        #expect(PlatformConfig.upstreams(values) == [c])
        #expect(PlatformConfig.defaultPlatform(values) == "ceph1")
        #expect(PlatformConfig.defaultPlatform([:]) == "local")
    }

    @Test func valuesAreValidated() {
        #expect(PlatformConfig.validate("platforms.s3.ceph1.url", "http://h:1").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.ceph1.url", "ftp://h").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.Ceph.url", "http://h").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.local.url", "http://h").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.ceph1.tenancy", "everyone").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.ceph1.quota_gb", "0").isEmpty)
        #expect(!PlatformConfig.validate("platforms.s3.ceph1.nonsense", "1").isEmpty)
        #expect(PlatformConfig.validate("platforms.default", "local").isEmpty)
        #expect(ConfigSchema.isSecret("platforms.s3.ceph1.secret"))
        #expect(!ConfigSchema.isSecret("platforms.s3.ceph1.access_key"))
    }
}

@Suite struct VendorPlatformConfigTests {
    @Test func cloudianAndECSArePlatformsOnceAdminAndS3AreSet() {
        var v = ["cloudian.admin.url": "https://hs:19443", "cloudian.admin.user": "sysadmin", "cloudian.admin.secret": "P-w0rd!x"]
        #expect(PlatformConfig.upstreams(v).isEmpty)
        v["cloudian.s3.url"] = "https://s3.hs"
        let c = PlatformConfig.upstreams(v)
        #expect(c.count == 1 && c[0].name == "cloudian" && c[0].kind == "cloudian" && c[0].adminUser == "sysadmin" && c[0].url == "https://s3.hs")
        #expect(!PlatformConfig.isValidName("ecs") && !PlatformConfig.isValidName("cloudian"))
        #expect(PlatformConfig.validate("platforms.default", "ecs").isEmpty)
        #expect(ConfigSchema.isSecret("ecs.admin.secret") && ConfigSchema.isSecret("cloudian.console.secret"))
    }
}
