import Foundation
import Testing
@testable import StreamTagCore

/// The batched, incremental path against itself: every way of running a stream must give the
/// same scores and tags.
@Suite struct SteppingTests {
    static func model(cell: CellKind, layers: Int = 2, lookahead: Int = 2, features: Bool = true, ngrams: Bool = true,
                      precision: Model.Precision = .fp32) throws -> Model {
        let config = ModelConfig(cell: cell, layers: layers, embeddingDim: 8, hiddenDim: 12, lookahead: lookahead,
                                 lowercase: true,
                                 features: !features ? [] : [FeatureSpec(.suffix, length: 3, buckets: 50), FeatureSpec(.shape, buckets: 20)]
                                     + (ngrams ? [FeatureSpec(.ngram, length: 3, buckets: 40)] : []))
        let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "the", "cat", "sat", "on", "mat"],
                                        tags: ["A", "B", "C", "D"], seed: 5)
        return try Model(bundle: bundle, precision: precision)
    }

    static let sentences: [[String]] = [
        ["the", "cat", "sat", "on", "the", "mat"], ["The", "Dog"], ["x"], [],
        ["mat", "sat", "unknown-word", "2024", "on", "the", "cat", "again", "."],
    ]

    /// With bf16 weights one stream takes the packed gemv (vdpbf16ps where available) and a batch
    /// the row-major kernels: the same tags, probabilities within float rounding.
    @Test(arguments: CellKind.allCases, Model.Precision.allCases)
    func batchedEqualsSingleStream(cell: CellKind, precision: Model.Precision) throws {
        _ = Self.expectBatchedEqualsSingleStream(try Self.model(cell: cell, precision: precision), Self.sentences)
    }

    /// Tags `sentences` with a `SequenceTagger` (3 rows a batch) and each alone with a
    /// `StreamTagger`, expects the same tags (probabilities within 1e-5) and every position
    /// once, in order; returns the single-stream tags.
    static func expectBatchedEqualsSingleStream(_ model: Model, _ sentences: [[String]]) -> [[TagEmission]] {
        var batched = SequenceTagger(model: model, maxBatch: 3)
        let together = batched.tag(sentences)
        return sentences.enumerated().map { s, sentence in
            var single = StreamTagger(model: model)
            var alone: [TagEmission] = []
            for token in sentence { if let e = single.feed(token) { alone.append(e) } }
            alone += single.finish()
            #expect(alone.map(\.position) == Array(0..<sentence.count))
            #expect(alone.map(\.tag) == together[s].map(\.tag), "sentence \(s)")
            for (a, b) in zip(alone, together[s]) { #expect(abs(a.p - b.p) < 1e-5) }
            return alone
        }
    }

    /// The step on state rows that live apart (as in the daemon's slab: here in reverse order,
    /// every other row, off alignment) equals the step on one contiguous buffer bit for bit,
    /// states and every head's scores, for batches of 1 to 5.
    @Test(arguments: CellKind.allCases, Model.Precision.allCases)
    func rowPointersEqualContiguousRows(cell: CellKind, precision: Model.Precision) throws {
        let model = try Self.model(cell: cell, precision: precision)
        let maxBatch = 5
        let stepper = BatchStepper(model: model, maxBatch: maxBatch)
        let S = stepper.layout.floats, C = model.C
        let contiguous = AlignedBuffer<Float>(count: maxBatch * S)
        let slab = AlignedBuffer<Float>(count: 2 * maxBatch * S + 3)
        let rows = AlignedBuffer<UnsafeMutablePointer<Float>?>(count: maxBatch)
        for b in 0..<maxBatch { rows[b] = slab.pointer + 3 + 2 * (maxBatch - 1 - b) * S }
        let a = AlignedBuffer<Float>(count: maxBatch * C), b = AlignedBuffer<Float>(count: maxBatch * C)
        let words = Self.sentences.flatMap { $0 }
        for t in 0..<12 {
            let B = 1 + t % maxBatch
            let codes = (0..<B).map { model.encode(words[(t * 3 + $0) % words.count]) }
            codes.withUnsafeBufferPointer {
                stepper.step(states: contiguous.pointer, tokens: $0.baseAddress!, count: B)
                stepper.step(rows: rows.pointer, tokens: $0.baseAddress!, count: B)
            }
            for r in 0..<maxBatch {
                let x = UnsafeBufferPointer(start: contiguous.pointer + r * S, count: S)
                let y = UnsafeBufferPointer(start: rows[r]!, count: S)
                #expect(x.map(\.bitPattern) == y.map(\.bitPattern), "step \(t), row \(r)")
            }
            for j in 0...model.k {
                stepper.scores(states: contiguous.pointer, count: B, seeing: j, into: a.pointer)
                stepper.scores(rows: rows.pointer, count: B, seeing: j, into: b.pointer)
                #expect(a.array[..<(B * C)].map(\.bitPattern) == b.array[..<(B * C)].map(\.bitPattern), "step \(t), head \(j)")
            }
        }
    }

    @Test func stepScoresMatchAFreshRecomputation() throws {
        // Scores after feeding a prefix equal those of a new stream fed the same prefix: state
        // carries everything and nothing leaks between streams sharing a batch.
        let model = try Self.model(cell: .lstm, lookahead: 0)
        var a = StreamTagger(model: model)
        _ = a.feed("cat")
        _ = a.finish()           // a reset stream behaves like a new one
        var b = StreamTagger(model: model)
        for token in ["the", "cat", "sat"] {
            _ = a.feed(token)
            _ = b.feed(token)
            #expect(a.scores() == b.scores())
        }
    }

    @Test func unknownWordsUseTheirFeatures() throws {
        func scores(_ word: String, ngrams: Bool) throws -> [Float] {
            var tagger = StreamTagger(model: try Self.model(cell: .lstm, lookahead: 0, ngrams: ngrams))
            _ = tagger.feed(word)
            return tagger.scores()
        }
        // Same suffix and shape, different word: the same features, unless n-grams tell them apart.
        #expect(try scores("zzzing", ngrams: false) == scores("qqqing", ngrams: false))
        #expect(try scores("zzzing", ngrams: false) != scores("Zzzed", ngrams: false))
        #expect(try scores("zzzing", ngrams: true) != scores("qqqing", ngrams: true))
    }

    /// The two ways a first-layer input is made — the table precomputed for vocabulary words
    /// and the projection of an unknown word's feature slots on the fly — agree for a word whose
    /// embedding row equals the unknown row (n-gram slots, empty ones included).
    @Test func unknownProjectionEqualsTheTableRow() throws {
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 8, hiddenDim: 6, lookahead: 0,
                                 features: [FeatureSpec(.suffix, length: 2, buckets: 13), FeatureSpec(.ngram, length: 3, buckets: 29),
                                            FeatureSpec(.shape, buckets: 7)])
        let words = ["<unk>", "Cat", "extraordinarily-long-word", "a"]
        var bundle = ModelBundle.random(config: config, vocabulary: words, tags: ["A", "B"], seed: 9)
        let E = config.embeddingDim
        for w in 1..<words.count { for e in 0..<E { bundle.weights.embedding[w * E + e] = bundle.weights.embedding[e] } }
        let model = try Model(bundle: bundle)
        var unknownOnly = bundle
        unknownOnly.vocabulary = ["<unk>"]
        unknownOnly.weights.embedding = Array(bundle.weights.embedding[0..<E])
        let plain = try Model(bundle: unknownOnly)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: model.GH), x = UnsafeMutablePointer<Float>.allocate(capacity: E)
        defer { row.deallocate(); x.deallocate() }
        for word in words.dropFirst() {
            let known = try #require(model.tableProjection(model.encode(word)))
            let code = plain.encode(word)
            #expect(code.word == 0)
            plain.projectUnknown(code, into: row, scratch: x)
            for g in 0..<model.GH { #expect(abs(known[g] - row[g]) < 1e-5, "\(word) row \(g)") }
        }
    }

    @Test func smallerLookaheadReleasesEarlier() throws {
        let model = try Self.model(cell: .gru, lookahead: 2)
        var k0 = SequenceTagger(model: model, lookahead: 0)
        var provisional: [[Int32]] = Array(repeating: [], count: 6)
        var k2 = SequenceTagger(model: model)
        let final = k2.tag([Self.sentences[0]]) { _, i, tag in provisional[i].append(tag) }[0]
        let zero = k0.tag([Self.sentences[0]])[0]
        #expect(zero.map(\.position) == Array(0..<6))
        // Head 0's provisional tag is exactly what the k'=0 tagger releases.
        #expect(provisional.map { $0.first } == zero.map(\.tag))
        // Each token gets a provisional tag from head 0 on arrival and from head 1 one token
        // later; the last one only from head 0 before the end flushes it.
        #expect(provisional.map(\.count) == [2, 2, 2, 2, 2, 1])
        #expect(final.count == 6)
    }
}

