import Configuration
import Foundation

/// The three places a setting can come from, highest precedence first: command-line
/// overrides, `STREAMTAG_...` environment variables, the YAML file.
///
/// Each is a swift-configuration snapshot (`InMemoryProvider`, `EnvironmentVariablesProvider`
/// under the `streamtag` key prefix, `YAMLSnapshot`), so the library does the YAML parsing, the
/// environment-variable naming and the comma-splitting of lists. The precedence walk is ours,
/// not `ConfigReader`'s: its non-throwing getters fall back to the default when a value has
/// the wrong type (a list where one value belongs would be silently ignored) and its errors
/// are package-internal, so "missing" and "wrong type" cannot be told apart; and errors here
/// must name the environment variable or the command line a value came from.
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

    private let layers: [(origin: (String) -> Origin, snapshot: any ConfigSnapshot)]

    /// Reads and checks the file (if any) and the overrides' keys.
    init(file: String?, environment: [String: String], overrides: [String: String]) throws(ConfigError) {
        var layers: [(origin: (String) -> Origin, snapshot: any ConfigSnapshot)] = []
        layers.append(({ _ in .commandLine }, try Self.overridesSnapshot(overrides)))
        let environmentProvider = EnvironmentVariablesProvider(environmentVariables: environment)
            .prefixKeys(with: ConfigKey(["streamtag"]))
        layers.append(({ .environment($0) }, environmentProvider.snapshot()))
        if let file, let snapshot = try ConfigFile.read(path: file) {
            layers.append(({ _ in .file }, snapshot))
        }
        self.layers = layers
    }

    /// The value of `setting` from the highest source that has one, or nil for the default.
    func value(for setting: ConfigSetting) throws(ConfigError) -> (raw: RawSettingValue, origin: Origin)? {
        let key = ConfigFile.absoluteKey(setting.key)
        // Asking for the other shape lets `apply` say "expects a single value, not a list"
        // (or take a scalar as a one-element list) instead of the library's type error.
        let types: [ConfigType] = setting.shape == .list ? [.stringArray, .string] : [.string, .stringArray]
        for layer in layers {
            if let found = try Self.lookup(key, types: types, in: layer.snapshot, settingKey: setting.key) {
                return (found.raw, layer.origin(found.encodedKey))
            }
        }
        return nil
    }

    /// The value under `key` in one source and the name the source knows it by (the
    /// environment variable's name), or nil when the source does not set it.
    private static func lookup(
        _ key: AbsoluteConfigKey, types: [ConfigType], in snapshot: any ConfigSnapshot, settingKey: String
    ) throws(ConfigError) -> (raw: RawSettingValue, encodedKey: String)? {
        var failure: (any Error)?
        for type in types {
            do {
                let result = try snapshot.value(forKey: key, type: type)
                switch result.value?.content {
                case .string(let text)?: return (.scalar(text), result.encodedKey)
                case .stringArray(let items)?: return (.list(items), result.encodedKey)
                default: return nil
                }
            } catch {
                // Present, but of the other shape: the next type reads it.
                failure = error
            }
        }
        throw ConfigError(key: settingKey, message: "cannot be read: \(failure.map { "\($0)" } ?? "unknown error")")
    }

    /// Overrides as an in-memory snapshot: lists split at commas like environment variables.
    /// Unknown keys are refused here, with a suggestion.
    private static func overridesSnapshot(_ overrides: [String: String]) throws(ConfigError) -> any ConfigSnapshot {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, text) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let setting = DaemonConfig.setting(forKey: key) else {
                throw ConfigError(key: key, message: ConfigKeyCheck.unknownKeyMessage(key, place: "on the command line"))
            }
            let content: ConfigContent = setting.shape == .list
                ? .stringArray(splitList(text))
                : .string(text)
            values[ConfigFile.absoluteKey(key)] = ConfigValue(content, isSecret: false)
        }
        return InMemoryProvider(name: "command line", values: values).snapshot()
    }

    /// Splits `a, b,c` the way `EnvironmentVariablesProvider` does: at commas, items trimmed,
    /// empty items kept (so `""` is `[""]`).
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
    }
}
