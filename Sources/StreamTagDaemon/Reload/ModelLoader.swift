import StreamTagCore

/// Loads and checks a model file off the hot path: read, hash, parse and validate every
/// tensor and metadata field (docs/model-format.md), then a test inference. Only a model that passes all of
/// it is offered for the swap.
enum ModelLoader {
    enum Outcome: Sendable {
        /// The file holds the model already serving (same SHA-256): nothing to do.
        case unchanged
        case loaded(Model)
        case rejected(String)
    }

    /// Loads `path` (a regular file only; see `ModelFileReader`), giving up once `timeLimit`
    /// seconds are spent reading it.
    static func load(path: String, current: Model, precision: Model.Precision, replayTokens: Int,
                     lookahead: Int?, timeLimit: Double? = nil) -> Outcome {
        let loaded: ModelFileReader.Loaded
        do {
            loaded = try ModelFileReader(path: path, timeLimit: timeLimit).load()
        } catch {
            return .rejected(error.code == .io ? "cannot read the model file: \(error.message)" : error.description)
        }
        guard loaded.sha256 != current.sha256 else { return .unchanged }
        let model: Model
        do {
            model = try Model(bundle: try loaded.bundle(), sha256: loaded.sha256, precision: precision)
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
