import CVossSys
import Foundation

/// How a reaped child ended.
public struct ChildExit: Sendable, Equatable {
    public var pid: Int32
    /// `true`: exited with `code`; `false`: killed by signal `code`.
    public var exited: Bool
    public var code: Int32
}

public enum Processes {
    /// Reaps every child that has ended, without blocking.
    public static func reapAll() -> [ChildExit] {
        var out: [ChildExit] = []
        while true {
            var exited: Int32 = 0
            var code: Int32 = 0
            let pid = voss_reap_any(&exited, &code)
            if pid <= 0 { break }
            out.append(ChildExit(pid: pid, exited: exited != 0, code: code))
        }
        return out
    }

    /// Sends `signal` to `pid`; a process that is already gone is not an error.
    @discardableResult
    public static func kill(_ pid: Int32, _ signal: Int32) -> Bool {
        Glibc.kill(pid, signal) == 0
    }

    /// Makes this process receive `signal` when the thread that spawned it dies. Returns `false` when
    /// the parent is already gone (the caller should exit).
    public static func dieWithParent(expectedParent: Int32?, signal: Int32 = SIGKILL) -> Bool {
        _ = voss_set_parent_death_signal(signal)
        if let expectedParent { return getppid() == expectedParent }
        return getppid() != 1
    }

    public static var pid: Int32 { getpid() }

    /// CLOCK_MONOTONIC in microseconds.
    public static var monotonicMicroseconds: UInt64 { UInt64(voss_monotonic_usec()) }
}

/// Signals delivered to async code instead of handlers (SIGTERM, SIGINT, SIGHUP, SIGCHLD, ...).
public final class SignalWatcher: @unchecked Sendable {  // sources are immutable after init
    private let sources: [any DispatchSourceSignal]

    /// Installs `handler` for each signal; the default action of those signals is disabled.
    public init(_ signals: [Int32], queue: DispatchQueue = DispatchQueue(label: "voss.signals"),
                handler: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { handler(sig) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    public func cancel() { sources.forEach { $0.cancel() } }
}

/// The CPUs this process may run on (its affinity mask: `taskset`, systemd's `CPUAffinity=`); nil
/// when the kernel does not say.
public func affinityCPUCount() -> Int? {
    let n = Int(voss_affinity_cpus())
    return n > 0 ? n : nil
}
