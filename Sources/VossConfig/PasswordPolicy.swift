import VossBase

/// The secret policy of SPEC.md §4, checked by `cert import`, `db set`, `director set`,
/// `cloudian admin|console set` and `ecs admin|console set` (skipped with `--force`): at least eight
/// characters, an upper-case letter, a lower-case letter, a digit and a non-alphanumeric character;
/// visible ASCII only.
public enum PasswordPolicy {
    public static let minimumLength = 8

    public enum Violation: String, Equatable, Sendable, CaseIterable {
        case tooShort = "password.too_short"
        case noUpper = "password.no_upper"
        case noLower = "password.no_lower"
        case noDigit = "password.no_digit"
        case noSymbol = "password.no_symbol"
        case invalidCharacter = "password.invalid_char"

        public var message: Message {
            self == .tooShort ? Message(rawValue, String(PasswordPolicy.minimumLength)) : Message(rawValue)
        }
    }

    /// Every rule the secret breaks, in a stable order (empty: the secret is acceptable).
    public static func evaluate(_ secret: String) -> [Violation] {
        var violations: [Violation] = []
        let scalars = secret.unicodeScalars
        if secret.count < minimumLength { violations.append(.tooShort) }
        if !scalars.contains(where: { ("A"..."Z").contains($0) }) { violations.append(.noUpper) }
        if !scalars.contains(where: { ("a"..."z").contains($0) }) { violations.append(.noLower) }
        if !scalars.contains(where: { ("0"..."9").contains($0) }) { violations.append(.noDigit) }
        let visible: ClosedRange<Unicode.Scalar> = "!"..."~"
        let isAlnum: (Unicode.Scalar) -> Bool = {
            ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0)
        }
        if !scalars.contains(where: { visible.contains($0) && !isAlnum($0) }) { violations.append(.noSymbol) }
        if scalars.contains(where: { !visible.contains($0) }) { violations.append(.invalidCharacter) }
        return violations
    }
}