@Suite struct DecodingTests {
    @Test func cursorReleasesAfterTheWindowFills() {
        var cursor = LookaheadCursor(lookahead: 2)
        cursor.advance()
        #expect(cursor.release() == nil)
        cursor.advance()
        #expect(cursor.release() == nil)
        cursor.advance()
        #expect(cursor.release() == 0)
        #expect(cursor.release() == nil)          // released once only
        #expect(cursor.pending == 2)
        #expect((0..<cursor.pending).reversed().map { cursor.position(seeing: $0) } == [1, 2])
        cursor.reset()
        #expect(cursor.fed == 0 && cursor.pending == 0)
    }

    @Test func iobConstraintsForbidInsideWithoutBegin() {
        let decoder = TagDecoder(tags: ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
        #expect(decoder.constrained)
        var scores: [Float] = [0, 0, 5, 0, 1]     // I-PER is best, but nothing came before
        let start = decoder.decode(&scores, previous: -1)
        #expect(start.tag == 0 || start.tag == 1 || start.tag == 3)
        #expect(decoder.decode(&scores, previous: 1).tag == 2)   // after B-PER it is allowed
        #expect(decoder.decode(&scores, previous: 3).tag != 2)   // not after B-LOC
        let p = decoder.decode(&scores, previous: 1).p
        #expect(p > 0.9 && p <= 1)
    }

    @Test func plainTagSetsAreNotConstrained() {
        let decoder = TagDecoder(tags: ["NOUN", "VERB", "I-X"].dropLast().map { $0 })
        #expect(!decoder.constrained)
        var scores: [Float] = [1, 2]
        let (tag, p) = decoder.decode(&scores, previous: -1)
        #expect(tag == 1)
        #expect(abs(p - 1 / (1 + expf(-1))) < 1e-6)
    }
}

@Suite struct FeatureTests {
    @Test func shapesCollapseRuns() {
        #expect(TokenFeatures.shape("Hello") == "Xxx")
        #expect(TokenFeatures.shape("USA") == "XX")
        #expect(TokenFeatures.shape("3.14") == "d.dd")
        #expect(TokenFeatures.shape("e-mail") == "x-xx")
    }

