import StreamTagCore

/// A corpus turned into integers once: vocabulary rows, feature buckets and tag ids for every
/// token, sentences as ranges of one flat token array.
struct EncodedCorpus: Sendable {
    /// [N] vocabulary rows (0 = unknown).
    var words: [Int32] = []
    /// [N, F] feature buckets, F = bucket slots (`[FeatureSpec].slotCount`); -1 = no row.
    var features: [Int32] = []
    /// [N, C] a teacher model's tag distribution per token (distillation), or empty.
    var teacher: [Float] = []
    /// [N] tag ids (-1: a tag the model does not know).
    var tags: [Int32] = []
    /// Sentence i is tokens sentenceStarts[i] ..< sentenceStarts[i+1].
    var sentenceStarts: [Int] = [0]
    /// Whether sentence i begins a document.
    var startsDocument: [Bool] = []

    var tokenCount: Int { words.count }
    var sentenceCount: Int { startsDocument.count }

    func sentenceRange(_ i: Int) -> Range<Int> { sentenceStarts[i]..<sentenceStarts[i + 1] }

    init(sentences: [Sentence], vocabulary: Vocabulary, tagIndex: [String: Int32], features specs: [FeatureSpec],
         lexicon: Lexicon? = nil) {
        let F = specs.slotCount
        var buckets = [Int32](repeating: 0, count: max(F, 1))
        for sentence in sentences {
            for (i, token) in sentence.tokens.enumerated() {
                words.append(vocabulary.id(of: token))
                if F > 0 {
                    buckets.withUnsafeMutableBufferPointer { TokenFeatures.buckets(for: token, specs: specs, lexicon: lexicon, into: $0.baseAddress!) }
                    features.append(contentsOf: buckets[0..<F])
                }
                tags.append(i < sentence.tags.count ? tagIndex[sentence.tags[i]] ?? -1 : -1)
            }
            sentenceStarts.append(words.count)
            startsDocument.append(sentence.startsDocument)
        }
    }
}

/// Builds the word list: words seen at least `minCount` times (lowercased if asked), most
/// frequent first (ties alphabetical, so runs are reproducible), row 0 the unknown word.
func buildVocabulary(_ sentences: [Sentence], lowercase: Bool, minCount: Int, maxSize: Int) -> [String] {
    var counts: [String: Int] = [:]
    for sentence in sentences {
        for token in sentence.tokens {
            counts[lowercase ? TokenFeatures.lowercased(token) : token, default: 0] += 1
        }
    }
    var words = counts.filter { $0.value >= minCount && $0.key != Vocabulary.unknown }
        .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        .map(\.key)
    if maxSize > 0 && words.count > maxSize - 1 { words.removeLast(words.count - (maxSize - 1)) }
    return [Vocabulary.unknown] + words
}

/// The tag set: every tag of the training data, sorted.
func buildTagSet(_ sentences: [Sentence]) -> [String] {
    var seen = Set<String>()
    for sentence in sentences { seen.formUnion(sentence.tags) }
    return seen.sorted()
}
