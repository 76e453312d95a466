/// A word-class lexicon carried in the model file (metadata `lexicon`), for the `lexicon`
/// feature: the open word classes a word can belong to, as a bit mask (noun 1, verb 2,
/// adjective 4, adverb 8), plus name 16 (a word a dictionary lists only capitalized, e.g.
/// "Boston"). Entries are lowercased base forms (and irregular forms) with the classes they are
/// listed under, e.g. from WordNet's index and exception files and a word list's names.
///
/// A token's mask is the union, over the classes, of the classes for which the lowercased token
/// itself or one of its regular base forms is listed: WordNet's "morphy" detachment rules
/// (`dogs` → `dog` as a noun, `carried` → `carry` as a verb, `happier` → `happy` as an adjective).
/// The name bit is the lowercased token's own entry only. So the feature has 32 values
/// (0 = not in the lexicon).
public struct Lexicon: Sendable, Equatable {
    public static let noun: UInt8 = 1, verb: UInt8 = 2, adjective: UInt8 = 4, adverb: UInt8 = 8, name: UInt8 = 16
    /// Values a `lexicon` feature takes: its bucket count.
    public static let classes = 32

    /// Lowercased word → class mask of the entries listed under it.
    public let entries: [String: UInt8]

    public init(entries: [String: UInt8]) { self.entries = entries }

    /// (suffix, replacement) rules per class: WordNet's morphy rules, plus -ied → -y for verbs
    /// and -ier/-iest → -y for adjectives (irregular forms come from the exception lists).
    static let rules: [(UInt8, [(String, String)])] = [
        (noun, [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                ("men", "man"), ("ies", "y")]),
        (verb, [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
                ("ing", ""), ("ied", "y")]),
        (adjective, [("er", ""), ("est", ""), ("er", "e"), ("est", "e"), ("ier", "y"), ("iest", "y")]),
    ]

    /// The class mask of a token (0 when neither it nor a base form is listed).
    public func mask(of token: String) -> UInt8 {
        let word = TokenFeatures.lowercased(token)
        var mask = entries[word] ?? 0
        for (cls, rules) in Lexicon.rules where mask & cls == 0 {
            for (suffix, replacement) in rules where word.hasSuffix(suffix) && word.count > suffix.count {
                let base = String(word.dropLast(suffix.count)) + replacement
                if let m = entries[base], m & cls != 0 {
                    mask |= cls
                    break
                }
            }
        }
        return mask
    }

    /// Reads WordNet's `index.{noun,verb,adj,adv}` and `{noun,verb,adj,adv}.exc` files from a
    /// directory (e.g. `/usr/share/wordnet`); multi-word entries are left out. `names`: a word
    /// list, one word a line (e.g. `/usr/share/dict/words`): a word it has only capitalized gets
    /// the name bit.
    public static func wordNet(directory: String, names: String? = nil) throws -> Lexicon {
        var entries: [String: UInt8] = [:]
        if let names {
            let text = try readText(names)
            var capitalized = Set<String>(), lower = Set<String>()
            for line in text.split(separator: "\n") {
                let word = String(line)
                guard let first = word.unicodeScalars.first, !word.contains(" ") else { continue }
                if first.properties.isUppercase { capitalized.insert(TokenFeatures.lowercased(word)) } else { lower.insert(word) }
            }
            for word in capitalized.subtracting(lower) { entries[word] = Lexicon.name }
        }
        for (name, cls) in [("noun", noun), ("verb", verb), ("adj", adjective), ("adv", adverb)] {
            for file in ["index.\(name)", "\(name).exc"] {
                let path = directory + "/" + file
                let text = try readText(path)
                for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
                    guard let word = line.split(separator: " ", maxSplits: 1).first, !word.contains("_") else { continue }
                    entries[String(word), default: 0] |= cls
                }
            }
        }
        guard !entries.isEmpty else { throw LexiconError("no entries in \(directory)") }
        return Lexicon(entries: entries)
    }
}

/// A lexicon that could not be read.
public struct LexiconError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A whole text file, or a `LexiconError` with the reason it cannot be read.
private func readText(_ path: String) throws -> String {
    do {
        return String(decoding: try AtomicFile.read(path: path), as: UTF8.self)
    } catch {
        throw LexiconError(error.description)
    }
}
