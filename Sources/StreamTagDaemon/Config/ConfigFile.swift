import Configuration
import StreamTagCore
import Foundation

/// Reads the YAML configuration file into a swift-configuration `YAMLSnapshot` and checks its
/// keys, failing with the file's path and, where known, the line.
///
/// It is a plain synchronous call (no `FileProvider`, whose initialiser is `async`, and no
/// `ReloadingFileProvider`), so the daemon re-reads its file on SIGHUP by calling
/// `DaemonConfig.load` again.
enum ConfigFile {
    /// The parsed file, or nil when it holds no settings (empty, or only comments).
    static func read(path: String) throws(ConfigError) -> YAMLSnapshot? {
        let text = try contents(of: path)
        // YAMLSnapshot refuses a document without a top-level mapping, but a file of comments
        // only is a valid configuration: all defaults.
        let hasContent = text.split(whereSeparator: \.isNewline).contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            return !trimmed.isEmpty && !trimmed.hasPrefix("#") && trimmed != "---" && trimmed != "..."
        }
        guard hasContent else { return nil }

        let snapshot: YAMLSnapshot
        do {
            let bytes = Array(text.utf8)
            snapshot = try YAMLSnapshot(data: bytes.span.bytes, providerName: path, parsingOptions: .default)
        } catch {
            throw ConfigError(key: "", message: "\(path): \(yamlProblem(error))")
        }
        let keys: [YAMLKeyScanner.Key]
        do {
            keys = try YAMLKeyScanner.leafKeys(in: text)
        } catch {
            throw ConfigError(key: "", message: "\(path): \(error.message)")
        }
        try checkAgreement(keys, with: snapshot, path: path)
        try ConfigKeyCheck.checkFileKeys(keys, path: path) { key in
            guard case .string(let text)? = (try? snapshot.value(forKey: absoluteKey(key), type: .string))?.value?.content
            else { return nil }
            return text
        }
        return snapshot
    }

    /// Largest configuration file read (the example with every setting and its comments is
    /// about 10 KiB).
    static let maxFileBytes = 1 << 20

    /// The file's text, or an error saying why it cannot be had. Only a regular file is read,
    /// without blocking (a FIFO at the path is refused, not waited on, at start and on SIGHUP).
    private static func contents(of path: String) throws(ConfigError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path: path, limit: maxFileBytes)
        } catch {
            switch error.errno {
            case ENOENT: throw ConfigError(key: "", message: "\(path): no such file")
            case EISDIR: throw ConfigError(key: "", message: "\(path): is a directory, not a configuration file")
            case EACCES: throw ConfigError(key: "", message: "\(path): cannot be read (permission denied)")
            default: throw ConfigError(key: "", message: error.message)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(key: "", message: "\(path): is not UTF-8 text")
        }
        // Editors on some systems start UTF-8 files with a byte-order mark; YAML ignores it.
        return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// Every listed key must hold a value YAMLSnapshot can read, and nothing else may: a key
    /// whose value is neither a scalar nor a list of scalars (a list of mappings, say) is
    /// refused with its line rather than silently ignored.
    private static func checkAgreement(_ keys: [YAMLKeyScanner.Key], with snapshot: YAMLSnapshot, path: String)
        throws(ConfigError)
    {
        var lines: [String: Int] = [:]
        for key in keys {
            if let first = lines[key.path] {
                throw ConfigError(key: key.path, message: "set twice, lines \(first) and \(key.line) of \(path)")
            }
            lines[key.path] = key.line
            let absolute = absoluteKey(key.path)
            let present = (try? snapshot.value(forKey: absolute, type: .string))?.value != nil
                || (try? snapshot.value(forKey: absolute, type: .stringArray))?.value != nil
            guard present else {
                throw ConfigError(key: "", message: "\(path): line \(key.line): cannot follow the YAML structure here; write plain `key: value` lines under each section")
            }
        }
        // The snapshot's description is "NAME[N values]". If a later library version words it
        // otherwise the count check is skipped; the per-key check above still holds.
        if let count = valueCount(in: snapshot.description), count != keys.count {
            throw ConfigError(key: "", message: "\(path): cannot follow the YAML structure (\(count) values, \(keys.count) keys found); write plain `key: value` lines under each section")
        }
    }

    private static func valueCount(in description: String) -> Int? {
        guard description.hasSuffix(" values]"), let open = description.lastIndex(of: "[") else { return nil }
        return Int(description[description.index(after: open)...].dropLast(" values]".count))
    }

    static func absoluteKey(_ dotted: String) -> AbsoluteConfigKey {
        AbsoluteConfigKey(dotted.split(separator: ".").map(String.init))
    }

    /// A parse error as one line. Yams writes `L:C: error: KIND: [CONTEXT\n]PROBLEM:` and a
    /// snippet of the file; this becomes `not valid YAML: line L, column C: [CONTEXT: ]PROBLEM`.
    static func yamlProblem(_ error: any Error) -> String {
        let lines = String(describing: error).split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces }
        guard let first = lines.first else { return "not valid YAML" }
        let parts = first.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        if parts.count == 5, let line = Int(parts[0]), let column = Int(parts[1]), parts[2] == " error" {
            // The problem ends at the first line ending in ":"; a context line may come before it.
            var text = String(parts[4]).trimmingSpaces
            var rest = lines.dropFirst()
            while !text.hasSuffix(":"), let next = rest.popFirst() {
                text += (text.isEmpty ? "" : ": ") + next
            }
            if text.hasSuffix(":") { text.removeLast() }
            return "not valid YAML: line \(line), column \(column): \(text)"
        }
        let all = lines.joined(separator: " ")
        if let keys = all.firstRange(of: "duplicated key(s): ").map({ all[$0.upperBound...].prefix { $0 != "\n" } }) {
            // Yams quotes the whole mapping as context; its position is enough.
            let names = keys.split(separator: ".", maxSplits: 1).first.map(String.init) ?? String(keys)
            let place = all.ranges(of: " in line ").last.map { " (mapping" + all[$0.lowerBound...] + ")" } ?? ""
            return "not valid YAML: duplicate key \(names)\(place)"
        }
        // Other problems (a list of mappings, no top-level mapping) are one sentence.
        return "not a valid configuration: " + lines.filter { $0 != "Context:" && !$0.isEmpty }.joined(separator: " ")
    }
}
