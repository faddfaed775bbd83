import CVossSys
import Foundation

/// What to start: an executable, its arguments and environment, and the descriptors it inherits (in
/// order, as 3, 4, 5, …).
public struct SpawnRequest: Sendable {
    public var path: String
    public var arguments: [String]
    public var environment: [String: String]
    public var inheritedFDs: [Int32]

    public init(path: String, arguments: [String], environment: [String: String], inheritedFDs: [Int32]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.inheritedFDs = inheritedFDs
    }
}

public struct PosixError: Error, CustomStringConvertible, Equatable {
    public let code: Int32
    public let operation: String

    public init(_ code: Int32, _ operation: String) {
        self.code = code
        self.operation = operation
    }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
    public var reason: String { String(cString: strerror(code)) }
}

/// Spawns processes from one dedicated, long-lived thread.
///
/// Linux delivers `PR_SET_PDEATHSIG` when the *thread* that created the child exits, not the process.
/// Spawning from a pool thread that is later retired would kill healthy workers; this thread lives as
/// long as the keeper.
public final class Spawner: Sendable {
    struct Job: Sendable {
        let request: SpawnRequest
        let done: @Sendable (Result<Int32, PosixError>) -> Void
    }

    private let jobs = BlockingQueue<Job>()

    public init() {
        let jobs = self.jobs
        let thread = Thread {
            while true {
                let job = jobs.pop()
                job.done(Spawner.spawnNow(job.request))
            }
        }
        thread.name = "voss-spawner"
        thread.start()
    }

    public func spawn(_ request: SpawnRequest) async -> Result<Int32, PosixError> {
        await withCheckedContinuation { continuation in
            jobs.push(Job(request: request, done: { continuation.resume(returning: $0) }))
        }
    }

    private static func spawnNow(_ r: SpawnRequest) -> Result<Int32, PosixError> {
        let argv = ([r.path] + r.arguments).map { strdup($0) } + [nil]
        let envp = r.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = r.inheritedFDs.withUnsafeBufferPointer { fds in
            voss_spawn(r.path, argv, envp, fds.baseAddress, Int32(fds.count), &pid)
        }
        return rc == 0 ? .success(pid) : .failure(PosixError(rc, "spawn \(r.path)"))
    }
}

/// A FIFO that a dedicated thread blocks on (pthread mutex + condition variable).
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {  // all state is guarded by `mutex`
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var items: [Element] = []

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    func push(_ item: Element) {
        pthread_mutex_lock(&mutex)
        items.append(item)
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    func pop() -> Element {
        pthread_mutex_lock(&mutex)
        while items.isEmpty { pthread_cond_wait(&cond, &mutex) }
        let item = items.removeFirst()
        pthread_mutex_unlock(&mutex)
        return item
    }
}
