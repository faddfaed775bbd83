import VossKeeperKit

await KeeperMain.run(arguments: Array(CommandLine.arguments.dropFirst()))
