import CVossSys
import Glibc

/// Group commit for files on one local file system: callers that wrote (and renamed) files call `sync`,
/// and one `syncfs(2)` makes all of them durable — data, inodes and directory entries — instead of two
/// fsyncs per file. The first caller to find no sync running starts one; callers that arrive while it
/// runs wait for the next one (which starts after their writes, so covers them). Used only on local
/// file systems (`supported`); on network file systems every file is fsynced on its own.
public final class SyncGroup: @unchecked Sendable {  // state under `mutex`
    let fd: Int32
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var started: UInt64 = 0
    private var completed: UInt64 = 0
    private var running = false
    /// The last sync that failed (its callers and later ones report the failure).
    private var failed: (generation: UInt64, errno: Int32)?
    /// syncfs calls made, and callers waiting for one (for tests).
    public var syncs: UInt64 { locked { $0.syncCount } }
    public var waiting: Int { locked { $0.waitCount } }
    private var syncCount: UInt64 = 0
    private var waitCount = 0
    /// `syncfs` itself; tests put a function here that blocks until they let it go.
    let syncer: @Sendable (Int32) -> Int32

    /// ext2/3/4, XFS, btrfs, tmpfs: `syncfs` on them flushes everything written before the call.
    static let localTypes: Set<Int> = [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994]

    /// A group for the file system holding `directory`, or `nil` when it is not a known local one.
    public convenience init?(directory: String) {
        self.init(directory: directory, syncer: { voss_syncfs($0) })
    }

    public init?(directory: String, syncer: @escaping @Sendable (Int32) -> Int32) {
        self.syncer = syncer
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var type = 0
        guard voss_fs_type(fd, &type) == 0, Self.localTypes.contains(type) else {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    deinit { Glibc.close(fd) }

    private func locked<T>(_ body: (SyncGroup) -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body(self)
    }

    /// Blocks until a sync that started after this call has completed.
    public func sync() throws(PosixError) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let target = started + 1
        while completed < target {
            if running {
                waitCount += 1
                pthread_cond_wait(&cond, &mutex)
                waitCount -= 1
                continue
            }
            running = true
            started += 1
            let mine = started
            pthread_mutex_unlock(&mutex)
            let err = syncer(fd)
            pthread_mutex_lock(&mutex)
            syncCount += 1
            if err != 0 { failed = (mine, err) }
            completed = mine
            running = false
            pthread_cond_broadcast(&cond)
        }
        if let f = failed, f.generation >= target { throw PosixError(f.errno, "syncfs") }
    }
}
