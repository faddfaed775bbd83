import Testing

@testable import VossWorkerKit

/// What a worker reads from the keeper's environment.
@Suite struct WorkerRuntimeTests {
    @Test func listenFDsFromTheKeeper() {
        #expect(WorkerRuntime.parseListenFDs("http=4,unix=5") == ["http": 4, "unix": 5])
        #expect(WorkerRuntime.parseListenFDs("") == [:])
        #expect(WorkerRuntime.parseListenFDs("bad,=,x=y,https=6,big=99999999999") == ["https": 6])
    }

    @Test func threadCountIsClamped() {
        #expect(WorkerRuntime.workerThreads(["VOSS_THREADS": "3"]) == 3)
        #expect(WorkerRuntime.workerThreads(["VOSS_THREADS": "100000"]) == 64)
        #expect(WorkerRuntime.workerThreads(["VOSS_THREADS": "-1"]) >= 1)
        #expect(WorkerRuntime.workerThreads(["VOSS_THREADS": "nope"]) >= 1)
    }
}