    @Test func lexiconMasksUseBaseForms() {
        let lexicon = Lexicon(entries: ["dog": Lexicon.noun | Lexicon.verb, "carry": Lexicon.verb, "big": Lexicon.adjective,
                                        "box": Lexicon.noun, "went": Lexicon.verb, "fast": Lexicon.adjective | Lexicon.adverb])
        #expect(lexicon.mask(of: "Dog") == Lexicon.noun | Lexicon.verb)
        #expect(lexicon.mask(of: "dogs") == Lexicon.noun | Lexicon.verb)     // noun -s, verb -s
        #expect(lexicon.mask(of: "carried") == Lexicon.verb)
        #expect(lexicon.mask(of: "carries") == Lexicon.verb)
        #expect(lexicon.mask(of: "boxes") == Lexicon.noun)
        #expect(lexicon.mask(of: "bigger") == 0)                             // morphy has no consonant doubling
        #expect(lexicon.mask(of: "WENT") == Lexicon.verb)
        #expect(lexicon.mask(of: "faster") == Lexicon.adjective)             // adjective -er
        #expect(lexicon.mask(of: "qwerty") == 0)
        let named = Lexicon(entries: ["boston": Lexicon.name, "bill": Lexicon.noun | Lexicon.verb])
        #expect(named.mask(of: "Boston") == Lexicon.name)
        #expect(named.mask(of: "Bills") == Lexicon.noun | Lexicon.verb)
        let spec = [FeatureSpec(.shape, buckets: 7), FeatureSpec(.lexicon, buckets: 16)]
        var out: [Int32] = [0, 0]
        out.withUnsafeMutableBufferPointer { TokenFeatures.buckets(for: "dogs", specs: spec, lexicon: lexicon, into: $0.baseAddress!) }
        #expect(out[1] == 3)
    }

