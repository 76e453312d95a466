import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagTraining

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Tag a file or standard input offline, through the daemon's incremental code path.",
        discussion: """
        Plain text (one sentence per line, tokens split on spaces and tabs) prints token<TAB>tag \
        lines with a blank line after each sentence; CoNLL-U input is written back unchanged \
        except for the tag column.
        """
    )

    @OptionGroup var model: ModelOptions
    @Argument(help: "Input file (default: standard input).")
    var file: String?
    @Option(name: .customLong("file"), help: "Input file (same as the argument).")
    var fileOption: String?
    @Option(name: .long, help: "Input format: conllu, iob, text (default: detected).")
    var format: CorpusFormat?
    @Option(name: .long, help: "CoNLL-U column to fill (default: the column the model was trained on, else upos).")
    var column: CoNLLUColumnName?
    @Flag(name: .long, help: "Tag the whole input as one stream, without resets at sentence boundaries.")
    var continuous = false
    @Flag(name: .long, help: "Plain text: print token/TAG pairs on the sentence's line instead of columns.")
    var slash = false
    @Flag(name: .long, help: "Columns: add each tag's probability as a third column.")
    var probabilities = false
    @Option(name: .long, help: "Use a smaller lookahead than the model's.")
    var lookahead: Int?

    func run() throws {
        let path = file ?? fileOption
        let bytes: [UInt8]
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            bytes = [UInt8](data)
        } else {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return }
        let model = try model.load()
        let name = path ?? "<stdin>"
        let detected = format ?? Corpus.detectFormat(path: path ?? "", bytes: bytes)
        var out = OutputBuffer()
        do throws(CorpusError) {
            switch detected {
            case .conllu:
                let document = try CoNLLUDocument.parse(bytes: bytes, file: name, column: targetColumn(model), tags: .optional)
                let tags = tag(model: model, document.sentences.map(\.tokens)).map { $0.map(\.tag) }
                out.append(try document.rewrite(replacingTagsWith: tags, column: targetColumn(model)))
            case .plainText:
                let document = try PlainTextDocument.parse(bytes: bytes, file: name)
                let tagged = tag(model: model, document.sentences.map(\.tokens))
                if slash {
                    out.append(try document.slashTagged(tagged.map { $0.map(\.tag) }))
                } else {
                    writeColumns(document.sentences.map(\.tokens), tagged, into: &out)
                }
            case .iob:
                let corpus = try IOBFormat.parse(bytes: bytes, file: name, validatesTags: false)
                let tagged = tag(model: model, corpus.sentences.map(\.tokens))
                writeColumns(corpus.sentences.map(\.tokens), tagged, into: &out)
            }
        } catch {
            throw ValidationError(error.description)
        }
        out.flush()
    }

    /// The model's training column when its metadata names one (xpos models fill column 5).
    private func targetColumn(_ model: Model) -> CoNLLUColumn {
        if let column { return column.column }
        if let training = model.bundle.training, TrainingMetadata.column(in: training) == "xpos" { return .xpos }
        return .upos
    }

    /// Tags sentences; with --continuous as a single stream, cut back into sentences after.
    private func tag(model: Model, _ sentences: [[String]]) -> [[(tag: String, p: Float)]] {
        var tagger = SequenceTagger(model: model, maxBatch: continuous ? 1 : 64, lookahead: lookahead)
        let streams = continuous ? [sentences.flatMap { $0 }] : sentences
        let emissions = tagger.tag(streams).flatMap { $0 }.map { (tag: model.tags[Int($0.tag)], p: $0.p) }
        var out: [[(tag: String, p: Float)]] = []
        var offset = 0
        for s in sentences {
            out.append(Array(emissions[offset..<(offset + s.count)]))
            offset += s.count
        }
        return out
    }

    private func writeColumns(_ tokens: [[String]], _ tagged: [[(tag: String, p: Float)]], into out: inout OutputBuffer) {
        for (sentence, tags) in zip(tokens, tagged) {
            for (token, t) in zip(sentence, tags) {
                out.append(probabilities ? "\(token)\t\(t.tag)\t\(String(format: "%.4f", t.p))\n" : "\(token)\t\(t.tag)\n")
            }
            out.append("\n")
        }
    }
}
