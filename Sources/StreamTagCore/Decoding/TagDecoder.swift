import Foundation

/// Turns a token's scores into a tag and its probability: greedy argmax, or for IOB tag sets
/// the best tag the previous tag allows (`I-X` only after `B-X` or `I-X`), with p renormalised
/// over the allowed tags (the decoding's own marginal).
public struct TagDecoder: Sendable {
    public let tags: [String]
    /// Whether IOB constraints apply (every tag is `O`, `B-…` or `I-…`, with at least one `I-`).
    public let constrained: Bool
    /// allowed[prev + 1][tag]: may `tag` follow `prev` (prev = -1: stream start)?
    private let allowed: [[Bool]]

    public init(tags: [String], constrainIOB: Bool? = nil) {
        self.tags = tags
        let looksIOB = tags.allSatisfy { $0 == "O" || $0.hasPrefix("B-") || $0.hasPrefix("I-") }
            && tags.contains { $0.hasPrefix("I-") }
        constrained = constrainIOB ?? looksIOB
        var allowed: [[Bool]] = []
        for prev in -1..<tags.count {
            allowed.append(tags.map { tag in
                guard tag.hasPrefix("I-") else { return true }
                guard prev >= 0 else { return false }
                let type = tag.dropFirst(2)
                let p = tags[prev]
                return (p.hasPrefix("B-") || p.hasPrefix("I-")) && p.dropFirst(2) == type
            })
        }
        self.allowed = allowed
    }

    /// The tag for `scores` (C values) after `previous` (-1 at a stream's start or after a reset).
    @inline(__always)
    public func decode(_ scores: UnsafePointer<Float>, previous: Int32) -> (tag: Int32, p: Float) {
        let C = tags.count
        if !constrained {
            var best = 0
            for c in 1..<C where scores[c] > scores[best] { best = c }
            var sum: Float = 0
            for c in 0..<C { sum += expf(scores[c] - scores[best]) }
            return (Int32(best), 1 / sum)
        }
        let ok = allowed[Int(previous) + 1]
        var best = -1
        for c in 0..<C where ok[c] && (best < 0 || scores[c] > scores[best]) { best = c }
        var sum: Float = 0
        for c in 0..<C where ok[c] { sum += expf(scores[c] - scores[best]) }
        return (Int32(best), 1 / sum)
    }
}
