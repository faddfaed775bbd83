import Foundation

/// A journal entry on its way to the database. The blob's bytes may be written meanwhile, but must
/// not become visible — renamed into place, or referenced by an object — before `wait` has returned:
/// a crash in between then leaves either a temporary file (removed at start) or a journalled blob
/// (removed by recovery), never an unaccounted one. Writing the entry alongside the bytes, instead of
/// before them, takes one trip to the database thread off a PUT's path (issue 15).
public final class JournalTicket: @unchecked Sendable {  // state behind `cond`
    private let cond = NSCondition()
    private var result: Result<Void, any Error>?
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Records the outcome of the journal write (once; later calls are ignored).
    public func settle(_ r: Result<Void, any Error>) {
        cond.lock()
        guard result == nil else {
            cond.unlock()
            return
        }
        result = r
        let resume = waiters
        waiters = []
        cond.broadcast()
        cond.unlock()
        for c in resume { c.resume() }
    }

    /// Blocks until the entry is durable (for the I/O thread about to publish the blob); throws the
    /// write's error, or `StoreError.unavailable` after `timeout`.
    public func wait(timeout: TimeInterval) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        cond.lock()
        while result == nil {
            if !cond.wait(until: deadline) { break }
        }
        let r = result
        cond.unlock()
        guard let r else { throw StoreError.unavailable("the metadata store did not record a new blob in time") }
        try r.get()
    }

    /// Whether the entry could not be written (the blob then never left its temporary file).
    public var failed: Bool {
        cond.lock()
        defer { cond.unlock() }
        if case .failure? = result { return true }
        return false
    }

    /// Waits, without blocking a thread, until the write has finished either way (before forgetting
    /// the entry, so the forgetting cannot overtake it).
    public func settled() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            cond.lock()
            if result != nil {
                cond.unlock()
                c.resume()
                return
            }
            waiters.append(c)
            cond.unlock()
        }
    }
}
