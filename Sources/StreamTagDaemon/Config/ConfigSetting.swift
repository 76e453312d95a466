import Logging

/// One value as a source gives it: a scalar, or a list (a YAML sequence, or an environment
/// variable or override split at commas).
enum RawSettingValue: Equatable {
    case scalar(String)
    case list([String])
}

/// One setting of ``DaemonConfig``: its dotted key, how to parse and check a value into the
/// struct, and how to write the current value back as YAML. The table of all of them is
/// `DaemonConfig.settings`; loading, `describe()`, the key reference and the tests all walk it,
/// so a setting exists in one place only.
struct ConfigSetting: Sendable {
    /// Whether the setting holds one value or a list.
    enum Shape: Sendable { case scalar, list }

    /// Dotted key, e.g. `streams.idle_timeout`.
    let key: String
    let shape: Shape
    /// One line for the key reference.
    let summary: String
    /// The kind of value, for the configuration reference (`duration`, `size`, `integer 1…4096`,
    /// `one of: replay, drain, reset`, …).
    let valueType: String
    /// Parses, checks and stores a value.
    let apply: @Sendable (inout DaemonConfig, RawSettingValue) throws(ValueProblem) -> Void
    /// The setting's value in `config`, as YAML.
    let render: @Sendable (DaemonConfig) -> String
    /// Copies the setting's value from the second configuration into the first (a config
    /// reload applies the settings that can change live this way, one by one).
    let copy: @Sendable (inout DaemonConfig, DaemonConfig) -> Void
    /// For a secret: what `--print-config` shows instead of the value when it is set (nil:
    /// not set, or not a secret), since that output goes to terminals, logs and bug reports.
    var redacted: (@Sendable (DaemonConfig) -> String?)? = nil

    /// This setting, marked secret: `--print-config` shows `shown(config)` for it.
    func secret(_ shown: @escaping @Sendable (DaemonConfig) -> String?) -> ConfigSetting {
        var setting = self
        setting.redacted = shown
        return setting
    }

    /// `STREAMTAG_` + the key upper-cased with `.` → `_`: the environment variable the loader
    /// reads for this setting, by this exact name.
    var environmentVariable: String {
        "STREAMTAG_" + String(key.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// YAML nulls (`~`, `null`, nothing) stand for "unset" where a setting allows it.
    static func isNull(_ text: String) -> Bool {
        ["", "~", "null"].contains(text.trimmingSpaces.lowercased())
    }

    // MARK: - Factories, one per kind of value

    /// A single value, parsed by `parse` and written back by `render`. Unless `nullable`,
    /// a YAML null (`idle_timeout:` with nothing after it) is refused before `parse` sees it.
    static func scalar<V>(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, V> & Sendable, _ summary: String,
        type: String, nullable: Bool = false,
        parse: @escaping @Sendable (String) throws(ValueProblem) -> V,
        render: @escaping @Sendable (V) -> String
    ) -> ConfigSetting {
        ConfigSetting(
            key: key, shape: .scalar, summary: summary, valueType: type,
            apply: { (config: inout DaemonConfig, raw: RawSettingValue) throws(ValueProblem) in
                guard case .scalar(let text) = raw else {
                    throw ValueProblem("expects a single value, not a list")
                }
                if !nullable && isNull(text) {
                    throw ValueProblem("has no value (leave the key out for the default)")
                }
                config[keyPath: path] = try parse(text)
            },
            render: { config in render(config[keyPath: path]) },
            copy: { target, source in target[keyPath: path] = source[keyPath: path] })
    }

    /// A list of strings, each checked by `check`. A scalar is a one-element list and a YAML
    /// null an empty one.
    static func list(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, [String]> & Sendable, _ summary: String,
        check: @escaping @Sendable ([String]) throws(ValueProblem) -> [String]
    ) -> ConfigSetting {
        ConfigSetting(
            key: key, shape: .list, summary: summary, valueType: "list of strings",
            apply: { (config: inout DaemonConfig, raw: RawSettingValue) throws(ValueProblem) in
                switch raw {
                case .list(let items): config[keyPath: path] = try check(items)
                case .scalar(let text):
                    config[keyPath: path] = try check(isNull(text) ? [] : [text])
                }
            },
            render: { config in "[" + config[keyPath: path].map(\.yamlQuoted).joined(separator: ", ") + "]" },
            copy: { target, source in target[keyPath: path] = source[keyPath: path] })
    }

    static func duration(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Duration> & Sendable, _ summary: String,
        allowZero: Bool = true, maximum: Duration? = nil
    ) -> ConfigSetting {
        scalar(key, path, summary, type: maximum.map { "duration ≤ \(DurationSyntax.format($0))" } ?? (allowZero ? "duration" : "duration > 0"),
               parse: { (text: String) throws(ValueProblem) -> Duration in
            let value = try DurationSyntax.parse(text)
            if !allowZero && value == .zero {
                throw ValueProblem("\(text.quotedForMessage) must be more than 0")
            }
            if let maximum, value > maximum {
                throw ValueProblem("\(text.quotedForMessage) is more than the maximum \(DurationSyntax.format(maximum))")
            }
            return value
        }, render: DurationSyntax.format)
    }

    static func size(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Int> & Sendable, _ summary: String,
        range: ClosedRange<Int>
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "size " + describe(range, ByteSizeSyntax.format), parse: { (text: String) throws(ValueProblem) -> Int in
            try checkedSize(text, range: range)
        }, render: ByteSizeSyntax.format)
    }

    /// A size that may be left unset (`~`) for a default derived elsewhere.
    static func optionalSize(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Int?> & Sendable, _ summary: String,
        range: ClosedRange<Int>
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "size " + describe(range, ByteSizeSyntax.format) + " or ~", nullable: true,
               parse: { (text: String) throws(ValueProblem) -> Int? in
            isNull(text) ? nil : try checkedSize(text, range: range)
        }, render: { $0.map(ByteSizeSyntax.format) ?? "~" })
    }

