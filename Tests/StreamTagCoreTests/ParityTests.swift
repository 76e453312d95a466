import Foundation
import Testing
@testable import StreamTagCore

/// A model with no features, lookahead 0 and lowercase false is exactly
/// embedding → rnn → linear head, and must give PyTorch's scores within 1e-4
/// (`docs/model-format.md#pytorch-parity`).
///
/// The fixtures (Fixtures/parity-CELL.safetensors and .json) were written by
/// scripts/make_parity_fixture.py with torch: the model file by the script itself, the
/// scores by running the torch module. CI has no torch; it only reads the committed files.
@Suite struct ParityTests {
    /// parity-CELL.json as the script writes it.
    struct Fixture: Decodable {
        struct Sequence: Decodable {
            let tokens: [String]
            let ids: [Int32]
            let scores: [[Float]]
        }
        let model: String
        let sha256: String
        let cell: String
        let layers: Int
        let torch: String
        let sequences: [Sequence]
    }

    static let tolerance: Float = 1e-4

    static func fixturePath(_ file: String) throws -> String {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent(file).path
    }

    @Test(arguments: ["lstm", "gru", "rnn_tanh", "rnn_relu"])
    func scoresMatchPyTorch(cell: String) throws {
        let json = try Data(contentsOf: URL(fileURLWithPath: try Self.fixturePath("parity-\(cell).json")))
        let fixture = try JSONDecoder().decode(Fixture.self, from: json)
        let path = try Self.fixturePath(fixture.model)
        let model = try Model(path: path)

        // The file came from Python: its config and names are PyTorch's, its hash the script's.
        #expect(model.config.cell.rawValue == cell)
        #expect(model.config.layers == fixture.layers)
        #expect(model.config.features.isEmpty && model.k == 0 && !model.config.lowercase)
        let bytes = try AtomicFile.read(path: path)
        let sha = ModelFile.sha256Hex(bytes)
        #expect(sha == fixture.sha256)
        #expect(model.id == "parity-\(cell)@" + sha.prefix(12))

        var tagger = StreamTagger(model: model)
        var worst: Float = 0
        for sequence in fixture.sequences {
            #expect(sequence.tokens.count == sequence.scores.count)
            for (t, token) in sequence.tokens.enumerated() {
                #expect(model.encode(token).word == sequence.ids[t], "token \(token)")
                _ = tagger.feed(token)
                let scores = tagger.scores(seeing: 0)
                let expected = sequence.scores[t]
                #expect(scores.count == expected.count)
                for (a, b) in zip(scores, expected) {
                    worst = max(worst, abs(a - b))
                    #expect(abs(a - b) <= Self.tolerance, "\(cell) \(sequence.tokens) position \(t): \(scores) vs torch \(expected)")
                }
            }
            _ = tagger.finish()
        }
        // A coarse guard against fixtures that would pass trivially (all-zero scores).
        #expect(fixture.sequences.flatMap { $0.scores.joined() }.contains { abs($0) > 0.05 })
        print("parity \(cell) (torch \(fixture.torch)): max |Δ| = \(worst)")
    }

    @Test func halfPrecisionCopyStaysClose() throws {
        // Re-encoding the LSTM fixture as BF16 keeps the scores within bfloat16's reach.
        let (bundle, _) = try ModelFile.read(path: try Self.fixturePath("parity-lstm.safetensors"))
        let exact = try Model(bundle: bundle)
        let rounded = try Model(bundle: try ModelFile.decode(ModelFile.encode(bundle, dtype: .bf16)))
        var a = StreamTagger(model: exact), b = StreamTagger(model: rounded)
        for token in ["w3", "w17", "cat", "w1"] {
            _ = a.feed(token)
            _ = b.feed(token)
            for (x, y) in zip(a.scores(seeing: 0), b.scores(seeing: 0)) { #expect(abs(x - y) < 0.05) }
        }
    }
}
