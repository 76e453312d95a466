import StreamTagCore
import Foundation
import Yams

/// The YAML configuration file as a table of its settings: each dotted key with its value and
/// the line it is on, from one Yams parse of the file.
///
/// The file's mappings are walked down to their leaves. A key whose value is a mapping is a
/// section (`input:`); any other key is a leaf (`input.hwm`) holding a scalar or a list of
/// scalars. A dotted key (`streams.idle_timeout: 5m`) is the same leaf as its nested form.
/// Every YAML form of a mapping counts: blocks, `{...}` flow mappings, anchors and aliases.
///
/// Reading is a plain synchronous call, so the daemon re-reads its file on SIGHUP by calling
/// `DaemonConfig.load` again.
struct ConfigFile {
    /// One leaf of the file: its dotted key, its value and the line of the key (from 1).
    struct Entry: Equatable {
        var key: String
        var raw: RawSettingValue
        var line: Int
    }

    /// The file's path, for error messages.
    let path: String
    /// Every leaf, in the order of the file.
    private(set) var entries: [Entry] = []
    private var indexByKey: [String: Int] = [:]
    private var nodesLeft = maxNodes

    /// Largest configuration file read (the example with every setting and its comments is
    /// about 10 KiB).
    static let maxFileBytes = 1 << 20

    /// Most keys and list items walked. Aliases are copies of what they name, so a small file
    /// of sections aliasing sections could otherwise stand for billions of keys.
    static let maxNodes = 10_000

    /// Reads and parses the file at `path` and refuses keys that are not settings.
    static func read(path: String) throws(ConfigError) -> ConfigFile {
        let file = try ConfigFile(yaml: try contents(of: path), path: path)
        try ConfigKeyCheck.checkFileKeys(file)
        return file
    }

    /// Parses `text`, naming `path` in errors. An empty file, or one of comments only, has no
    /// entries: every setting keeps its default.
    init(yaml text: String, path: String) throws(ConfigError) {
        self.path = path
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: "", message: "\(path): \(Self.yamlProblem(error))")
        }
        switch root {
        case nil:
            return
        case .mapping(let mapping)?:
            try collect(mapping, under: "")
        case .scalar(let scalar)? where ConfigSetting.isNull(scalar.string):
            // `---` alone, or `~`: a document with nothing in it.
            return
        case .sequence?:
            throw ConfigError(key: "", message: "\(path): not a valid configuration: the file is a list; write `key: value` lines")
        default:
            throw ConfigError(key: "", message: "\(path): not a valid configuration: the file is a single value; write `key: value` lines")
        }
    }

    /// The leaf `key`, if the file sets it.
    subscript(key: String) -> Entry? {
        indexByKey[key].map { entries[$0] }
    }

    private mutating func collect(_ mapping: Node.Mapping, under prefix: String) throws(ConfigError) {
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? 0
            try count(line: line)
            guard case .scalar(let name) = keyNode else {
                throw ConfigError(key: "", message: "\(path): line \(line): a key must be a plain name, not a list or mapping")
            }
            let key = prefix + name.string
            switch value {
            case .mapping(let section):
                try collect(section, under: key + ".")
            case .scalar(let scalar):
                try add(Entry(key: key, raw: .scalar(scalar.string), line: line))
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    try count(line: line)
                    guard case .scalar(let scalar) = item else {
                        throw unfollowable(key, line: item.mark?.line ?? line)
                    }
                    items.append(scalar.string)
                }
                try add(Entry(key: key, raw: .list(items), line: line))
            case .alias:
                // Yams composes an alias as a copy of its anchor's node; none is left.
                throw unfollowable(key, line: line)
            }
        }
    }

    /// Counts one key or list item against ``maxNodes``.
    private mutating func count(line: Int) throws(ConfigError) {
        nodesLeft -= 1
        if nodesLeft < 0 {
            throw ConfigError(key: "", message: "\(path): line \(line): more than \(Self.maxNodes) keys and list items (aliases repeating a section?)")
        }
    }

    /// Adds a leaf, refusing one set before (nested and dotted forms are the same key).
    private mutating func add(_ entry: Entry) throws(ConfigError) {
        if let first = self[entry.key] {
            throw ConfigError(key: entry.key, message: "set twice, lines \(first.line) and \(entry.line) of \(path)")
        }
        indexByKey[entry.key] = entries.count
        entries.append(entry)
    }

    /// A value no setting can hold: a list of mappings or of lists.
    private func unfollowable(_ key: String, line: Int) -> ConfigError {
        ConfigError(key: "", message: "\(path): line \(line): \(key): cannot follow the YAML structure here; write plain `key: value` lines under each section")
    }

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
        // Any other report, in case a later Yams words one otherwise: one sentence.
        return "not valid YAML: " + lines.filter { $0 != "Context:" && !$0.isEmpty }.joined(separator: " ")
    }
}
