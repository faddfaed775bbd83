import Foundation
import Logging
import Synchronization

/// Process-wide logging for every VOSS executable.
///
/// Lines go to stderr and, when a log directory is given, to `DIR/NAME.log` (as the original
/// product keeps logs under its log directory). Under systemd (`JOURNAL_STREAM` set) stderr lines carry
/// the `<N>` priority prefix journald understands, and no timestamp (journald adds its own).
public enum VossLogging {
    static let level = Atomic<Int>(Logger.Level.info.ordinal)
    static let fileFD = Atomic<Int32>(-1)
    static let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    /// Installs the handler once, at process start.
    public static func bootstrap(name: String, logDirectory: String?, level initial: Logger.Level = .info) {
        setLevel(initial)
        if let logDirectory {
            try? Files.makeDirectory(logDirectory, mode: 0o750)
            let fd = open("\(logDirectory)/\(name).log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            if fd >= 0 { fileFD.store(fd, ordering: .relaxed) }
        }
        LoggingSystem.bootstrap { label in VossLogHandler(label: label) }
    }

    public static func setLevel(_ l: Logger.Level) { level.store(l.ordinal, ordering: .relaxed) }

    public static var currentLevel: Logger.Level {
        let o = level.load(ordering: .relaxed)
        return Logger.Level.allCases.first { $0.ordinal == o } ?? .info
    }

    public static func parseLevel(_ s: String) -> Logger.Level? { Logger.Level(rawValue: s.lowercased()) }
}

extension Logger.Level {
    var ordinal: Int { Logger.Level.allCases.firstIndex(of: self) ?? 2 }

    /// syslog priority for journald's `<N>` prefix.
    var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

struct VossLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { VossLogging.currentLevel }
        set { VossLogging.setLevel(newValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var text = "[\(label)] \(event.message)"
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        let stamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let fileLine = "\(stamp) \(event.level.rawValue.uppercased()) \(text)\n"
        let errLine = VossLogging.journald ? "<\(event.level.syslogPriority)>\(text)\n" : fileLine
        write(2, errLine)
        let fd = VossLogging.fileFD.load(ordering: .relaxed)
        if fd >= 0 { write(fd, fileLine) }
    }

    private func write(_ fd: Int32, _ s: String) {
        var s = s
        s.withUTF8 { buf in _ = Glibc.write(fd, buf.baseAddress, buf.count) }
    }
}
