import Foundation

/// File operations with the durability the product promises: a config or key file is either the old
/// version or the new one, never half written, and survives a crash once the call returns.
public enum Files {
    /// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename over the
    /// target, fsync of the directory. The file gets `mode` (0600 by default).
    public static func writeAtomically(_ data: [UInt8], to path: String, mode: mode_t = 0o600) throws(PosixError) {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = "\(dir)/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PosixError(errno, "create \(tmp)") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { Glibc.close(fd) }
            try writeAll(fd, data, path: tmp)
            guard fchmod(fd, mode) == 0 else { throw PosixError(errno, "chmod \(tmp)") }
            guard fsync(fd) == 0 else { throw PosixError(errno, "fsync \(tmp)") }
        }
        guard rename(tmp, path) == 0 else { throw PosixError(errno, "rename \(tmp) to \(path)") }
        ok = true
        try syncDirectory(dir)
    }

    /// `value` as pretty, key-sorted JSON (the form of every file VOSS writes under /etc/voss and
    /// /var/lib/voss), written atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to path: String, mode: mode_t = 0o600) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(Array(try encoder.encode(value)), to: path, mode: mode)
    }

    public static func writeAll(_ fd: Int32, _ data: [UInt8], path: String) throws(PosixError) {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { buf in write(fd, buf.baseAddress! + offset, buf.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixError(errno, "write \(path)")
            }
            offset += n
        }
    }

    public static func syncDirectory(_ dir: String) throws(PosixError) {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw PosixError(errno, "open \(dir)") }
        defer { Glibc.close(dfd) }
        guard fsync(dfd) == 0 else { throw PosixError(errno, "fsync \(dir)") }
    }

    /// The whole file, or `nil` when it does not exist.
    public static func read(_ path: String, limit: Int = 64 << 20) throws(PosixError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw PosixError(errno, "open \(path)")
        }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixError(errno, "read \(path)")
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.count > limit { throw PosixError(EFBIG, "read \(path)") }
        }
        return out
    }

    /// Creates `path` and missing parents with `mode` (`mkdir -p`): the directory itself first
    /// (usually only it is missing, or nothing is), its parents only when that fails for want of them.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(PosixError) {
        if mkdir(path, mode) == 0 { return }
        switch errno {
        case EEXIST:
            return
        case ENOENT:
            let parent = (path as NSString).deletingLastPathComponent
            guard !parent.isEmpty, parent != path, parent != "/" else { throw PosixError(ENOENT, "mkdir \(path)") }
            try makeDirectory(parent, mode: mode)
            if mkdir(path, mode) != 0 && errno != EEXIST { throw PosixError(errno, "mkdir \(path)") }
        case let e:
            throw PosixError(e, "mkdir \(path)")
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
    }

    /// The directory holding the running executable (for finding sibling binaries).
    public static var executableDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
    }
}
