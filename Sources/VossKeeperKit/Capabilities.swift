import Foundation

enum Capabilities {
    /// Whether this process may add addresses to interfaces (CAP_NET_ADMIN, bit 12 of CapEff).
    static func hasNetAdmin() -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let bits = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return bits & (1 << 12) != 0
    }
}
