import Testing
@testable import StreamTagCore

@Test func randomModelTags() throws {
    let config = ModelConfig(embeddingDim: 8, hiddenDim: 16, lookahead: 2,
                             features: [FeatureSpec(.suffix, length: 3, buckets: 50), FeatureSpec(.shape, buckets: 20)])
    let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "the", "cat"], tags: ["A", "B", "C"])
    let model = try Model(bundle: bundle)
    var tagger = SequenceTagger(model: model, maxBatch: 4)
    let out = tagger.tag([["the", "cat", "sat"], ["x"], [], ["the", "Dog", "ran", "off", "."]])
    #expect(out.map(\.count) == [3, 1, 0, 5])
    #expect(out[3].map(\.position) == [0, 1, 2, 3, 4])
}
