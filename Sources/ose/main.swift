// `ose`: the command-line tool that configures VOSS by talking to the keeper (see `ose -h`).
import Foundation
import VossOSE

exit(OSEMain.run(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
