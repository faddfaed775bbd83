import Synchronization

/// A bounded, single-consumer queue between two tasks with back-pressure both ways: `send` waits
/// while `capacity` elements are queued, `next` waits while none is. `finish` ends it (after the queued
/// elements, with an optional error); `cancel` (the consumer gave up) fails every later `send` at once.
///
/// The upstream HTTP client uses it to hand a connection's response parts, read by the task that
/// owns the connection, to whichever request is using the connection.
final class AsyncPipe<Element: Sendable>: Sendable {
    struct Closed: Error, Sendable {}

    struct State {
        var queue: [Element] = []
        var ended = false
        var error: (any Error)?
        var cancelled = false
        var reader: CheckedContinuation<Void, Never>?
        var writer: CheckedContinuation<Void, Never>?
    }

    enum SendStep { case done, wait, closed }
    enum NextStep { case element(Element), end, fail(any Error), wait }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 4) { self.capacity = max(1, capacity) }

    /// Queues `element`, waiting while the queue is full. Throws `Closed` once the consumer cancelled
    /// or the pipe was finished.
    func send(_ element: Element) async throws {
        while true {
            let (step, wake) = state.withLock { s -> (SendStep, CheckedContinuation<Void, Never>?) in
                if s.cancelled || s.ended { return (.closed, nil) }
                if s.queue.count < capacity {
                    s.queue.append(element)
                    let r = s.reader
                    s.reader = nil
                    return (.done, r)
                }
                return (.wait, nil)
            }
            wake?.resume()
            switch step {
            case .done: return
            case .closed: throw Closed()
            case .wait:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if s.cancelled || s.ended || s.queue.count < capacity { return true }
                        s.writer = c
                        return false
                    }
                    if ready { c.resume() }
                }
            }
        }
    }

    /// Ends the pipe: the consumer gets what is queued, then `nil` (or `error`).
    func finish(throwing error: (any Error)? = nil) {
        let (r, w) = state.withLock { s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            if !s.ended {
                s.ended = true
                s.error = error
            }
            defer { s.reader = nil; s.writer = nil }
            return (s.reader, s.writer)
        }
        r?.resume()
        w?.resume()
    }

    /// The consumer will read no more: queued elements are dropped and senders get `Closed`.
    func cancel() {
        let (r, w) = state.withLock { s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            s.cancelled = true
            s.queue.removeAll()
            defer { s.reader = nil; s.writer = nil }
            return (s.reader, s.writer)
        }
        r?.resume()
        w?.resume()
    }

    /// The next element; `nil` once finished and drained. Throws the finishing error, or `Closed` after `cancel`.
    func next() async throws -> Element? {
        while true {
            let (step, wake) = state.withLock { s -> (NextStep, CheckedContinuation<Void, Never>?) in
                if s.cancelled { return (.fail(Closed()), nil) }
                if !s.queue.isEmpty {
                    let e = s.queue.removeFirst()
                    let w = s.writer
                    s.writer = nil
                    return (.element(e), w)
                }
                if s.ended { return (s.error.map { .fail($0) } ?? .end, nil) }
                return (.wait, nil)
            }
            wake?.resume()
            switch step {
            case .element(let e): return e
            case .end: return nil
            case .fail(let e): throw e
            case .wait:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if s.cancelled || s.ended || !s.queue.isEmpty { return true }
                        s.reader = c
                        return false
                    }
                    if ready { c.resume() }
                }
            }
        }
    }
}
