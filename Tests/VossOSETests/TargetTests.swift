import Foundation
import Testing
import VossCLI
import VossConfig

@testable import VossOSE

/// Which keeper `ose` talks to: options, then VOSS_HOME's node file, then the installed defaults.
@Suite struct TargetTests {
    @Test func installedDefaults() {
        let t = Target.resolve(GlobalOptions(), env: [:])
        if t.nodeFile == nil {  // a machine without /etc/voss/node.json
            #expect(t.host == "127.0.0.1" && t.port == 5198 && t.tokenPath == "/etc/voss/token")
        }
    }

    @Test func aDevelopmentKeeperFoundThroughVOSS_HOME() throws {
        let home = NSTemporaryDirectory() + "voss-ose-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home + "/etc", withIntermediateDirectories: true)
        var node = NodeConfig.dev(dataDir: home, libexec: "/usr/libexec/voss", nodeName: "n1")
        node.control = .init(address: "127.0.0.2", port: 15198)
        try JSONEncoder().encode(node).write(to: URL(fileURLWithPath: home + "/etc/node.json"))
        let t = Target.resolve(GlobalOptions(), env: ["VOSS_HOME": home])
        #expect(t.host == "127.0.0.2" && t.port == 15198)
        #expect(t.tokenPath == home + "/etc/token")
        #expect(t.nodeFile == home + "/etc/node.json")
        // Options win over the node file.
        var g = GlobalOptions()
        g.port = 1
        g.tokenFile = "/tmp/t"
        let o = Target.resolve(g, env: ["VOSS_HOME": home, "VOSS_TOKEN_FILE": "/ignored"])
        #expect(o.port == 1 && o.tokenPath == "/tmp/t")
    }
}
