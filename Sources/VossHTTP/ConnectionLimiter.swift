import NIOCore
import Synchronization

/// Caps on open connections: in all, and from one client address. A connection over a cap gets a
/// `503` with `Retry-After` and is closed at once (SDKs retry a 503 with back-off); it never
/// reaches a request handler.
public final class ConnectionLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var total: Int
        public var perAddress: Int
        public init(total: Int = 4096, perAddress: Int = 512) {
            self.total = total
            self.perAddress = perAddress
        }
    }

    private struct State {
        var limits: Limits
        var total = 0
        var byAddress: [String: Int] = [:]
        var refused: Int64 = 0
    }

    private let state: Mutex<State>

    public init(_ limits: Limits = .init()) { state = Mutex(State(limits: limits)) }

    public func setLimits(_ l: Limits) { state.withLock { $0.limits = l } }
    public var refused: Int64 { state.withLock { $0.refused } }
    public var open: Int { state.withLock { $0.total } }

    /// The address a connection is counted under: its IP (without the port), or `nil` (not capped
    /// per address: Unix sockets, and connections whose real client a PROXY header names later).
    public static func key(_ channel: any Channel) -> String? { channel.remoteAddress?.ipAddress }

    /// Admits `channel` or refuses it (answering 503 and closing). Release happens on close.
    public func admit(_ channel: any Channel, perAddressKey: String?, answerHTTP: Bool = true) -> Bool {
        let ok = state.withLock { s -> Bool in
            let perAddr = perAddressKey.map { s.byAddress[$0, default: 0] } ?? 0
            guard s.total < s.limits.total, perAddressKey == nil || perAddr < s.limits.perAddress else {
                s.refused += 1
                return false
            }
            s.total += 1
            if let k = perAddressKey { s.byAddress[k] = perAddr + 1 }
            return true
        }
        guard ok else {
            guard answerHTTP else {
                channel.close(promise: nil)
                return false
            }
            var buf = channel.allocator.buffer(capacity: 128)
            buf.writeString("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            channel.writeAndFlush(buf).whenComplete { _ in channel.close(promise: nil) }
            return false
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                s.total -= 1
                if let k = perAddressKey {
                    let n = (s.byAddress[k] ?? 1) - 1
                    s.byAddress[k] = n > 0 ? n : nil
                }
            }
        }
        return true
    }
}
