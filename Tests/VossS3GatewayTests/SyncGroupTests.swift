import Foundation
import Synchronization
import Testing
import VossBlobStore
import VossPosix
import VossS3Store

/// Group commit of local blob writes: callers that arrive while a sync runs share the next one, and
/// every blob is whole and in place afterwards.
@Suite struct SyncGroupTests {
    final class Gate: @unchecked Sendable {
        let first = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
    }

    @Test func callersArrivingDuringASyncShareTheNextOne() throws {
        let gate = Gate()
        let group = try #require(SyncGroup(directory: NSTemporaryDirectory()) { fd in
            if gate.calls.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                gate.entered.signal()
                gate.first.wait()  // the first sync is held until the others queued behind it
            }
            return 0
        })
        // Threads of their own: a dispatch queue is only as wide as the machine has cores.
        let done = DispatchSemaphore(value: 0)
        func caller() { Thread { try? group.sync(); done.signal() }.start() }
        caller()
        gate.entered.wait()
        for _ in 0..<3 { caller() }
        while group.waiting < 3 { sched_yield() }
        gate.first.signal()
        for _ in 0..<4 { done.wait() }
        // One for the first caller, one shared by the three that came while it ran.
        #expect(group.syncs == 2)
    }

    @Test func aFailedSyncFailsItsCallersOnly() throws {
        let fail = Atomic<Bool>(true)
        let group = try #require(SyncGroup(directory: NSTemporaryDirectory()) { _ in fail.load(ordering: .relaxed) ? EIO : 0 })
        #expect(throws: PosixError.self) { try group.sync() }
        fail.store(false, ordering: .relaxed)
        try group.sync()
    }

    @Test func notUsedOnFileSystemsItDoesNotKnow() {
        #expect(SyncGroup(directory: "/proc") == nil)
    }

    @Test func concurrentWritersLeaveWholeBlobs() throws {
        let dir = NSTemporaryDirectory() + "voss-sync-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LocalBlobStore(root: dir, node: "t")
        let blobs = (0..<32).map { String(format: "%032x", $0) }
        DispatchQueue.concurrentPerform(iterations: blobs.count) { i in
            let w = try! store.makeLocalWriter(blobs[i])
            let bytes = [UInt8](repeating: UInt8(i), count: 4096 + i)
            try! bytes.withUnsafeBytes { try w.write($0) }
            try! w.commit()
        }
        for (i, b) in blobs.enumerated() {
            let data = try #require(FileManager.default.contents(atPath: store.path(b)))
            #expect(data == Data(repeating: UInt8(i), count: 4096 + i))
        }
        if let g = store.syncGroup { #expect(g.syncs >= 1 && g.syncs <= UInt64(blobs.count)) }
    }

    /// New ids fill one fan-out directory for `idsPerDirectory` blobs in a row, so a young store does
    /// not make a directory for every PUT; the ids stay unique and 32 lower-case hex digits.
    @Test func newIDsShareADirectoryForARunAndStayUnique() throws {
        let dir = NSTemporaryDirectory() + "voss-ids-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LocalBlobStore(root: dir, node: "t")
        let n = LocalBlobStore.idsPerDirectory
        let ids = (0..<(n * 40)).map { _ in store.newID() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } })
        for run in stride(from: 0, to: ids.count, by: n) {
            #expect(Set(ids[run..<(run + n)].map { $0.prefix(4) }).count == 1)
        }
        // 40 runs land in (almost surely) 40 directories, not one.
        #expect(Set(ids.map { $0.prefix(4) }).count > 30)
        // Written, the first run's blobs make one fan-out directory between them.
        for id in ids.prefix(n) {
            let w = try store.makeLocalWriter(id)
            try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try w.write($0) }
            try w.commit()
        }
        let top = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }
        #expect(top.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/" + top[0]).count == 1)
    }

    /// A blob whose journal entry did not become durable never appears under its final name.
    @Test func aFailedGateKeepsTheBlobOutOfPlace() throws {
        struct Refused: Error {}
        let dir = NSTemporaryDirectory() + "voss-gate-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LocalBlobStore(root: dir, node: "t")
        let blob = String(format: "%032x", 7)
        let w = try store.makeLocalWriter(blob)
        try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try w.write($0) }
        #expect(throws: Refused.self) { try w.commit(gate: { throw Refused() }) }
        #expect(!store.exists(blob))
        w.abort()
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir + "/.tmp/t")).isEmpty)

        let ok = try store.makeLocalWriter(blob)
        try [UInt8](repeating: 2, count: 100).withUnsafeBytes { try ok.write($0) }
        let passed = Atomic<Bool>(false)
        try ok.commit(gate: { passed.store(true, ordering: .relaxed) })
        let gatePassed = passed.load(ordering: .relaxed)
        #expect(gatePassed && store.exists(blob))
    }
}

/// The journal entry written alongside a blob's bytes: waiting for it, and its failure.
@Suite struct JournalTicketTests {
    struct Broken: Error {}

    @Test func waitReturnsOnceSettledAndThrowsItsError() async throws {
        let t = JournalTicket()
        #expect(throws: StoreError.self) { try t.wait(timeout: 0.01) }
        t.settle(.success(()))
        t.settle(.failure(Broken()))  // the first outcome stands
        try t.wait(timeout: 0)
        await t.settled()

        #expect(!t.failed)
        let f = JournalTicket()
        #expect(!f.failed)
        f.settle(.failure(Broken()))
        #expect(throws: Broken.self) { try f.wait(timeout: 0) }
        #expect(f.failed)
    }

    @Test func aWaiterOnAnotherThreadIsWokenAndAnAsyncWaiterResumes() async throws {
        let t = JournalTicket()
        let woke = DispatchSemaphore(value: 0)
        let result = Atomic<Bool>(false)
        Thread {
            result.store((try? t.wait(timeout: 30)) != nil, ordering: .relaxed)
            woke.signal()
        }.start()
        async let resumed: Void = t.settled()
        t.settle(.success(()))
        await resumed
        woke.wait()
        let waited = result.load(ordering: .relaxed)
        #expect(waited)
    }
}
