import VossBase

/// A problem with a configuration value: which key, a stable code, and a message that says what to
/// type instead. Validation functions return every issue at once.
public struct ConfigIssue: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    public var key: String
    public var message: Message

    public init(key: String, _ message: Message) {
        self.key = key
        self.message = message
    }

    public var code: String { message.key }
    public var description: String { "\(key): \(message.english)" }
}
