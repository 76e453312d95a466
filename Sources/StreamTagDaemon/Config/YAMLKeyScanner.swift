/// Lists the leaf keys of a YAML configuration file, with their line numbers, so that unknown
/// keys (typos) can be reported.
///
/// swift-configuration's `YAMLSnapshot` parses the file but keeps its keys private, and Yams,
/// which it parses with, is not a declared dependency of this target. So this scanner follows
/// the block-mapping structure by indentation. It runs only on text `YAMLSnapshot` has already
/// accepted, and the loader checks that the two agree on every key and on the number of keys;
/// YAML it does not follow (flow mappings, anchors, merge and complex keys) is refused with the
/// line, which a configuration file never needs.
enum YAMLKeyScanner {
    /// A leaf key (one that holds a value, a list or nothing) and the line it is on (from 1).
    struct Key: Equatable {
        var path: String
        var line: Int
    }

    static func leafKeys(in text: String) throws(ValueProblem) -> [Key] {
        var keys: [Key] = []
        var parents: [(indent: Int, name: String)] = []
        // A `key:` with nothing after it: a section if the next line is a more indented key.
        var pending: (indent: Int, path: [String], line: Int)?
        // Lines belonging to the previous value: deeper than this indent, and `- ` items at it.
        var skipDeeperThan: Int?
        var skipItemsAt: Int?
        var openQuote: Character?

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if let quote = openQuote {
                if closingQuote(in: line, quote: quote) != nil { openQuote = nil }
                continue
            }
            let content = line.drop { $0 == " " }
            let indent = line.count - content.count
            if content.isEmpty || content.hasPrefix("#") { continue }
            if indent == 0 && (content.hasPrefix("---") || content.hasPrefix("...") || content.hasPrefix("%")) {
                continue
            }
            if let limit = skipDeeperThan {
                if indent > limit || (indent == skipItemsAt && isSequenceItem(content)) { continue }
                skipDeeperThan = nil
                skipItemsAt = nil
            }
            if let parent = pending {
                pending = nil
                if indent > parent.indent, !isSequenceItem(content), try splitKey(content, line: lineNumber) != nil {
                    parents.append((parent.indent, parent.path.last!))
                } else {
                    keys.append(Key(path: parent.path.joined(separator: "."), line: parent.line))
                    if indent > parent.indent || (indent == parent.indent && isSequenceItem(content)) {
                        // Its value: a block sequence, or a scalar on the following lines.
                        skipDeeperThan = parent.indent
                        skipItemsAt = parent.indent
                        continue
                    }
                }
            }
            guard !isSequenceItem(content), let entry = try splitKey(content, line: lineNumber) else {
                throw ValueProblem("line \(lineNumber): expected `key: value`")
            }
            let (key, rawValue) = entry
            while let last = parents.last, last.indent >= indent { parents.removeLast() }
            let path = parents.map(\.name) + [key]
            var value = rawValue
            if value.hasPrefix("!") {
                // A tag such as `!!str 600`: what follows it is the value.
                value = value.drop { $0 != " " }.drop { $0 == " " }
            }
            if key == "<<" {
                throw ValueProblem("line \(lineNumber): merge keys (<<) are not supported in the streamtag configuration")
            }
            switch value.first {
            case nil, "#":
                pending = (indent, path, lineNumber)
                continue
            case "&", "*":
                throw ValueProblem("line \(lineNumber): anchors and aliases (& and *) are not supported in the streamtag configuration")
            case "{":
                throw ValueProblem("line \(lineNumber): write \(path.joined(separator: ".")) as an indented block, not a {...} flow mapping")
            case "\"", "'":
                if closingQuote(in: value.dropFirst(), quote: value.first!) == nil { openQuote = value.first }
            default:
                break
            }
            keys.append(Key(path: path.joined(separator: "."), line: lineNumber))
            // Continuation lines of the value (a multi-line scalar or flow list, a block scalar).
            skipDeeperThan = indent
        }
        if let parent = pending {
            keys.append(Key(path: parent.path.joined(separator: "."), line: parent.line))
        }
        return keys
    }

    /// `- item` or a lone `-`.
    private static func isSequenceItem(_ content: Substring) -> Bool {
        content == "-" || content.hasPrefix("- ") || content.hasPrefix("-\t")
    }

    /// The key of a `key: value` line and what follows the colon (spaces dropped), or nil when
    /// the line is not a mapping entry.
    private static func splitKey(_ content: Substring, line: Int) throws(ValueProblem) -> (String, Substring)? {
        if content.hasPrefix("? ") || content == "?" {
            throw ValueProblem("line \(line): complex keys (?) are not supported in the streamtag configuration")
        }
        var key: String
        var rest: Substring
        if let quote = content.first, quote == "\"" || quote == "'" {
            guard let close = closingQuote(in: content.dropFirst(), quote: quote) else { return nil }
            key = unescape(content[content.index(after: content.startIndex)..<close], quote: quote)
            rest = content[content.index(after: close)...].drop { $0 == " " }
            guard rest.hasPrefix(":") else { return nil }
        } else {
            // A plain key ends at the first ": " (or ":" at the end); " #" before it is a comment.
            var index = content.startIndex
            while true {
                guard index < content.endIndex else { return nil }
                let next = content.index(after: index)
                if content[index] == "#" && index > content.startIndex
                    && content[content.index(before: index)] == " " { return nil }
                if content[index] == ":" && (next == content.endIndex || content[next] == " " || content[next] == "\t") {
                    break
                }
                index = next
            }
            key = String(content[..<index])
            while key.hasSuffix(" ") { key.removeLast() }
            guard let first = key.first, !"[{&*!|>%@`".contains(first) else { return nil }
            rest = content[index...]
        }
        return (key, rest.dropFirst().drop { $0 == " " || $0 == "\t" })
    }

    /// The index of the quote that ends a quoted scalar starting just before `text`.
    private static func closingQuote(in text: Substring, quote: Character) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if quote == "\"" && text[index] == "\\" {
                index = next < text.endIndex ? text.index(after: next) : next
                continue
            }
            if text[index] == quote {
                // In single quotes, '' is an escaped quote.
                if quote == "'" && next < text.endIndex && text[next] == "'" {
                    index = text.index(after: next)
                    continue
                }
                return index
            }
            index = next
        }
        return nil
    }

    /// The common escapes of a quoted key (`\"`, `\\`, `''`); keys need nothing more.
    private static func unescape(_ text: Substring, quote: Character) -> String {
        if quote == "'" { return String(text.replacing("''", with: "'")) }
        var out = ""
        var escaped = false
        for char in text {
            if escaped || char != "\\" { out.append(char); escaped = false } else { escaped = true }
        }
        return out
    }
}