    @Test func affixesAreLowercasedScalars() {
        let suffix = FeatureSpec(.suffix, length: 3, buckets: 100), prefix = FeatureSpec(.prefix, length: 2, buckets: 100)
        #expect(TokenFeatures.value(of: suffix, token: "Running", lowered: "running") == "ing")
        #expect(TokenFeatures.value(of: prefix, token: "Éclair", lowered: TokenFeatures.lowercased("Éclair")) == "éc")
        #expect(TokenFeatures.value(of: suffix, token: "a", lowered: "a") == "a")
    }

    @Test func ngramsAreBoundedRunsOfLowercasedScalars() {
        #expect(TokenFeatures.ngrams("dog", length: 3) == ["<do", "dog", "og>"])
        #expect(TokenFeatures.ngrams("a", length: 3) == ["<a>"])
        #expect(TokenFeatures.ngrams("a", length: 4) == [])
        #expect(TokenFeatures.ngrams("éa", length: 2) == ["<é", "éa", "a>"])
        let long = String(repeating: "x", count: 30)
        #expect(TokenFeatures.ngrams(long, length: 3).count == FeatureSpec.ngramSlots)
        #expect(TokenFeatures.ngrams(long, length: 3).first == "<xx")

        // An n-gram bag takes `ngramSlots` slots: one bucket per n-gram of the lowercased token,
        // -1 in the rest; the next feature follows the bag.
        let specs = [FeatureSpec(.ngram, length: 3, buckets: 100), FeatureSpec(.shape, buckets: 7)]
        #expect(specs.slotCount == FeatureSpec.ngramSlots + 1)
        #expect(specs.slotFeatures == [Int](repeating: 0, count: FeatureSpec.ngramSlots) + [1])
        var out = [Int32](repeating: 99, count: specs.slotCount)
        out.withUnsafeMutableBufferPointer { TokenFeatures.buckets(for: "Dog", specs: specs, into: $0.baseAddress!) }
        #expect(Array(out[0..<3]) == ["<do", "dog", "og>"].map { TokenFeatures.bucket($0, buckets: 100) })
        #expect(out[3..<FeatureSpec.ngramSlots].allSatisfy { $0 == -1 })
        #expect(out[FeatureSpec.ngramSlots] == TokenFeatures.bucket("Xxx", buckets: 7))
        // The in-place hashing equals hashing the n-gram strings, for multi-byte scalars, short
        // and long tokens and every length.
        for token in ["a", "ab", "dog", "Éclair", "naïve", "日本語テキスト", "x🙂y", String(repeating: "é", count: 25), ""] {
            for n in 1...8 {
                let lowered = TokenFeatures.lowercased(token)
                let grams = TokenFeatures.ngrams(lowered, length: n)
                var got = [Int32](repeating: 99, count: FeatureSpec.ngramSlots)
                got.withUnsafeMutableBufferPointer { TokenFeatures.ngramBuckets(lowered, length: n, buckets: 997, into: $0.baseAddress!) }
                let expected = (0..<FeatureSpec.ngramSlots).map { $0 < grams.count ? TokenFeatures.bucket(grams[$0], buckets: 997) : -1 }
                #expect(got == expected, "\(token) n=\(n)")
            }
        }
    }

    @Test func bucketsAreFNV1a64() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (published test vector).
        let expected: UInt64 = 0xaf63_dc4c_8601_ec8c
        #expect(fnv1a64("a".utf8) == expected)
        #expect(TokenFeatures.bucket("a", buckets: 1000) == Int32(expected % 1000))
    }
}
