/// TEMPORARY until the corpus readers land.
public struct Sentence: Sendable, Equatable {
    public var tokens: [String]
    public var tags: [String]
    public var startsDocument: Bool
    public init(tokens: [String], tags: [String], startsDocument: Bool = false) {
        self.tokens = tokens
        self.tags = tags
        self.startsDocument = startsDocument
    }
}
