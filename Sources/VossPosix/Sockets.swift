import CVossSys
import Foundation

public enum Sockets {
    public static func listenTCP(address: String, port: Int, backlog: Int = 1024) throws(PosixError) -> Int32 {
        let fd = voss_listen_tcp(address, Int32(port), Int32(backlog))
        guard fd >= 0 else { throw PosixError(-fd, "listen on \(address):\(port)") }
        return fd
    }

    public static func listenUnix(path: String, mode: UInt32 = 0o660, backlog: Int = 1024) throws(PosixError) -> Int32 {
        let fd = voss_listen_unix(path, Int32(backlog), mode)
        guard fd >= 0 else { throw PosixError(-fd, "listen on \(path)") }
        return fd
    }

    /// A connected pair of Unix stream sockets, both close-on-exec.
    public static func pair() throws(PosixError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let rc = voss_socketpair(&fds)
        guard rc == 0 else { throw PosixError(rc, "socketpair") }
        return (fds[0], fds[1])
    }

    public static func localPort(_ fd: Int32) -> Int? {
        let p = voss_local_port(fd)
        return p >= 0 ? Int(p) : nil
    }

    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Stops a listening TCP socket from accepting while keeping its address: new connections are
    /// refused at once and queued ones reset, instead of waiting in the backlog for a worker that
    /// is not running (Linux: `shutdown(SHUT_RD)` on a listener; the port stays bound when it was
    /// bound explicitly). `resumeListening` accepts again.
    public static func pauseListening(_ fd: Int32) -> Bool { shutdown(fd, Int32(SHUT_RD)) == 0 }

    public static func resumeListening(_ fd: Int32, backlog: Int = 1024) -> Bool { listen(fd, Int32(backlog)) == 0 }
}

public enum Terminal {
    public static func setEcho(_ on: Bool, fd: Int32 = 0) -> Bool { voss_set_echo(fd, on ? 1 : 0) == 0 }
    public static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
