// `ose`: the command-line tool that configures VOSS by talking to the keeper (see `ose -h`).
import Foundation

var ose = OSE(env: ProcessInfo.processInfo.environment)
exit(ose.run(Array(CommandLine.arguments.dropFirst())))
