import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a tagger from CoNLL-U or two-column IOB files and write the model atomically.",
        discussion: """
        Example (the built-in model; --wordnet and --names need the Debian packages wordnet-base
        and wamerican):
          streamtag train --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu \\
            --name en-ewt-upos --lookahead 2 --wordnet /usr/share/wordnet --names /usr/share/dict/words \\
            --out en-ewt-upos.safetensors
        """
    )

    @Option(name: .long, help: "Training data (repeatable): CoNLL-U, or token<TAB>tag lines.")
    var train: [String]
    @Option(name: .long, help: "Development data: the early-stopping score and the best epoch come from it.")
    var dev: String?
    @Option(name: .long, help: "Where to write the model (atomically: temp file, fsync, rename).")
    var out: String
    @Option(name: .long, help: "Model name (part of its id NAME@HASH).")
    var name: String = "model"
    @Option(name: .long, help: "Input format: conllu, iob (default: detected).")
    var format: CorpusFormat?
    @Option(name: .long, help: "CoNLL-U column holding the tags: upos or xpos.")
    var column: CoNLLUColumnName = .upos

    @Option(name: .long, help: "Recurrent cell: lstm, gru, rnn_tanh, rnn_relu.")
    var cell: CellKindName = .lstm
    @Option(name: .long, help: "Stacked recurrent layers.")
    var layers = 1
    @Option(name: .long, help: "Embedding width E.")
    var embeddingDim = 128
    @Option(name: .long, help: "Hidden width H.")
    var hiddenDim = 256
    @Option(name: .long, help: "Lookahead k: final tags wait for k following tokens.")
    var lookahead = 0
    @Flag(name: .long, help: "Look words up lowercased (default: with their case; the lower feature shares across case).")
    var lowercase = false
    @Option(name: .long, parsing: .upToNextOption,
            help: "Sub-word features, e.g. prefix2:4096 suffix3:8192 shape:1024 lower:16384 ngram3:8192 (a bag of character 3-grams) (default: prefix1-2, suffix1-4, shape, lower).")
    var feature: [String] = []
    @Flag(name: .long, help: "No sub-word features: word embedding only.")
    var noFeatures = false
    @Option(name: .long, help: "Words seen fewer times map to the unknown row.")
    var minCount = 2
    @Option(name: .long, help: "Largest vocabulary (0 = no limit).")
    var maxVocabulary = 0

    @Option(name: .long, help: "Most epochs.")
    var epochs = 30
    @Option(name: .long, help: "Parallel streams per batch.")
    var batchSize = 32
    @Option(name: .long, help: "Tokens per stream per backpropagation-through-time chunk.")
    var chunkLength = 32
    @Option(name: .long, help: "Adam learning rate.")
    var learningRate: Float = 2e-3
    @Option(name: .long, help: "Linear warm-up steps.")
    var warmup = 200
    @Option(name: .long, help: "Global gradient-norm clip.")
    var clip: Float = 5
    @Option(name: .long, help: "Dropout between layers and before the heads.")
    var dropout: Float = 0.3
    @Option(name: .long, help: "Dropout on the input vector.")
    var inputDropout: Float = 0.25
    @Option(name: .long, help: "Probability of hiding a known word (its features stay).")
    var wordDropout: Float = 0.1
    @Option(name: .long, help: "Probability of resetting the state at a sentence boundary (else it carries on).")
    var resetProbability: Float = 0.5
    @Flag(name: .long, help: "Keep each document's sentences together and in order.")
    var keepDocuments = false
    @Option(name: .long, help: "Loss weight of the provisional heads (those seeing fewer than k followers).")
    var provisionalWeight: Float = 0.5
    @Option(name: .long, help: "Loss weight of the k'=0 head where it is provisional (default: the provisional weight).")
    var firstHeadWeight: Float?
    @Option(name: .long, help: "Dev score that picks the best epoch: final (the final head's) or mean (over k' = 0...k).")
    var selection: EpochSelection = .final
    @Option(name: .long, help: "Stop after this many epochs without a better dev score.")
    var patience = 4
    @Option(name: .long, help: "Moving-average decay of the weights that are evaluated and saved (0 = off).")
    var averageDecay: Float = 0.999
    @Option(name: .long, help: "Probability of replacing an unknown token's lower-feature bucket by a random one in training.")
    var lowerNoise: Float = 0
    @Option(name: .long, help: "Learning-rate schedule: plateau (halve on dev plateaus) or cosine (decay to 0 over --epochs).")
    var schedule: LearningRateSchedule = .plateau
    @Option(name: .long, help: "WordNet directory (e.g. /usr/share/wordnet, Debian package wordnet-base): adds a lexicon feature, the token's open word classes, and stores the lexicon in the model.")
    var wordnet: String?
    @Option(name: .long, help: "With --wordnet: a word list (e.g. /usr/share/dict/words, Debian package wamerican) whose capitalized-only words get the lexicon's name bit.")
    var names: String?
    @Option(name: .long, help: "Teacher model for distillation (same tag set): its tag distributions join the targets.")
    var teacher: String?
    @Option(name: .long, help: "Share of the teacher's distribution in the tag targets (with --teacher).")
    var distillWeight: Float = 0.5
    @Option(name: .long, help: "DropConnect rate on the recurrent matrices W_hh (a fresh mask per chunk).")
    var weightDrop: Float = 0
    @Option(name: .long, help: "Label smoothing of the tag losses.")
    var labelSmoothing: Float = 0
    @Option(name: .long, help: "Weight of the auxiliary next-tag loss (training only; 0 = off).")
    var nextTagWeight: Float = 0
    @Option(name: .long, help: "Weight of the auxiliary next-word loss (training only; 0 = off).")
    var nextWordWeight: Float = 0
    @Option(name: .long, help: "Classes of the next-word loss: the most frequent words (the rest share one class).")
    var nextWordClasses = 2048
    @Option(name: .long, help: "Random seed: the same seed, data and threads give the same model.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Worker threads (0 = one per core).")
    var threads = 0
    @Option(name: .long, help: "Tensor storage in the file: f32, f16 or bf16.")
    var dtype: TensorDType = .f32

    func run() throws {
        var options = TrainingOptions()
        options.cell = cell
        options.layers = layers
        options.embeddingDim = embeddingDim
        options.hiddenDim = hiddenDim
        options.lookahead = lookahead
        options.lowercase = lowercase
        if noFeatures {
            options.features = []
        } else if !feature.isEmpty {
            options.features = try feature.map { try FeatureSpecOption(parsing: $0) }
        }
        options.minCount = minCount
        options.maxVocabulary = maxVocabulary
        options.epochs = epochs
        options.batchSize = batchSize
        options.chunkLength = chunkLength
        options.learningRate = learningRate
        options.warmupSteps = warmup
        options.clipNorm = clip
        options.hiddenDropout = dropout
        options.inputDropout = inputDropout
        options.wordDropout = wordDropout
        options.resetProbability = resetProbability
        options.keepDocuments = keepDocuments
        options.stopPatience = patience
        options.averageDecay = averageDecay
        options.provisionalWeight = provisionalWeight
        options.firstHeadWeight = firstHeadWeight
        options.selection = selection
        options.lowerNoise = lowerNoise
        options.schedule = schedule
        options.labelSmoothing = labelSmoothing
        options.weightDrop = weightDrop
        options.distillWeight = teacher == nil ? 0 : distillWeight
        options.nextTagWeight = nextTagWeight
        options.nextWordWeight = nextWordWeight
        options.nextWordClasses = nextWordClasses
        options.seed = seed
        var lexicon: Lexicon? = nil
        if let wordnet {
            do { lexicon = try Lexicon.wordNet(directory: wordnet, names: names) } catch { throw ValidationError("\(error)") }
            if !options.features.contains(where: { $0.kind == "lexicon" }) {
                options.features.append(FeatureSpecOption(kind: "lexicon", length: 0, buckets: names == nil ? 16 : Lexicon.classes))
            }
        }
        options.threads = threads

        let readOptions = CorpusReadOptions(column: column.column, tags: .required)
        var trainSentences: [Sentence] = []
        var dataFacts: [TrainingMetadata.DataFile] = []
        for path in train {
            let corpus = try readCorpus(path, format: format, options: readOptions)
            trainSentences += corpus.sentences
            dataFacts.append(try fileFacts(path, corpus: corpus, role: "train"))
        }
        var devSentences: [Sentence] = []
        var isIOB = IOBTag.isIOBTagSet(trainSentences.lazy.flatMap(\.tags))
        if let dev {
            let corpus = try readCorpus(dev, format: format, options: readOptions)
            devSentences = corpus.sentences
            dataFacts.append(try fileFacts(dev, corpus: corpus, role: "dev"))
            isIOB = isIOB && corpus.isIOB
        }

        var teacherModel: Model? = nil
        if let teacher {
            teacherModel = try loadModel(path: teacher, precision: .fp32)
        }
        let trainer = try Trainer(options: options, train: trainSentences, dev: devSentences, name: name, teacher: teacherModel,
                                  lexicon: lexicon)
        if isIOB {
            trainer.devScore = { predicted, gold in
                (try? EntityScores(gold: gold.map(\.tags), predicted: predicted).overall.f1) ?? 0
            }
        }
        let metric = isIOB ? "entity F1" : "accuracy"
        printError("training \(name): \(trainSentences.count) sentences, \(trainer.trainTokenCount) tokens, "
                   + "vocabulary \(trainer.vocabulary.count), \(trainer.tags.count) tags, dev \(devSentences.count) sentences; "
                   + "dev score: \(metric)")
        let printer = TrainingProgressPrinter(metric: metric, terminal: FileHandleStream.standardError.isTerminal)
        trainer.progress = { printer.show($0) }
        let result = trainer.run()
        printer.finish()

        let training = TrainingMetadata(data: dataFacts, options: options, devMetric: metric, result: result,
                                        streamtag: streamtagVersion, column: column.rawValue)
        var bundle = result.bundle
        bundle.created = ISO8601DateFormatter().string(from: Date())
        bundle.training = try training.json()
        do {
            try ModelFile.write(bundle, to: out, dtype: dtype)
        } catch {
            throw ValidationError("cannot write \(out): \(error.message)")
        }
        let summary = result.devScores.enumerated().map { String(format: "k=%d %.2f", $0, $1 * 100) }.joined(separator: ", ")
        printError("wrote \(out): best epoch \(result.bestEpoch) of \(result.epochsRun), dev \(metric) \(summary), "
                   + String(format: "%.0f s, %.0f tokens/s", result.seconds, result.tokensPerSecond))
    }
}

/// `upos` / `xpos` on the command line.
enum CoNLLUColumnName: String, ExpressibleByArgument, CaseIterable {
    case upos, xpos
    var column: CoNLLUColumn { self == .upos ? .upos : .xpos }
}

extension CorpusFormat: ExpressibleByArgument {}
extension CellKindName: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}
extension EpochSelection: ExpressibleByArgument {}
extension TensorDType: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}

/// Reads a corpus, turning reader errors into a clean command-line failure (FILE:LINE: message).
func readCorpus(_ path: String, format: CorpusFormat?, options: CorpusReadOptions) throws -> Corpus {
    do {
        return try Corpus.read(path: path, format: format, options: options)
    } catch {
        throw ValidationError(error.description)
    }
}

/// Name, SHA-256 and size of a data file, for the model's training metadata.
private func fileFacts(_ path: String, corpus: Corpus, role: String) throws -> TrainingMetadata.DataFile {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    return TrainingMetadata.DataFile(role: role, file: (path as NSString).lastPathComponent, sha256: ModelFile.sha256Hex(bytes),
                                     sentences: corpus.sentences.count, tokens: corpus.tokenCount)
}
