/// A configuration that cannot be used, with the setting at fault and why.
///
/// `description` reads `config: KEY: MESSAGE`, for example
/// `config: streams.idle_timeout: "ten minutes" is not a duration (use 600, "10m", "30s", "500ms")`.
/// Problems with the file itself (missing, unreadable, not YAML) have an empty `key` and a
/// message that starts with the file's path.
package struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The dotted key of the setting at fault (`streams.idle_timeout`), or `""` for the file.
    var key: String
    /// What is wrong: names the value and the reason, and where the value came from when it
    /// was not the file (an environment variable or the command line).
    var message: String

    /// Creates an error for `key`.
    init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// `config: KEY: MESSAGE`, or `config: MESSAGE` when there is no key.
    package var description: String {
        key.isEmpty ? "config: \(message)" : "config: \(key): \(message)"
    }
}

/// What is wrong with one value, before the loader knows which key and source it came from.
struct ValueProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