    static func integer(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Int> & Sendable, _ summary: String,
        range: ClosedRange<Int>
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "integer " + describe(range, String.init), parse: { (text: String) throws(ValueProblem) -> Int in
            try checkedInteger(text, range: range)
        }, render: { String($0) })
    }

    /// An integer that may be left unset (`~`) for a default known only later.
    static func optionalInteger(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Int?> & Sendable, _ summary: String,
        range: ClosedRange<Int>
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "integer " + describe(range, String.init) + " or ~", nullable: true,
               parse: { (text: String) throws(ValueProblem) -> Int? in
            isNull(text) ? nil : try checkedInteger(text, range: range)
        }, render: { $0.map(String.init) ?? "~" })
    }

    static func flag(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, Bool> & Sendable, _ summary: String
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "boolean", parse: { (text: String) throws(ValueProblem) -> Bool in
            switch text.trimmingSpaces.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw ValueProblem("\(text.quotedForMessage) is not a boolean (use true or false)")
            }
        }, render: { $0 ? "true" : "false" })
    }

    /// One of an enumeration's raw values (case is ignored).
    static func choice<E: RawRepresentable<String> & CaseIterable & Sendable>(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, E> & Sendable, _ summary: String
    ) -> ConfigSetting {
        scalar(key, path, summary, type: "one of: " + E.allCases.map(\.rawValue).joined(separator: ", "),
               parse: { (text: String) throws(ValueProblem) -> E in
            guard let value = E(rawValue: text.trimmingSpaces.lowercased()) else {
                let names = E.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValueProblem("\(text.quotedForMessage) is not one of \(names)")
            }
            return value
        }, render: { $0.rawValue })
    }

    /// Free text, checked by `check`; a YAML null is the empty string.
    static func text(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, String> & Sendable, _ summary: String,
        type: String = "string", check: @escaping @Sendable (String) throws(ValueProblem) -> Void = { _ in }
    ) -> ConfigSetting {
        scalar(key, path, summary, type: type, nullable: true, parse: { (text: String) throws(ValueProblem) -> String in
            let value = isNull(text) ? "" : text
            try check(value)
            return value
        }, render: \.yamlQuoted)
    }

    /// A ZeroMQ endpoint to bind.
    static func bindEndpoint(
        _ key: String, _ path: WritableKeyPath<DaemonConfig, String> & Sendable, _ summary: String
    ) -> ConfigSetting {
        text(key, path, summary, type: "ZeroMQ endpoint", check: { (value: String) throws(ValueProblem) in
            try EndpointSyntax.check(value, connecting: false)
        })
    }

    /// A range for the reference: `1…4096`, `≥ 1`, or nothing when it is every value.
    static func describe(_ range: ClosedRange<Int>, _ format: (Int) -> String) -> String {
        if range.upperBound == Int.max { return range.lowerBound == 0 ? "≥ 0" : "≥ \(format(range.lowerBound))" }
        return "\(format(range.lowerBound))…\(format(range.upperBound))"
    }

    // MARK: - Shared checks

    static func checkedInteger(_ text: String, range: ClosedRange<Int>) throws(ValueProblem) -> Int {
        // YAML allows 100_000; so do environment variables, for the same number in both places.
        let digits = text.trimmingSpaces.filter { $0 != "_" }
        guard let value = Int(digits) else {
            throw ValueProblem("\(text.quotedForMessage) is not a whole number")
        }
        guard range.contains(value) else {
            throw ValueProblem("\(text.quotedForMessage) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    static func checkedSize(_ text: String, range: ClosedRange<Int>) throws(ValueProblem) -> Int {
        let value = try ByteSizeSyntax.parse(text)
        guard range.contains(value) else {
            let low = ByteSizeSyntax.format(range.lowerBound)
            let high = range.upperBound == Int.max ? "" : ByteSizeSyntax.format(range.upperBound)
            throw ValueProblem("\(text.quotedForMessage) is out of range \(low)…\(high)")
        }
        return value
    }
}

extension String {
    /// The string as a YAML double-quoted scalar.
    var yamlQuoted: String {
        doubleQuoted(escapingCarriageReturn: false) { value in
            let hex = String(value, radix: 16)
            return "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
}
