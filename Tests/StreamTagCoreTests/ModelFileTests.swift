import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore

// Shared helpers for the ModelFile*Tests files, then the round-trip tests.

/// A small model that has every kind of tensor: two layers, a feature table, lookahead heads.
func sampleBundle(cell: CellKind = .lstm, seed: UInt64 = 7) -> ModelBundle {
    let config = ModelConfig(cell: cell, layers: 2, embeddingDim: 4, hiddenDim: 3, lookahead: 1,
                             features: [FeatureSpec(.suffix, length: 3, buckets: 7)])
    var bundle = ModelBundle.random(name: "sample", config: config, vocabulary: ["<unk>", "a", "b", "c", "d"],
                                    tags: ["X", "Y", "Z"], seed: seed)
    bundle.created = "2025-01-02T03:04:05Z"
    bundle.training = #"{"epochs": 3, "seed": 1}"#
    return bundle
}

/// The smallest useful model, for tests that try every byte of a file.
func tinyBundle() -> ModelBundle {
    ModelBundle.random(name: "tiny", config: ModelConfig(cell: .rnnTanh, embeddingDim: 2, hiddenDim: 2),
                       vocabulary: ["<unk>", "x"], tags: ["A", "B"])
}

/// The tensors of a bundle as safetensors entries (F32), in file order.
func entries(of bundle: ModelBundle) -> [SafeTensors.Entry] {
    let shapes = Dictionary(uniqueKeysWithValues: bundle.layout.shapes.map { ($0.name, $0.shape) })
    return bundle.weights.namedTensors(config: bundle.config).map {
        SafeTensors.Entry(name: $0.name, dtype: "F32", shape: shapes[$0.name] ?? [], data: TensorDType.f32.encode($0.values))
    }
}

/// A file built from entries and metadata, optionally edited first.
func file(_ bundle: ModelBundle = sampleBundle(), entries edit: (inout [SafeTensors.Entry]) -> Void = { _ in },
          metadata editMetadata: (inout [String: String]) -> Void = { _ in }) -> [UInt8] {
    var list = entries(of: bundle)
    edit(&list)
    var metadata = ModelFile.metadata(of: bundle)
    editMetadata(&metadata)
    return SafeTensors.encode(list, metadata: metadata)
}

/// Splits a file into header text and data section.
func parts(_ bytes: [UInt8]) -> (header: String, data: [UInt8]) {
    let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    return (String(decoding: bytes[8..<(8 + n)], as: UTF8.self), Array(bytes[(8 + n)...]))
}

/// A file with the given header text (unpadded) and data section.
func assemble(header: String, data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + data
}

/// Re-serialises the header after editing it as a JSON object (tensor entries and metadata).
func editHeader(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) -> [UInt8] {
    let (header, data) = parts(bytes)
    var object = (try? JSONSerialization.jsonObject(with: Data(header.utf8))) as? [String: Any] ?? [:]
    edit(&object)
    let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return assemble(header: String(decoding: json, as: UTF8.self), data: data)
}

/// Runs decode and returns its error (nil if it succeeded).
func decodeError(_ bytes: [UInt8]) -> ModelError? {
    do { _ = try ModelFile.decode(bytes); return nil } catch { return error }
}

/// Expects decode to fail with `code` and a message containing every one of `words`.
func expectFailure(_ bytes: [UInt8], _ code: ModelError.Code, _ words: String...,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = decodeError(bytes) else {
        Issue.record("decoded, expected \(code.rawValue)", sourceLocation: sourceLocation)
        return
    }
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    for word in words {
        #expect(error.message.contains(word), "message \"\(error.message)\" lacks \"\(word)\"", sourceLocation: sourceLocation)
    }
}


@Suite struct ModelFileRoundTripTests {
    @Test(arguments: CellKind.allCases) func f32RoundTripIsExact(cell: CellKind) throws {
        let bundle = sampleBundle(cell: cell)
        let decoded = try ModelFile.decode(ModelFile.encode(bundle))
        #expect(decoded == bundle)
    }

