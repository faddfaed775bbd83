import Synchronization
import Testing
import VossBase

/// `publish` returns only once every subscriber has handled the element: the guarantee the keeper's
/// services rely on ("the supervisor has the new configuration when `ose args set` returns").
@Suite struct AckedBroadcastTests {
    final class Log: Sendable {
        let items = Mutex<[String]>([])
        func add(_ s: String) { items.withLock { $0.append(s) } }
        var all: [String] { items.withLock { $0 } }
    }

    @Test func publishWithoutSubscribersReturnsAtOnce() async {
        let b = AckedBroadcast<Int>()
        await b.publish(1)
        #expect(b.subscriberCount == 0)
    }

    @Test func publishReturnsAfterEverySubscriberHandledIt() async {
        let b = AckedBroadcast<Int>()
        let log = Log()
        let subs = [b.subscribe(), b.subscribe()]
        let tasks = subs.enumerated().map { (i, sub) in
            Task {
                for await n in sub {
                    await Task.yield()  // handling takes a while (and lets the publisher run)
                    log.add("s\(i):\(n)")
                }
            }
        }
        for n in 1...20 {
            await b.publish(n)
            // Both handled n before publish returned.
            let seen = log.all
            #expect(seen.contains("s0:\(n)") && seen.contains("s1:\(n)"), "\(n): \(seen.suffix(4))")
        }
        for s in subs { s.cancel() }
        for t in tasks { await t.value }
        #expect(log.all.count == 40)
        #expect(b.subscriberCount == 0)
    }

    @Test func aCancelledSubscriberNeverBlocksThePublisher() async {
        let b = AckedBroadcast<Int>()
        let sub = b.subscribe()
        let t = Task { for await _ in sub { try? await Task.sleep(for: .seconds(3600)) } }
        let p = Task { await b.publish(1) }  // the subscriber would hold 1 "for an hour"…
        t.cancel()  // …but its task is cancelled: whatever it held or had queued is acknowledged
        await p.value
        await b.publish(2)
        await t.value
        #expect(b.subscriberCount == 0)
    }

    @Test func elementsPublishedWhileBusyArriveInOrder() async {
        let b = AckedBroadcast<Int>()
        let log = Log()
        let sub = b.subscribe()
        let t = Task { for await n in sub { log.add("\(n)") } }
        await withTaskGroup(of: Void.self) { g in
            for n in 1...10 { g.addTask { await b.publish(n) } }
        }
        sub.cancel()
        await t.value
        #expect(Set(log.all) == Set((1...10).map(String.init)))
    }
}
