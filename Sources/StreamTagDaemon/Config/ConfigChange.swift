/// What re-reading the configuration changes, split into the settings the running daemon can
/// take at once and those that need a restart (SIGHUP, see `Daemon.reloadConfiguration`).
///
/// Pure: it compares two loaded configurations setting by setting (by their YAML rendering, so
/// `600s` and `10m` are the same value) and builds the configuration to run with. No daemon,
/// no sockets.
package struct ConfigChange: Sendable, Equatable {
    /// One setting whose value differs.
    struct Entry: Sendable, Equatable, CustomStringConvertible {
        /// Dotted key, e.g. `streams.idle_timeout`.
        var key: String
        /// The running value, as YAML (`10m`).
        var old: String
        /// The value just read, as YAML (`5m`).
        var new: String

        /// `streams.idle_timeout 10m -> 5m`.
        var description: String { "\(key) \(old) -> \(new)" }
    }

    /// Changed settings that take effect now, in file order.
    var live: [Entry] = []
    /// Changed settings that take effect only at the next start, in file order. The running
    /// daemon keeps their old values (a socket cannot be re-bound, nor a worker added, without
    /// a restart).
    var restartNeeded: [Entry] = []
    /// The configuration to run with: the running one with the ``live`` changes applied and
    /// every restart-only setting as it was.
    var effective: DaemonConfig

    /// Settings the daemon applies while running. Everything else (sockets, high-water marks,
    /// workers, batching, metrics listener, state directory, model precision and lookahead)
    /// needs a restart.
    static let liveKeys: Set<String> = [
        "log_level",
        "streams.idle_timeout", "streams.max_state_bytes", "streams.max_pending_tokens",
        "streams.max_pending_total",
        "streams.end_grace", "streams.on_gap",
        "reload.policy", "reload.replay_tokens", "reload.drain_timeout", "reload.load_timeout",
        "snapshot_interval", "heartbeat_interval",
        "model.path", "model.partial", "model.watch", "model.watch_interval",
    ]

    /// Compares `running` (what the daemon runs with) to `next` (the file just read).
    init(from running: DaemonConfig, to next: DaemonConfig) {
        effective = running
        for setting in DaemonConfig.settings {
            let old = setting.render(running), new = setting.render(next)
            guard old != new else { continue }
            let entry = Entry(key: setting.key, old: old, new: new)
            if Self.appliesLive(setting.key, next: next) {
                setting.copy(&effective, next)
                live.append(entry)
            } else {
                restartNeeded.append(entry)
            }
        }
    }

    /// Whether a change of `key` to its value in `next` can be applied live.
    static func appliesLive(_ key: String, next: DaemonConfig) -> Bool {
        // A new model file is loaded by the model reload that follows the config reload; going
        // back to the built-in model (an empty path) is not something a reload can load.
        if key == "model.path" { return !next.model.path.isEmpty }
        return liveKeys.contains(key)
    }

    /// Whether nothing at all changed.
    var isEmpty: Bool { live.isEmpty && restartNeeded.isEmpty }

    /// The info line for the log: `config reloaded: streams.idle_timeout 10m -> 5m, log_level
    /// info -> debug`, or `config unchanged`.
    var summary: String {
        if isEmpty { return "config unchanged" }
        if live.isEmpty { return "config reloaded: no setting that applies live changed" }
        return "config reloaded: " + live.map(\.description).joined(separator: ", ")
    }

    /// The warning line for settings that wait for a restart, or nil when there are none.
    var restartWarning: String? {
        guard !restartNeeded.isEmpty else { return nil }
        return "config: these changes take effect at the next restart (the old values stay until then): "
            + restartNeeded.map(\.description).joined(separator: ", ")
    }
}
