import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagTraining
import StreamTagWire

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a model on annotated data: accuracy (or entity F1) at each lookahead, per-tag table, "
            + "top confusions, provisional-tag edit overhead, continuous-stream accuracy."
    )

    @OptionGroup var model: ModelOptions
    @Option(name: .long, help: "Annotated data: CoNLL-U or token<TAB>tag lines.")
    var data: String
    @Option(name: .long, help: "Input format: conllu, iob (default: detected).")
    var format: CorpusFormat?
    @Option(name: .long, help: "CoNLL-U column holding the gold tags: upos or xpos.")
    var column: CoNLLUColumnName = .upos
    @Option(name: .long, help: "Confusions to list.")
    var errors = 10
    @Flag(name: .long, help: "Skip the whole-file continuous-stream measurement.")
    var noContinuous = false
    @Flag(name: .long, help: "Print one JSON object instead of tables.")
    var json = false
    @Option(name: .long, parsing: .upToNextOption,
            help: "Other models (same tags) to average with --model's tag distributions: the ensemble's accuracy at each lookahead.")
    var ensemble: [String] = []

    func run() throws {
        let model = try model.load()
        let corpus = try readCorpus(data, format: format, options: CorpusReadOptions(column: column.column, tags: .required))
        var report = try Evaluation.run(model: model, corpus: corpus, continuous: !noContinuous)
        if !ensemble.isEmpty {
            let members = try [model] + ensemble.map { try loadModel(path: $0, precision: model.precision) }
            do { try report.addEnsemble(members, corpus: corpus) } catch let error as TrainingError { throw ValidationError(error.message) }
        }
        if json {
            print(report.json())
        } else {
            print(report.text(errors: errors))
        }
    }
}

/// What `eval` measures, kept apart from printing so tests can check the numbers.
struct Evaluation: Encodable {
    struct LookaheadScore: Encodable {
        var lookahead: Int
        var accuracy: Double
        var entityF1: Double?
        enum CodingKeys: String, CodingKey { case lookahead, accuracy, entityF1 = "entity_f1" }

        /// Token accuracy of `predicted`, and entity F1 when the tags are IOB (`entities`).
        init(lookahead: Int, gold: [[String]], predicted: [[String]], entities: Bool) throws {
            self.lookahead = lookahead
            accuracy = try TagScores(gold: gold, predicted: predicted).accuracy
            entityF1 = entities ? try EntityScores(gold: gold, predicted: predicted).overall.f1 : nil
        }
    }

    var model: String
    var data: String
    var sentences: Int
    var tokens: Int
    var lookahead: [LookaheadScore]
    var tags: TagScores
    var entities: EntityScores?
    /// Share of provisional tags that the final tag changed (k > 0 only).
    var editOverhead: Double?
    /// Accuracy when the whole file is one stream without resets, and its difference to per-sentence resets.
    var continuousAccuracy: Double?
    var continuousDelta: Double?
    var tokensPerSecond: Double
    /// Accuracy on words in the model's vocabulary and on the rest, and the rest's share.
    var knownAccuracy: Double
    var unknownAccuracy: Double
    var unknownShare: Double
    /// With `--ensemble`: the members' ids and the accuracy of their mean distribution by lookahead.
    var ensembleModels: [String]?
    var ensembleScores: [LookaheadScore]?

    enum CodingKeys: String, CodingKey {
        case model, data, sentences, tokens, lookahead, tags, entities
        case knownAccuracy = "known_accuracy", unknownAccuracy = "unknown_accuracy", unknownShare = "unknown_share"
        case editOverhead = "edit_overhead", continuousAccuracy = "continuous_accuracy"
        case continuousDelta = "continuous_delta", tokensPerSecond = "tokens_per_s"
        case ensembleModels = "ensemble_models", ensembleScores = "ensemble"
    }

