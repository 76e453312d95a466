/// One tag of an IOB tag set: `O`, `B-TYPE` or `I-TYPE` (TYPE non-empty; it may contain `-`,
/// as in WNUT's `B-creative-work`).
public struct IOBTag: Hashable, Sendable {
    public enum Kind: Sendable, Hashable {
        case outside, begin, inside
    }

    public let kind: Kind
    /// The entity type; empty for `O`.
    public let type: String

    /// Parses a tag; nil when it is not `O`, `B-TYPE` or `I-TYPE`.
    public init?(_ tag: String) {
        if tag == "O" {
            kind = .outside
            type = ""
            return
        }
        let utf8 = tag.utf8
        guard utf8.count > 2, utf8.dropFirst().first == UInt8(ascii: "-") else { return nil }
        switch utf8.first {
        case UInt8(ascii: "B"): kind = .begin
        case UInt8(ascii: "I"): kind = .inside
        default: return nil
        }
        type = String(tag.dropFirst(2))
    }

    /// Whether `tags` is an IOB tag set: not empty, every tag `O`, `B-TYPE` or `I-TYPE`, and at
    /// least one that is not `O` (a set of only `O` tags names no entities at all). Both IOB2
    /// (every entity starts with `B-`) and IOB1 (`I-` may start one) pass.
    public static func isIOBTagSet(_ tags: some Sequence<String>) -> Bool {
        var any = false
        var entity = false
        for tag in tags {
            guard let parsed = IOBTag(tag) else { return false }
            any = true
            if parsed.kind != .outside { entity = true }
        }
        return any && entity
    }
}
