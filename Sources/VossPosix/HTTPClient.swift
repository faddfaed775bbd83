import Foundation

/// A minimal blocking HTTP/1.1 client for `ose` and scripts' helpers: one request per connection,
/// `Content-Length` or close-delimited bodies, a deadline for the whole exchange.
public enum BlockingHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Nothing listens, or the host cannot be reached.
        case unreachable(String)
        case timeout
        case protocolError(String)

        public var description: String {
            switch self {
            case .unreachable(let s): s
            case .timeout: "timed out"
            case .protocolError(let s): "bad HTTP response: \(s)"
            }
        }
    }

    /// The same over a Unix-domain socket.
    public static func request(
        unixPath: String, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(30)
    ) throws(Failure) -> Response {
        let deadline = ContinuousClock.now + timeout
        var sa = sockaddr_un()
        sa.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(unixPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: sa.sun_path) else { throw .unreachable("socket path too long: \(unixPath)") }
        withUnsafeMutableBytes(of: &sa.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
            p[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(String(cString: strerror(errno))) }
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw .unreachable("\(unixPath): \(e)")
        }
        defer { close(fd) }
        return try exchange(fd: fd, hostHeader: "localhost", method: method, path: path, headers: headers, body: body, deadline: deadline)
    }

    public static func request(
        host: String, port: Int, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(30)
    ) throws(Failure) -> Response {
        let deadline = ContinuousClock.now + timeout
        let fd = try connect(host: host, port: port, deadline: deadline)
        defer { close(fd) }
        return try exchange(fd: fd, hostHeader: "\(host):\(port)", method: method, path: path, headers: headers, body: body, deadline: deadline)
    }

    static func exchange(
        fd: Int32, hostHeader: String, method: String, path: String, headers: [(String, String)], body: [UInt8],
        deadline: ContinuousClock.Instant
    ) throws(Failure) -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + body, deadline: deadline)
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength: Int?
        while true {
            if let he = headerEnd, let cl = contentLength, data.count >= he + cl { break }
            try waitReadable(fd, deadline: deadline)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .protocolError(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data.append(contentsOf: buf[0..<n])
            if headerEnd == nil, let he = find(data, Array("\r\n\r\n".utf8)) {
                headerEnd = he + 4
                let text = String(decoding: data[0..<he], as: UTF8.self)
                for line in text.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                }
            }
            if data.count > 256 << 20 { throw .protocolError("response too large") }
        }
        guard let he = headerEnd else { throw .protocolError("connection closed before the response header") }
        let headText = String(decoding: data[0..<(he - 4)], as: UTF8.self)
        let lines = headText.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { throw .protocolError("no status line") }
        let hdrs: [(String, String)] = lines.dropFirst().compactMap { l in
            guard let c = l.firstIndex(of: ":") else { return nil }
            return (String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        var bodyBytes = Array(data[he...])
        if let cl = contentLength {
            guard bodyBytes.count >= cl else { throw .protocolError("body shorter than Content-Length") }
            bodyBytes = Array(bodyBytes[0..<cl])
        }
        return Response(status: status, headers: hdrs, body: bodyBytes)
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    static func remainingMillis(_ deadline: ContinuousClock.Instant) -> Int32 {
        let left = deadline - ContinuousClock.now
        return Int32(clamping: max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
    }

    static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else {
            throw .unreachable("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        var lastError = "connection refused"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let rc = Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen)
                if rc == 0 { return fd }
                if errno == EINPROGRESS {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    let n = poll(&p, 1, remainingMillis(deadline))
                    if n == 0 {
                        close(fd)
                        throw .timeout
                    }
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 { return fd }
                    lastError = String(cString: strerror(err))
                } else {
                    lastError = String(cString: strerror(errno))
                }
                close(fd)
            }
            ai = a.pointee.ai_next
        }
        throw .unreachable("\(host):\(port): \(lastError)")
    }

    static func waitReadable(_ fd: Int32, deadline: ContinuousClock.Instant) throws(Failure) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&p, 1, remainingMillis(deadline))
            if n > 0 { return }
            if n == 0 { throw .timeout }
            if errno != EINTR { throw .protocolError(String(cString: strerror(errno))) }
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(Failure) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&p, 1, remainingMillis(deadline)) == 0 { throw .timeout }
                    continue
                }
                throw .unreachable(String(cString: strerror(errno)))
            }
            off += n
        }
    }
}
