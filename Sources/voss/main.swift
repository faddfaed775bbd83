// The multi-call binary shipped in the RPM: /usr/libexec/voss/voss, with voss-keeper, voss-i18n, voss-s3,
// voss-vip and /usr/bin/ose as symbolic links to it. It runs the program its name (or
// its first argument: `voss keeper ...`) names. One static binary instead of five keeps the package
// small: each program alone links the whole Swift runtime and Foundation.
import Foundation
import VossI18nServer
import VossKeeperKit
import VossOSE
import VossS3Gateway
import VossVIPServer
import VossWorkerKit

var args = Array(CommandLine.arguments)
var name = (args[0] as NSString).lastPathComponent
if name == "voss", args.count > 1 {
    name = args[1].hasPrefix("voss-") || args[1] == "ose" ? args[1] : "voss-" + args[1]
    args.removeFirst()
}
let rest = Array(args.dropFirst())
switch name {
case "voss-keeper":
    await KeeperMain.run(arguments: rest)
case "voss-i18n":
    await WorkerRuntime.main(name: "i18n", app: I18nWorker())
case "voss-s3":
    await WorkerRuntime.main(name: "s3", app: S3Worker())
case "voss-vip":
    await WorkerRuntime.main(name: "vip", app: VIPWorker())
case "ose":
    exit(OSEMain.run(arguments: rest, environment: ProcessInfo.processInfo.environment))
default:
    FileHandle.standardError.write(Data("""
        usage: voss keeper|i18n|s3|vip|ose [ARGS...]
        (or call it through its links: voss-keeper, voss-i18n, voss-s3, voss-vip, ose)

        """.utf8))
    exit(2)
}
