import CSystemd

/// The sd_notify(3) messages the keeper sends, built as pure values. `SystemdNotifier` sends them through
/// libsystemd; when `NOTIFY_SOCKET` is unset (not under systemd) sending is a no-op.
public enum NotifyMessage: Equatable, Sendable {
    case ready(status: String)
    case status(String)
    case watchdog
    /// `RELOADING=1` with the monotonic time in microseconds (required by `Type=notify-reload`,
    /// harmless for `Type=notify`).
    case reloading(monotonicMicroseconds: UInt64)
    case stopping(status: String)
    case mainPID(Int32)

    /// The newline-separated `KEY=VALUE` assignments of sd_notify(3).
    public var payload: String {
        switch self {
        case .ready(let status): "READY=1\nSTATUS=\(Self.clean(status))"
        case .status(let s): "STATUS=\(Self.clean(s))"
        case .watchdog: "WATCHDOG=1"
        case .reloading(let usec): "RELOADING=1\nMONOTONIC_USEC=\(usec)"
        case .stopping(let status): "STOPPING=1\nSTATUS=\(Self.clean(status))"
        case .mainPID(let pid): "MAINPID=\(pid)"
        }
    }

    /// STATUS= is one line; a newline would start a new (bogus) assignment.
    static func clean(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}

/// When to pet the watchdog: systemd sets `WATCHDOG_USEC` (and `WATCHDOG_PID`) for a service with
/// `WatchdogSec=`; the keeper sends `WATCHDOG=1` every half interval, as sd_watchdog_enabled(3) advises.
public struct WatchdogPolicy: Equatable, Sendable {
    public var timeout: Duration
    public var petInterval: Duration { timeout / 2 }

    /// `nil` when no watchdog is configured for this process.
    public init?(environment: [String: String], pid: Int32) {
        guard let usecText = environment["WATCHDOG_USEC"], let usec = UInt64(usecText), usec > 0 else { return nil }
        if let pidText = environment["WATCHDOG_PID"], let wpid = Int32(pidText), wpid != pid { return nil }
        timeout = .microseconds(Int64(clamping: usec))
    }

    /// Whether the supervision loop counts as healthy: its last completed iteration must be recent
    /// (within half the watchdog timeout). A wedged loop stops the pets and systemd kills the keeper.
    public func loopIsHealthy(lastIterationAgo: Duration) -> Bool { lastIterationAgo < petInterval }
}

/// Sends `NotifyMessage`s with libsystemd's `sd_notify`.
public struct SystemdNotifier: Sendable {
    public let enabled: Bool

    public init(environment: [String: String]) {
        enabled = environment["NOTIFY_SOCKET"] != nil
    }

    /// Returns `false` if libsystemd reported an error (the message was not delivered).
    @discardableResult
    public func send(_ message: NotifyMessage) -> Bool {
        guard enabled else { return true }
        return sd_notify(0, message.payload) >= 0
    }
}
