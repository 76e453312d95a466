/// Refuses keys that are not settings, with a "did you mean" for the likely typo: a misspelt
/// key would otherwise be ignored and its setting silently keep its default.
enum ConfigKeyCheck {
    /// `STREAMTAG_` variables read by other parts of streamtag, not by the configuration.
    static let otherEnvironmentVariables: Set<String> = ["STREAMTAG_ISA"]

    /// Checks the leaf keys of the file, naming the line of the first that is not a setting.
    static func checkFileKeys(_ file: ConfigFile) throws(ConfigError) {
        for entry in file.entries where DaemonConfig.setting(forKey: entry.key) == nil {
            let place = "line \(entry.line) of \(file.path)"
            if DaemonConfig.sections.contains(entry.key) {
                // `streams:` with nothing under it is an empty section, which is fine.
                if case .scalar(let text) = entry.raw, ConfigSetting.isNull(text) { continue }
                throw ConfigError(key: entry.key, message: "is a section; write its settings on indented lines below it (\(place))")
            }
            let components = entry.key.split(separator: ".")
            if let parent = (1..<max(components.count, 1)).lazy
                .map({ components.prefix($0).joined(separator: ".") })
                .first(where: { DaemonConfig.setting(forKey: $0) != nil }) {
                throw ConfigError(key: entry.key, message: "\(parent) is a single setting, not a section (\(place))")
            }
            throw ConfigError(key: entry.key, message: unknownKeyMessage(entry.key, place: "at \(place)"))
        }
    }

    /// `unknown key at PLACE (did you mean streams.idle_timeout?)`.
    static func unknownKeyMessage(_ key: String, place: String) -> String {
        if let suggestion = suggestion(for: key, among: DaemonConfig.settings.map(\.key)) {
            return "unknown key \(place) (did you mean \(suggestion)?)"
        }
        return "unknown key \(place) (config/streamtag.yaml lists every setting)"
    }

    /// One line per `STREAMTAG_` environment variable that is not a setting, for the daemon to
    /// log as a warning (not an error: other tools may share the prefix).
    static func environmentWarnings(_ environment: [String: String]) -> [String] {
        let known = DaemonConfig.settings.map(\.environmentVariable)
        return environment.keys.sorted().compactMap { name in
            guard name.hasPrefix("STREAMTAG_"), !known.contains(name),
                  !otherEnvironmentVariables.contains(name) else { return nil }
            let hint = suggestion(for: name, among: known).map { " (did you mean \($0)?)" } ?? ""
            return "environment variable \(name) is not a streamtag setting\(hint)"
        }
    }

    /// The candidate `key` most likely stands for: the same key in another spelling
    /// (`idle-timeout`, `idleTimeout`, upper case), one a few edits away, or the same last
    /// component in another section (`input.no_drop` → `output.no_drop`).
    static func suggestion(for key: String, among candidates: [String]) -> String? {
        let normalized = snakeCase(key)
        if let same = candidates.first(where: { $0.lowercased() == normalized }) { return same }
        let scored = candidates.map { (key: $0, distance: editDistance(normalized, $0.lowercased())) }
        if let best = scored.min(by: { $0.distance < $1.distance }),
           best.distance <= max(2, normalized.count / 6) {
            return best.key
        }
        let leaf = normalized.split(separator: ".").last.map(String.init) ?? normalized
        return candidates.first { $0.split(separator: ".").last.map(String.init) == leaf }
    }

    /// `idleTimeout` → `idle_timeout`, `Idle-Timeout` → `idle_timeout`.
    private static func snakeCase(_ key: String) -> String {
        var out = ""
        var previous: Character?
        for char in key {
            if char.isUppercase, let previous, previous.isLowercase || previous.isNumber { out += "_" }
            out += char == "-" ? "_" : char.lowercased()
            previous = char
        }
        return out
    }

    /// Levenshtein distance.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}
