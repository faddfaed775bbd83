/// The built-in English strings of the `ose` component. `etc/i18n/.../ose/messages_en.json` holds the
/// same strings for the i18n service (a test keeps the two identical and checks that the Chinese bundle
/// has every key with the same placeholders). `ose` falls back to these when the service is down.
public enum EnglishCatalog {
    public static let ose: [String: String] = [
        // Values and validation
        "value.empty": "The value must not be empty.",
        "value.too_long": "The value is too long (at most {0} characters).",
        "value.control_char": "The value must not contain control characters.",
        "value.integer_range": "Expected a whole number from {0} to {1}.",
        "value.port": "'{0}' is not a port number; use a number from 1 to 65535.",
        "value.duration_range": "Expected a duration from {0} to {1}, such as 500ms, 2s, 5m or 1h.",
        "value.one_of": "Expected one of: {0}.",
        "value.http_url": "'{0}' is not a valid URL; use the form https://HOST[:PORT][/PATH].",
        "value.system_user": "'{0}' is not a system administrator; the user name must end in @system, e.g. admin@system.",
        "args.bad_key": "'{0}' is not a valid argument key; use letters, digits, '.', '_' and '-', starting with a letter (at most 128 characters).",
        "args.not_found": "No argument named '{0}'.",
        "config.unknown_key": "'{0}' is not a configuration key.",
        "password.too_short": "The secret must be at least {0} characters long.",
        "password.no_upper": "The secret needs at least one upper-case letter (A-Z).",
        "password.no_lower": "The secret needs at least one lower-case letter (a-z).",
        "password.no_digit": "The secret needs at least one digit (0-9).",
        "password.no_symbol": "The secret needs at least one character that is not a letter or a digit, such as ! # % or @.",
        "password.invalid_char": "The secret may contain only visible ASCII characters: no spaces, no control characters, no accented letters.",
        "password.hint_force": "Choose a stronger secret, or add --force to skip the secret policy.",
        "node.duplicate_worker": "Two workers are named '{0}'.",
        "node.port_in_use": "Port {0} is configured twice on this node.",
        "node.socket_path_too_long": "The socket path '{0}' is longer than 107 bytes; use a shorter --data-dir.",
        "node.listener_empty": "A listener needs a TCP endpoint or a Unix socket path.",
    ]
}
