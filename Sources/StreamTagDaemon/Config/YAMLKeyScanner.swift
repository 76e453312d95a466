import Yams

/// Lists the leaf keys of a YAML configuration file, with their line numbers, so that unknown
/// keys (typos) can be reported.
///
/// swift-configuration's `YAMLSnapshot` parses the file but keeps its keys and their lines
/// private, so the file is composed again with Yams, the parser behind `YAMLSnapshot`, and its
/// mappings walked: a key whose value is a mapping is a section, any other key (a value, a
/// list, nothing) a leaf. Every YAML form of a mapping counts (blocks, `{...}` flow
/// mappings, anchors and aliases).
enum YAMLKeyScanner {
    /// A leaf key (one that holds a value, a list or nothing) and the line it is on (from 1).
    struct Key: Equatable {
        var path: String
        var line: Int
    }

    static func leafKeys(in text: String) throws(ValueProblem) -> [Key] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ValueProblem(ConfigFile.yamlProblem(error))
        }
        guard case .mapping(let mapping)? = root else { return [] }
        var keys: [Key] = []
        try collect(mapping, under: "", into: &keys)
        return keys
    }

    private static func collect(_ mapping: Node.Mapping, under prefix: String, into keys: inout [Key]) throws(ValueProblem) {
        for (key, value) in mapping {
            let line = key.mark?.line ?? 0
            guard case .scalar(let name) = key else {
                throw ValueProblem("line \(line): a key must be a plain name, not a list or mapping")
            }
            let path = prefix + name.string
            if case .mapping(let section) = value {
                try collect(section, under: path + ".", into: &keys)
            } else {
                keys.append(Key(path: path, line: line))
            }
        }
    }
}
