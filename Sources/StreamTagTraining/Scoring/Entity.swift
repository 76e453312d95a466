/// An entity (chunk) in a tag sequence: tokens `start..<end` of one sentence, and its type.
public struct Entity: Hashable, Sendable, Codable {
    public var type: String
    /// Index of the first token.
    public var start: Int
    /// One past the index of the last token.
    public var end: Int

    public init(type: String, start: Int, end: Int) {
        self.type = type
        self.start = start
        self.end = end
    }

    /// The entities of one sentence's tags, with the chunk boundaries of conlleval: an `I-X`
    /// after `O` or after another type starts a new entity, `B-` always starts one, and a
    /// change of type always ends one. (The IOE/bracket rules of conlleval apply too.)
    public static func extract(from tags: [String]) -> [Entity] {
        var entities: [Entity] = []
        var previous = ChunkTag.outside
        var open: (type: Substring, start: Int)?
        for (i, raw) in tags.enumerated() {
            let tag = ChunkTag(raw)
            if let current = open, ChunkTag.endsChunk(previous, tag) || ChunkTag.startsChunk(previous, tag) {
                entities.append(Entity(type: String(current.type), start: current.start, end: i))
                open = nil
            }
            if ChunkTag.startsChunk(previous, tag) { open = (tag.type, i) }
            previous = tag
        }
        if let current = open {
            entities.append(Entity(type: String(current.type), start: current.start, end: tags.count))
        }
        return entities
    }
}

/// Internal: a tag split the way conlleval splits it, at the first `-` (`B-creative-work` →
/// `B` + `creative-work`; a tag without `-` is all prefix with an empty type).
struct ChunkTag: Equatable, Sendable {
    var prefix: Substring
    var type: Substring

    static let outside = ChunkTag(prefix: "O", type: "")

    init(prefix: Substring, type: Substring) {
        self.prefix = prefix
        self.type = type
    }

    init(_ tag: String) {
        if let dash = tag.utf8.firstIndex(of: UInt8(ascii: "-")) {
            prefix = tag[..<dash]
            type = tag[tag.utf8.index(after: dash)...]
        } else {
            prefix = tag[...]
            type = ""
        }
    }

    /// conlleval's `endOfChunk`: did a chunk end between `previous` and `current`?
    static func endsChunk(_ previous: ChunkTag, _ current: ChunkTag) -> Bool {
        let p = previous.prefix, t = current.prefix
        if p == "B" && (t == "B" || t == "O") { return true }
        if p == "I" && (t == "B" || t == "O") { return true }
        if p == "E" && (t == "E" || t == "I" || t == "O") { return true }
        if p != "O" && p != "." && previous.type != current.type { return true }
        // Bracket chunks are one token long.
        return p == "]" || p == "["
    }

    /// conlleval's `startOfChunk`: did a chunk start between `previous` and `current`?
    static func startsChunk(_ previous: ChunkTag, _ current: ChunkTag) -> Bool {
        let p = previous.prefix, t = current.prefix
        if t == "B" && (p == "B" || p == "I" || p == "O") { return true }
        if p == "O" && (t == "I" || t == "E") { return true }
        if p == "E" && (t == "E" || t == "I") { return true }
        if t != "O" && t != "." && previous.type != current.type { return true }
        return t == "[" || t == "]"
    }
}
