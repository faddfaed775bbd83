import Testing
import VossS3Store

@testable import VossUpstream

/// The director's pure parts: SPEC.md §3's role table, the API version VOSS picks, the upload link.
@Suite struct DirectorTests {
    static let ui = "UI Plugins: View", admin = "General: Administrator View", pvdc = "Provider VDC: View", ovdc = "Organization vDC: View"

    @Test(arguments: [
        // SPEC.md §3, row by row, and the "becomes" notes.
        ([ui, admin, pvdc, ovdc], Role.providerAdmin),
        ([ui, admin, ovdc], .tenantAdmin),
        ([ui], .tenantUser),
        ([ui, admin], .tenantAdmin),  // a tenant user that also holds Administrator View
        ([ui, admin, ovdc, pvdc], .providerAdmin),  // a tenant admin that also holds Provider VDC: View
        ([ui, pvdc], .tenantUser),  // Provider VDC: View alone gives nothing more
        (["ui plugins: view"], .tenantUser),  // names compare without case
    ] as [([String], Role)])
    func rolesFromRights(_ rights: [String], _ role: Role) {
        #expect(DirectorRights.role(Set(rights)) == role)
    }

    @Test func withoutUIPluginsViewThereIsNoAccess() {
        #expect(DirectorRights.role([Self.admin, Self.pvdc, Self.ovdc]) == nil)
        #expect(DirectorRights.role([]) == nil)
    }

    @Test func theNewestVersionFromThirtyThreeOn() {
        #expect(DirectorClient.pick(["33.0", "36.0", "37.2"]) == "37.2")
        #expect(DirectorClient.pick(["36.0", "33.0"]) == "36.0")
        #expect(DirectorClient.pick(["27.0", "31.0", "junk"]) == nil)
        #expect(DirectorClient.pick([]) == nil)
    }

    @Test func theTransferLinkIsReadFromTheLinkHeader() {
        let h = #"<https://vcd.example.com/transfer/3f1a/voss.zip>;rel="upload:default";type="application/octet-stream""#
        #expect(DirectorClient.uploadLink(h) == "https://vcd.example.com/transfer/3f1a/voss.zip")
        #expect(DirectorClient.uploadLink(#"<https://x/y>;rel="next""#) == nil)
        #expect(DirectorClient.uploadLink("garbage>upload:default<") == nil)
        #expect(DirectorClient.path(of: "https://vcd.example.com:443/transfer/a/b.zip") == "/transfer/a/b.zip")
        #expect(DirectorClient.path(of: "/transfer/a") == "/transfer/a")
        #expect(DirectorClient.path(of: "transfer") == nil)
    }

    @Test func theManifestIsJSONWhateverTheURLHolds() throws {
        let m = DirectorPlugin.manifest(version: "0.1.0", oseURL: "https://s3.example.com/\"x\\\n")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(m.utf8)) as? [String: Any])
        #expect(decoded["link"] as? String == "https://s3.example.com/\"x\\\n")
    }

    @Test func theZipHasItsSignaturesAndEntries() {
        let z = DirectorPlugin.zip(version: "0.1.0", oseURL: "https://s3.example.com")
        #expect(Array(z.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])
        #expect(Array(z.suffix(22).prefix(4)) == [0x50, 0x4B, 0x05, 0x06])
        #expect(z.suffix(22)[z.count - 22 + 10] == 2)  // two entries
    }
}

import Foundation
