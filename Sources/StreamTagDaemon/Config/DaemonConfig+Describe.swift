extension DaemonConfig {
    /// One setting, for documentation: its dotted key, environment variable, default and
    /// meaning.
    struct KeyInfo: Sendable, Equatable {
        /// Dotted key, e.g. `streams.idle_timeout` (also the name for command-line overrides).
        var key: String
        /// Environment variable that overrides it, e.g. `STREAMTAG_STREAMS_IDLE_TIMEOUT`.
        var environmentVariable: String
        /// The default as YAML, e.g. `10m`; `state_dir` shows `./streamtag-state`, the default
        /// when systemd sets no `$STATE_DIRECTORY`.
        var defaultValue: String
        /// What it does, in one line.
        var summary: String
        /// The kind of value: `duration`, `size 1KiB…16MiB`, `one of: fp32, bf16`, …
        var valueType: String
        /// Whether a configuration reload (SIGHUP) applies it; otherwise it needs a restart.
        var appliesOnReload: Bool
    }

    /// Every setting in file order, with its environment variable and default.
    static var keys: [KeyInfo] {
        let defaults = DaemonConfig()
        return settings.map {
            KeyInfo(key: $0.key, environmentVariable: $0.environmentVariable,
                    defaultValue: $0.render(defaults), summary: $0.summary, valueType: $0.valueType,
                    appliesOnReload: ConfigChange.liveKeys.contains($0.key))
        }
    }

    /// The settings as a Markdown table (key, environment variable, default, meaning) for the
    /// generated docs/configuration.md.
    static func keyReference() -> String {
        var lines = [
            "| key | environment variable | default | meaning |",
            "|---|---|---|---|",
        ]
        for info in keys {
            let summary = info.summary.replacing("|", with: "\\|")
            lines.append("| `\(info.key)` | `\(info.environmentVariable)` | `\(info.defaultValue)` | \(summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Warnings for `STREAMTAG_...` environment variables that are not settings (likely typos),
    /// one line each, for the daemon to log at start. Not errors: `load` ignores them because
    /// other parts of streamtag use the prefix too (`STREAMTAG_ISA`).
    static func environmentWarnings(_ environment: [String: String]) -> [String] {
        ConfigKeyCheck.environmentWarnings(environment)
    }

    /// The effective configuration as YAML, one line per setting, for
    /// `streamtag serve --print-config`. ``load(file:environment:overrides:)`` reads it back to
    /// an equal value, except for secrets (``ConfigSetting/secret(_:)``: `websocket.tokens`
    /// shows as `[]` with a comment that says how many are set).
    /// Settings left to a default decided elsewhere (`~`) say what it is.
    package func describe() -> String {
        var lines = ["# streamtag effective configuration"]
        var section: Substring?
        for setting in Self.settings {
            let parts = setting.key.split(separator: ".", maxSplits: 1)
            let value = (setting.redacted?(self) ?? setting.render(self)) + note(for: setting.key)
            if parts.count == 2 {
                if section != parts[0] {
                    lines.append("\(parts[0]):")
                    section = parts[0]
                }
                lines.append("  \(parts[1]): \(value)")
            } else {
                section = nil
                lines.append("\(setting.key): \(value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A trailing comment for values that defer to something else.
    private func note(for key: String) -> String {
        switch key {
        case "input.max_zmq_message_bytes" where input.maxZMQMessageBytes == nil:
            "  # \(ByteSizeSyntax.format(input.effectiveMaxZMQMessageBytes)) = 16 × max_message_bytes"
        case "input.bind" where !input.connect.isEmpty:
            "  # not used: input.connect is set"
        case "model.path" where model.path.isEmpty:
            "  # the built-in model"
        case "model.lookahead" where model.lookahead == nil:
            "  # the model's own"
        case "metrics.listen" where metrics.listen.isEmpty:
            "  # disabled"
        default:
            ""
        }
    }
}
