import Synchronization

/// One publisher, several subscribers, each an `AsyncSequence`; `publish` returns once every
/// subscriber has *handled* the element — that is, has asked for the next one (or ended). So a
/// change published by `ConfigStore.set` has been applied by every service that reacts to it when
/// `set` returns, while each service owns its reaction in its own `for await` loop.
///
/// A subscriber that is busy gets later elements queued in order. A subscription ends when its task
/// is cancelled or its iterator goes away; it then acknowledges whatever it still held.
public final class AckedBroadcast<Element: Sendable>: Sendable {
    final class Countdown: Sendable {
        private let state: Mutex<(left: Int, waiter: CheckedContinuation<Void, Never>?)>
        init(_ n: Int) { state = Mutex((n, nil)) }

        func done() {
            let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.left -= 1
                guard s.left <= 0, let w = s.waiter else { return nil }
                s.waiter = nil
                return w
            }
            w?.resume()
        }

        func wait() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.left <= 0 { return true }
                    s.waiter = c
                    return false
                }
                if ready { c.resume() }
            }
        }
    }

    struct Subscriber {
        var queue: [(Element, Countdown)] = []
        var waiter: CheckedContinuation<Element?, Never>?
        /// The element being handled: acknowledged on the next `next()`.
        var inHand: Countdown?
    }

    struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Delivers `element` to every current subscriber; returns when each has handled it.
    public func publish(_ element: Element) async {
        let (countdown, wake) = state.withLock { s -> (Countdown, [CheckedContinuation<Element?, Never>]) in
            let c = Countdown(s.subscribers.count)
            var wake: [CheckedContinuation<Element?, Never>] = []
            for id in s.subscribers.keys {
                if let w = s.subscribers[id]?.waiter {
                    s.subscribers[id]?.waiter = nil
                    s.subscribers[id]?.inHand = c
                    wake.append(w)
                } else {
                    s.subscribers[id]?.queue.append((element, c))
                }
            }
            return (c, wake)
        }
        for w in wake { w.resume(returning: element) }
        await countdown.wait()
    }

    /// A new subscription: it sees every element published from now on.
    public func subscribe() -> Subscription {
        let id = state.withLock { s -> Int in
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = Subscriber()
            return id
        }
        return Subscription(broadcast: self, id: id)
    }

    func next(_ id: Int) async -> Element? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Element?, Never>) in
                let (ack, immediate) = state.withLock { s -> (Countdown?, Element??) in
                    guard var sub = s.subscribers[id] else { return (nil, .some(nil)) }
                    let ack = sub.inHand
                    sub.inHand = nil
                    if !sub.queue.isEmpty {
                        let (e, c) = sub.queue.removeFirst()
                        sub.inHand = c
                        s.subscribers[id] = sub
                        return (ack, .some(e))
                    }
                    sub.waiter = c
                    s.subscribers[id] = sub
                    return (ack, nil)
                }
                ack?.done()
                if let immediate { c.resume(returning: immediate) }
            }
        } onCancel: {
            end(id)
        }
    }

    /// Removes a subscriber, acknowledging what it held or had queued.
    func end(_ id: Int) {
        guard let sub = state.withLock({ $0.subscribers.removeValue(forKey: id) }) else { return }
        sub.inHand?.done()
        for (_, c) in sub.queue { c.done() }
        sub.waiter?.resume(returning: nil)
    }

    public struct Subscription: AsyncSequence, Sendable {
        let broadcast: AckedBroadcast
        let id: Int

        public func makeAsyncIterator() -> Iterator { Iterator(token: Token(broadcast: broadcast, id: id)) }

        /// Ends the subscription now (its loop sees the end).
        public func cancel() { broadcast.end(id) }

        final class Token: Sendable {
            let broadcast: AckedBroadcast
            let id: Int
            init(broadcast: AckedBroadcast, id: Int) {
                self.broadcast = broadcast
                self.id = id
            }
            deinit { broadcast.end(id) }
        }

        public struct Iterator: AsyncIteratorProtocol {
            let token: Token
            public mutating func next() async -> Element? { await token.broadcast.next(token.id) }
        }
    }
}