    @Test func lexiconRoundTrips() throws {
        // A lexicon feature with its lexicon.
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 4, hiddenDim: 5, lookahead: 1,
                                 features: [FeatureSpec(.suffix, length: 2, buckets: 9), FeatureSpec(.lexicon, buckets: 16)])
        let lexicon = Lexicon(entries: ["dog": Lexicon.noun | Lexicon.verb, "big": Lexicon.adjective, "a\"b": 0])
        let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "dog"], tags: ["A", "B"], lexicon: lexicon)
        let bytes = ModelFile.encode(bundle)
        #expect(try ModelFile.decode(bytes) == bundle)
        // Without its lexicon the model is refused, and so is a lexicon without the feature.
        var missing = bundle
        missing.lexicon = nil
        #expect(throws: ModelError.self) { try missing.validate() }
        var tooBig = bundle
        tooBig.lexicon = Lexicon(entries: ["boston": Lexicon.name])   // 16 buckets hold no name bit
        #expect(throws: ModelError.self) { try tooBig.validate() }
        var stray = sampleBundle()
        stray.lexicon = lexicon
        #expect(throws: ModelError.self) { try stray.validate() }
    }

    @Test func ngramFeatureRoundTripsWithItsLength() throws {
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 4, hiddenDim: 5, lookahead: 1,
                                 features: [FeatureSpec(.ngram, length: 3, buckets: 11), FeatureSpec(.shape, buckets: 5)])
        let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "dog"], tags: ["A", "B"])
        let bytes = ModelFile.encode(bundle)
        #expect(parts(bytes).header.contains(#"{\"buckets\":11,\"kind\":\"ngram\",\"length\":3}"#)
                || parts(bytes).header.contains(#"\"kind\":\"ngram\""#))
        #expect(try ModelFile.decode(bytes) == bundle)
        var bad = config
        bad.features[0].length = 9
        #expect(throws: ModelError.self) { try bad.validate() }
        bad.features[0].length = 0
        #expect(throws: ModelError.self) { try bad.validate() }
        // A token's code holds 32 bucket slots: two bags fit, three do not.
        var bags = config
        bags.features = Array(repeating: FeatureSpec(.ngram, length: 3, buckets: 11), count: 2)
        try bags.validate()
        bags.features.append(FeatureSpec(.ngram, length: 4, buckets: 11))
        do {
            try bags.validate()
            Issue.record("48 slots accepted")
        } catch {
            #expect(error.code == .unsupportedFeature && error.message.contains("48 bucket slots"), "\(error)")
        }
    }

    @Test func optionalMetadataMayBeAbsent() throws {
        var bundle = sampleBundle()
        bundle.created = nil
        bundle.training = nil
        let bytes = ModelFile.encode(bundle)
        #expect(try ModelFile.decode(bytes) == bundle)
        #expect(!parts(bytes).header.contains("created"))
    }

    @Test(arguments: [(TensorDType.f16, Float(1) / 2048), (TensorDType.bf16, Float(1) / 256)])
    func halfPrecisionRoundTrip(dtype: TensorDType, relative: Float) throws {
        let bundle = sampleBundle()
        let bytes = ModelFile.encode(bundle, dtype: dtype)
        #expect(parts(bytes).header.contains("\"dtype\":\"\(dtype.rawValue)\""))
        #expect(bytes.count < ModelFile.encode(bundle).count)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded.config == bundle.config && decoded.vocabulary == bundle.vocabulary && decoded.tags == bundle.tags)
        let original = bundle.weights.namedTensors(config: bundle.config)
        let loaded = decoded.weights.namedTensors(config: decoded.config)
        for (a, b) in zip(original, loaded) {
            #expect(a.name == b.name)
            for (x, y) in zip(a.values, b.values) {
                // Round to nearest: half an ulp, relative; F16 subnormals below 2^-14 lose more.
                #expect(abs(x - y) <= max(abs(x) * relative, 1e-7), "\(a.name): \(x) -> \(y)")
            }
        }
    }

    @Test func encodingIsDeterministicSortedAndAligned() throws {
        let bundle = sampleBundle()
        let bytes = ModelFile.encode(bundle)
        #expect(bytes == ModelFile.encode(bundle))
        let (header, _) = parts(bytes)
        #expect((8 + header.utf8.count) % 8 == 0)
        #expect(header.hasPrefix("{\"__metadata__\":{\"config\":"))
        let file = try SafeTensors(parsing: bytes)
        #expect(file.tensors.map(\.name) == bundle.layout.shapes.map(\.name))  // data in layout order
        #expect(file.tensor(named: "rnn.weight_ih_l1")?.shape == [12, 3])
        #expect(file.metadata?["format"] == "streamtag/1")
        #expect(file.metadata?["config"]?.contains("\"embedding_dim\":4") == true)
    }

    @Test func unusualWordsSurviveJSONQuoting() throws {
        var bundle = ModelBundle.random(config: ModelConfig(embeddingDim: 2, hiddenDim: 2),
                                        vocabulary: ["<unk>", "\"", "\\", "a\nb", "\u{1}", "é", "🙂", "/", ""],
                                        tags: ["B-PER", "I-\"x\"", "O"])
        bundle.name = "qu\"o/te"
        #expect(try ModelFile.decode(ModelFile.encode(bundle)) == bundle)
    }

    @Test func readsAFileWithEscapedJSONAsPythonWritesIt() throws {
        // json.dumps escapes non-ASCII as \uXXXX (surrogate pairs above the BMP).
        let bundle = ModelBundle.random(config: ModelConfig(embeddingDim: 2, hiddenDim: 2),
                                        vocabulary: ["<unk>", "é", "🙂"], tags: ["A"])
        let bytes = file(bundle) { _ in } metadata: { $0["vocab"] = #"["<unk>", "\u00e9", "\ud83d\ude42"]"# }
        #expect(try ModelFile.decode(bytes).vocabulary == ["<unk>", "é", "🙂"])
    }

    @Test func unknownConfigKeysAndMetadataKeysAreIgnored() throws {
        let bundle = sampleBundle()
        let bytes = file(bundle) { _ in } metadata: {
            $0["config"] = $0["config"]!.replacingOccurrences(of: "{", with: #"{"dropout": 0.5, "future": {"x": [1]}, "#)
            $0["comment"] = "made by hand"
        }
        #expect(try ModelFile.decode(bytes) == bundle)
    }

    @Test func sha256Hex() {
        #expect(ModelFile.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ModelFile.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func modelIdComesFromTheFileHash() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bundle = sampleBundle()
        let path = dir + "/m.safetensors"
        try ModelFile.write(bundle, to: path)
        let (read, sha) = try ModelFile.read(path: path)
        #expect(read == bundle)
        #expect(sha == ModelFile.sha256Hex(ModelFile.encode(bundle)))
        let model = try Model(path: path)
        #expect(model.id == "sample@" + sha.prefix(12))
        #expect(model.sha256 == sha)
        // A model built in memory hashes its F32 encoding: the same id as its file.
        #expect(try Model(bundle: bundle).id == model.id)
    }
}
