import Foundation

/// The three places a setting can come from, highest precedence first: command-line
/// overrides, `STREAMTAG_...` environment variables, the YAML file; below them all, the
/// defaults of `DaemonConfig()`.
///
/// The file is read once into its table of settings (``ConfigFile``); an environment variable
/// or an override is looked up by the setting's name, and a list there is split at commas.
/// Each value remembers its source, so that an error can name the environment variable or the
/// command line it came from.
struct ConfigSources {
    /// Where a value came from, for error messages.
    enum Origin: Equatable {
        case file
        case environment(String)
        case commandLine

        /// Appended to a problem's message; file values need none (the key says where).
        var suffix: String {
            switch self {
            case .file: ""
            case .environment(let name): " (from environment variable \(name))"
            case .commandLine: " (from the command line)"
            }
        }
    }

    private let overrides: [String: String]
    private let environment: [String: String]
    private let file: ConfigFile?

    /// Checks the overrides' keys, then reads and checks the file (if any).
    init(file: String?, environment: [String: String], overrides: [String: String]) throws(ConfigError) {
        for key in overrides.keys.sorted() where DaemonConfig.setting(forKey: key) == nil {
            throw ConfigError(key: key, message: ConfigKeyCheck.unknownKeyMessage(key, place: "on the command line"))
        }
        self.overrides = overrides
        self.environment = environment
        self.file = if let file { try ConfigFile.read(path: file) } else { nil }
    }

    /// The value of `setting` from the highest source that has one, or nil for the default.
    func value(for setting: ConfigSetting) -> (raw: RawSettingValue, origin: Origin)? {
        if let text = overrides[setting.key] {
            return (Self.raw(text, for: setting), .commandLine)
        }
        // Looked up by its exact name: `STREAMTAG_` and the key upper-cased.
        let name = setting.environmentVariable
        if let text = environment[name] {
            return (Self.raw(text, for: setting), .environment(name))
        }
        if let entry = file?[setting.key] {
            return (entry.raw, .file)
        }
        return nil
    }

    /// A value given as text (an environment variable, an override): a list setting's text is
    /// split at commas, any other is one scalar.
    private static func raw(_ text: String, for setting: ConfigSetting) -> RawSettingValue {
        setting.shape == .list ? .list(splitList(text)) : .scalar(text)
    }

    /// Splits `a, b,c` at commas, items trimmed of white space (newlines too), empty items
    /// kept (so `""` is `[""]`).
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
