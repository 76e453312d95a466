import Testing
@testable import StreamTagCore

/// The one lookahead-window decode (`LookaheadCursor.releaseDue`/`releaseOldest`,
/// `BatchStepper.decodeWindow`) as the offline taggers use it: with an IOB tag set, where the
/// tag carried from one token to the next changes what the next may be.
@Suite struct LookaheadDecodingTests {
    static let tags = ["O", "B-X", "I-X", "B-Y", "I-Y"]

    static func model(lookahead: Int) throws -> Model {
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 8, hiddenDim: 12, lookahead: lookahead,
                                 features: [FeatureSpec(.suffix, length: 2, buckets: 31)])
        // Larger weights than the default: random scores then often prefer a tag the previous
        // one does not allow, so a wrong carried tag would show.
        var bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "a", "b", "c"], tags: tags, seed: 11)
        // Inside tags favoured where they are allowed, so the carried tag decides often.
        let bias: [Float] = [0, 2, 3, 2, 3]
        bundle.weights.head.weight = bundle.weights.head.weight.map { $0 * 8 }
        bundle.weights.head.bias = bias
        for j in bundle.weights.lookaheadHeads.indices {
            bundle.weights.lookaheadHeads[j].weight = bundle.weights.lookaheadHeads[j].weight.map { $0 * 8 }
            bundle.weights.lookaheadHeads[j].bias = bias
        }
        return try Model(bundle: bundle)
    }

    static let sentences: [[String]] = [
        ["a", "b", "c", "a", "zz", "b", "b", "c"], ["c"], ["b", "a"], ["q", "r", "s", "a", "b", "c", "a", "b", "c", "a", "c"],
    ]

    /// `I-T` only after `B-T` or `I-T`: what the carried previous tag guarantees.
    static func isValidIOB(_ tags: [Int32]) -> Bool {
        var previous = "O"
        for tag in tags.map({ Self.tags[Int($0)] }) {
            if tag.hasPrefix("I-") {
                guard previous.hasPrefix("B-") || previous.hasPrefix("I-"), previous.dropFirst(2) == tag.dropFirst(2) else { return false }
            }
            previous = tag
        }
        return true
    }

    @Test(arguments: [0, 1, 2])
    func streamAndSequenceTaggersAgreeOnIOB(lookahead: Int) throws {
        let model = try Self.model(lookahead: lookahead)
        #expect(TagDecoder(tags: model.tags).constrained)
        let tagged = SteppingTests.expectBatchedEqualsSingleStream(model, Self.sentences)
        for (s, tags) in tagged.enumerated() {
            #expect(Self.isValidIOB(tags.map(\.tag)), "sentence \(s): \(tags.map { Self.tags[Int($0.tag)] })")
        }
        let sawInside = tagged.joined().contains { Self.tags[Int($0.tag)].hasPrefix("I-") }
        #expect(sawInside, "the fixture should produce some I- tags, else the carry is not exercised")
    }

    /// The release after a step: nothing until more than k' tokens wait, then the oldest, and
    /// the tag it gets becomes the context of the next one.
    @Test func releaseDueCarriesThePreviousTag() {
        let decoder = TagDecoder(tags: Self.tags)
        // Scores preferring I-X, then B-X: at a stream's start I-X is not allowed.
        let scores: [Float] = [0, 2, 3, 0, 0]
        var cursor = LookaheadCursor(lookahead: 1)
        cursor.advance()
        #expect(scores.withUnsafeBufferPointer { cursor.releaseDue(scores: $0.baseAddress!, decoder: decoder) } == nil)
        cursor.advance()
        let first = scores.withUnsafeBufferPointer { cursor.releaseDue(scores: $0.baseAddress!, decoder: decoder) }
        #expect(first?.position == 0 && first?.tag == 1, "B-X: I-X cannot start a stream")
        #expect(cursor.previousTag == 1 && cursor.released == 1 && cursor.pending == 1)
        cursor.advance()
        let second = scores.withUnsafeBufferPointer { cursor.releaseDue(scores: $0.baseAddress!, decoder: decoder) }
        #expect(second?.position == 1 && second?.tag == 2, "I-X after B-X")
        #expect(cursor.previousTag == 2)
        // releaseOldest releases whatever waits, without the window rule (a replay's release).
        let oldest = scores.withUnsafeBufferPointer { cursor.releaseOldest(scores: $0.baseAddress!, decoder: decoder) }
        #expect(oldest.position == 2 && cursor.pending == 0 && cursor.previousTag == 2)
    }

    /// The window walk: oldest first, each token from the head that sees its followers, and
    /// the flush (carry) equals what `finish()` releases; without carry every token is decoded
    /// after the last final tag, as `provisional()` gives them.
    @Test func decodeWindowWalksOldestFirst() throws {
        let model = try Self.model(lookahead: 2)
        var tagger = StreamTagger(model: model)
        for token in ["a", "b", "c", "a"] { _ = tagger.feed(token) }
        let provisional = tagger.provisional()
        #expect(provisional.map(\.position) == [2, 3])
        let stepper = BatchStepper(model: model, maxBatch: 1)
        let scratch = AlignedBuffer<Float>(count: model.C)
        var walked: [TagEmission] = []
        let last = stepper.decodeWindow(row: tagger.state.pointer, cursor: tagger.cursor, decoder: tagger.decoder,
                                        scratch: scratch.pointer) { walked.append($0) }
        var unchained: [TagEmission] = []
        _ = stepper.decodeWindow(row: tagger.state.pointer, cursor: tagger.cursor, decoder: tagger.decoder,
                                 scratch: scratch.pointer, carry: false) { unchained.append($0) }
        #expect(unchained == provisional)
        #expect(walked.first == provisional.first, "the oldest is decoded after the last final tag either way")
        let finished = tagger.finish()
        #expect(walked == finished)
        #expect(last == finished.last?.tag)
    }
}
