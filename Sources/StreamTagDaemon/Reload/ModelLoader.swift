import StreamTagCore

/// Loads and checks a model file off the hot path: read, hash, parse and validate every
/// tensor and metadata field (SPEC §3), then a test inference. Only a model that passes all of
/// it is offered for the swap.
enum ModelLoader {
    enum Outcome: Sendable {
        /// The file holds the model already serving (same SHA-256): nothing to do.
        case unchanged
        case loaded(Model)
        case rejected(String)
    }

    static func load(path: String, current: Model, precision: Model.Precision, replayTokens: Int,
                     lookahead: Int?) -> Outcome {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path: path)
        } catch {
            return .rejected("cannot read the model file: \(error.message)")
        }
        let sha = ModelFile.sha256Hex(bytes)
        guard sha != current.sha256 else { return .unchanged }
        let model: Model
        do {
            model = try Model(bundle: try ModelFile.decode(bytes), sha256: sha, precision: precision)
        } catch {
            return .rejected(error.description)
        }
        let k = min(lookahead ?? model.k, model.k)
        guard k <= replayTokens else {
            return .rejected("the model's lookahead (\(k)) is larger than reload.replay_tokens (\(replayTokens)): streams could not be moved onto it")
        }
        if let problem = testInference(model) { return .rejected(problem) }
        return .loaded(model)
    }

    /// Runs a few tokens (known, unknown, odd) through the model and checks every score.
    static func testInference(_ model: Model) -> String? {
        var tagger = StreamTagger(model: model)
        let tokens = Array(model.vocabulary.words.dropFirst().prefix(4)) + ["zzqx-unknown", "A", "42", "."]
        for token in tokens {
            _ = tagger.feed(token)
            for j in 0...model.k {
                let scores = tagger.scores(seeing: j)
                if let bad = scores.firstIndex(where: { !$0.isFinite }) {
                    return "test inference gave a non-finite score (head \(j), tag \(model.tags[bad]), after \"\(token)\")"
                }
            }
        }
        return nil
    }
}
