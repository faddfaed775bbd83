import Foundation
import Synchronization
import VossBase
import VossPosix

/// The embedded "local" platform: object bytes as files under the node's data directory.
///
/// A blob is written to `objects/.tmp/ID`, renamed to `objects/AB/CD/ID` and made durable — only then
/// may the metadata that references it commit. On a local file system concurrent writes share one
/// `syncfs` (`SyncGroup`, group commit); elsewhere (NFS, CephFS) each file and its directory are
/// fsynced. A crash leaves a temp file (removed at start) or a blob the metadata journal accounts for
/// (removed by recovery unless its object committed); never half an object.
public final class LocalBlobStore: Sendable {
    public let root: String
    let tmp: String
    /// Group commit of blob writes; `nil` on file systems where it is not known to be sound.
    public let syncGroup: SyncGroup?
    /// The fan-out directory new ids go to, and how many more go there (`newID`).
    let fanOut = Mutex<(a: UInt8, b: UInt8, left: Int)>((0, 0, 0))
    /// How many blobs in a row `newID` sends to one fan-out directory.
    public static let idsPerDirectory = 256

    /// `node`: this node's name. Its uploads in progress live in `ROOT/.tmp/NODE`, so several nodes can
    /// share one object directory (an NFS or CephFS mount) without cleaning up each other's uploads;
    /// rename into place stays within one file system.
    public init(root: String, node: String) throws {
        self.root = root
        let safe = node.isEmpty || node.contains("/") || node.hasPrefix(".") ? "node" : node
        tmp = root + "/.tmp/" + safe
        try Files.makeDirectory(root, mode: 0o750)
        try Files.makeDirectory(root + "/.tmp", mode: 0o750)
        try Files.makeDirectory(tmp, mode: 0o750)
        syncGroup = SyncGroup(directory: root)
    }

    public func path(_ blob: String) -> String { directory(blob) + "/" + blob }

    /// A new blob id: 16 random bytes as hex, except that the first two (the fan-out directory
    /// `AB/CD`) stay the same for `idsPerDirectory` ids in a row and then change to random ones.
    /// With every id random, a young store makes a directory (or two) for almost every PUT, and the
    /// `mkdir` and the new directory's write-back cost a small PUT more than its own file; in the long
    /// run the directories still fill evenly. 112 random bits stay: ids do not collide.
    public func newID() -> String {
        var bytes = SecureRandom.bytes(16)
        let (a, b) = fanOut.withLock { s in
            if s.left == 0 { s = (bytes[0], bytes[1], Self.idsPerDirectory) }
            s.left -= 1
            return (s.a, s.b)
        }
        bytes[0] = a
        bytes[1] = b
        return Percent.hex(bytes)
    }

    /// The fan-out directory of a blob: `ROOT/AB/CD` for `ABCD…`.
    func directory(_ blob: String) -> String {
        let u = blob.utf8
        guard u.count >= 4 else { return root }
        let a = u.index(u.startIndex, offsetBy: 2), b = u.index(a, offsetBy: 2)
        return "\(root)/\(String(decoding: u[..<a], as: UTF8.self))/\(String(decoding: u[a..<b], as: UTF8.self))"
    }

    /// Removes temporary files left by writes that never finished, those modified before `olderThan`.
    @discardableResult
    public func cleanTemporaryFiles(olderThan: Date) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
        var removed = 0
        for n in names {
            let p = "\(tmp)/\(n)"
            let modified = (try? FileManager.default.attributesOfItem(atPath: p)[.modificationDate] as? Date) ?? nil
            if let modified, modified >= olderThan { continue }
            unlink(p)
            removed += 1
        }
        return removed
    }

    /// Removes a blob, or its temporary file if it was never renamed into place.
    public func delete(_ blob: String) {
        if unlink(path(blob)) != 0 && errno == ENOENT { unlink("\(tmp)/\(blob)") }
    }

    public func exists(_ blob: String) -> Bool { Files.exists(path(blob)) }

    /// Opens a blob for reading; the caller closes the descriptor.
    public func openForReading(_ blob: String) throws(PosixError) -> Int32 {
        let fd = open(path(blob), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PosixError(errno, "open blob \(blob)") }
        return fd
    }

    public func makeLocalWriter(_ blob: String) throws(PosixError) -> BlobWriter {
        let p = "\(tmp)/\(blob)"
        let fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw PosixError(errno, "create \(p)") }
        let dir = directory(blob)
        return BlobWriter(fd: fd, tempPath: p, directory: dir, finalPath: dir + "/" + blob, blob: blob, group: syncGroup)
    }
}

/// Writes one blob. Blocking calls: run them off the event loops.
public final class BlobWriter: @unchecked Sendable {
    public let blob: String
    let fd: Int32
    let tempPath: String
    let directory: String
    let finalPath: String
    let group: SyncGroup?
    public private(set) var written: Int64 = 0
    private var closed = false

    init(fd: Int32, tempPath: String, directory: String, finalPath: String, blob: String, group: SyncGroup?) {
        self.group = group
        self.fd = fd
        self.tempPath = tempPath
        self.directory = directory
        self.finalPath = finalPath
        self.blob = blob
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(PosixError) {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixError(errno, "write blob")
            }
            off += n
        }
        written += Int64(bytes.count)
    }

    /// Rename into place and make durable (one group `syncfs`, or fsync of the file and then of its
    /// directory): afterwards the blob survives a crash.
    /// `gate` runs just before the rename: what must be durable before the blob may appear (its
    /// journal entry); its error stops the commit, and `abort` then removes the temporary file.
    public func commit(gate: (() throws -> Void)? = nil) throws {
        guard !closed else { return }
        if group == nil { guard fsync(fd) == 0 else { throw PosixError(errno, "fsync blob") } }
        closed = true
        // close reports write-back errors some file systems only find then.
        guard Glibc.close(fd) == 0 else { throw PosixError(errno, "close blob") }
        try gate?()
        // Rename first: the fan-out directory usually exists; it is made only when missing.
        if rename(tempPath, finalPath) != 0 {
            guard errno == ENOENT else { throw PosixError(errno, "rename blob") }
            try Files.makeDirectory(directory, mode: 0o750)
            guard rename(tempPath, finalPath) == 0 else { throw PosixError(errno, "rename blob") }
        }
        if let group { try group.sync() } else { try Files.syncDirectory(directory) }
    }

    /// Drops the partial blob.
    public func abort() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
        unlink(tempPath)
    }

    deinit {
        if !closed {
            Glibc.close(fd)
            unlink(tempPath)
        }
    }
}