    static func run(model: Model, corpus: Corpus, continuous: Bool) throws -> Evaluation {
        let gold = corpus.sentences.map(\.tags)
        let tokens = corpus.sentences.map(\.tokens)
        let isIOB = IOBTag.isIOBTagSet(model.tags) && corpus.isIOB
        var scores: [LookaheadScore] = []
        var finalTags: [[String]] = []
        var seconds = 0.0
        for k in 0...model.k {
            let start = monotonicSeconds()
            let predicted = Trainer.predict(model: model, sentences: tokens, lookahead: k)
            if k == model.k {
                seconds = monotonicSeconds() - start
                finalTags = predicted
            }
            scores.append(try LookaheadScore(lookahead: k, gold: gold, predicted: predicted, entities: isIOB))
        }
        let tagScores = try TagScores(gold: gold, predicted: finalTags)
        var known = (right: 0, total: 0), unknown = (right: 0, total: 0)
        for (sentence, predicted) in zip(corpus.sentences, finalTags) {
            for (i, token) in sentence.tokens.enumerated() {
                let right = predicted[i] == sentence.tags[i] ? 1 : 0
                if model.vocabulary.id(of: token) == 0 {
                    unknown.right += right; unknown.total += 1
                } else {
                    known.right += right; known.total += 1
                }
            }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        var report = Evaluation(
            model: model.id, data: corpus.file, sentences: corpus.sentences.count, tokens: corpus.tokenCount,
            lookahead: scores, tags: tagScores,
            entities: isIOB ? try EntityScores(gold: gold, predicted: finalTags) : nil,
            tokensPerSecond: Double(corpus.tokenCount) / max(seconds, 1e-9),
            knownAccuracy: ratio(known.right, known.total), unknownAccuracy: ratio(unknown.right, unknown.total),
            unknownShare: ratio(unknown.total, known.total + unknown.total))
        if model.k > 0 { report.editOverhead = try editOverhead(model: model, tokens: tokens, final: finalTags) }
        if continuous {
            var tagger = SequenceTagger(model: model, maxBatch: 1)
            let stream = tagger.tag([tokens.flatMap { $0 }])[0].map { model.tags[Int($0.tag)] }
            let all = gold.flatMap { $0 }
            let right = zip(stream, all).filter { $0 == $1 }.count
            report.continuousAccuracy = Double(right) / Double(max(all.count, 1))
            report.continuousDelta = report.continuousAccuracy! - tagScores.accuracy
        }
        return report
    }

    /// Scores the ensemble of `models` (the evaluated model first) at every lookahead they all have.
    mutating func addEnsemble(_ models: [Model], corpus: Corpus) throws {
        let gold = corpus.sentences.map(\.tags), tokens = corpus.sentences.map(\.tokens)
        let isIOB = IOBTag.isIOBTagSet(models[0].tags) && corpus.isIOB
        ensembleModels = models.map(\.id)
        ensembleScores = []
        for k in 0...models.map(\.k).min()! {
            let predicted = try Trainer.ensemblePredict(models: models, sentences: tokens, lookahead: k)
            ensembleScores!.append(try LookaheadScore(lookahead: k, gold: gold, predicted: predicted, entities: isIOB))
        }
    }

    private static func editOverhead(model: Model, tokens: [[String]], final: [[String]]) throws -> Double {
        var provisional = tokens.map { $0.map { _ in [String]() } }
        var tagger = SequenceTagger(model: model, maxBatch: 64)
        _ = tagger.tag(tokens) { s, i, tag in provisional[s][i].append(model.tags[Int(tag)]) }
        var overhead = EditOverhead()
        for (p, f) in zip(provisional, final) { try overhead.add(provisional: p, final: f) }
        return overhead.overhead
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    func text(errors: Int) -> String {
        var out = "model \(model)\ndata  \(data): \(sentences) sentences, \(tokens) tokens\n\n"
        out += "lookahead  accuracy" + (entities != nil ? "  entity F1" : "") + "\n"
        for s in lookahead {
            out += String(format: "k=%-7d  %7.2f%%", s.lookahead, s.accuracy * 100)
            if let f1 = s.entityF1 { out += String(format: "  %8.2f%%", f1 * 100) }
            out += "\n"
        }
        out += String(format: "known words %.2f%%, unknown words %.2f%% (%.1f%% of tokens)\n",
                      knownAccuracy * 100, unknownAccuracy * 100, unknownShare * 100)
        if let editOverhead { out += String(format: "\nprovisional tags changed by the final tag: %.2f%%\n", editOverhead * 100) }
        if let continuousAccuracy, let continuousDelta {
            out += String(format: "one continuous stream (no resets): %.2f%% (%+.2f points vs per-sentence)\n",
                          continuousAccuracy * 100, continuousDelta * 100)
        }
        out += String(format: "speed: %.0f tokens/s (batched, 2 threads)\n", tokensPerSecond)
        if let ensembleModels, let ensembleScores {
            out += "ensemble of \(ensembleModels.count) (mean tag distribution):"
            for s in ensembleScores {
                out += String(format: "  k=%d %.2f%%", s.lookahead, s.accuracy * 100)
                if let f1 = s.entityF1 { out += String(format: " (entity F1 %.2f%%)", f1 * 100) }
            }
            out += "\n"
        }
        out += "\n"
        out += tags.table(errors: errors)
        if let entities { out += "\n" + entities.table() }
        return out
    }
}
