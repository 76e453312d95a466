import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore

/// One test per way a file can be wrong: each starts from a valid file of `sampleBundle()` and
/// breaks exactly one thing, then checks the error's code and that its message names the problem.
@Suite struct ModelFileValidationTests {
    let valid = ModelFile.encode(sampleBundle())

    @Test func theBaselineIsValid() throws {
        #expect(try ModelFile.decode(valid) == sampleBundle())
    }

    // MARK: safetensors structure

    @Test(arguments: 0..<8) func shorterThanEightBytes(length: Int) {
        expectFailure(Array(valid.prefix(length)), .truncated, "\(length) bytes", "8-byte")
    }

    @Test func headerLengthPastTheEnd() {
        var bytes = valid
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        expectFailure(bytes, .truncated, "header length \(bytes.count)", "past the end")
        withUnsafeBytes(of: UInt64.max.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        expectFailure(bytes, .truncated, "\(UInt64.max)")
    }

    @Test func fileCutInsideTheData() {
        expectFailure(Array(valid.dropLast(4)), .badOffsets, "past the data section")
    }

    @Test func headerNotJSON() {
        let (header, data) = parts(valid)
        expectFailure(assemble(header: String(header.dropLast(5)), data: data), .badJSON, "not valid JSON")
        expectFailure(assemble(header: #"{"a": tru}"#, data: []), .badJSON, "expected true, false or null")
        expectFailure(assemble(header: #"{"a": 1, "a": 2}"#, data: []), .badJSON, "duplicate key \"a\"")
        expectFailure(assemble(header: "{\"a\": \"\\ud800\"}", data: []), .badJSON, "lone surrogate")
        expectFailure(assemble(header: String(repeating: "[", count: 10_000), data: []), .badHeader)
        expectFailure([7, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], .badJSON, "UTF-8")
    }

    @Test func deepNestingIsRefusedNotACrash() {
        expectFailure(assemble(header: "{\"a\":" + String(repeating: "[", count: 100_000), data: []), .badJSON, "nesting")
    }

    @Test func headerNotAnObject() {
        expectFailure(assemble(header: "[1, 2]", data: []), .badHeader, "'{'")
        expectFailure(assemble(header: "", data: []), .badHeader)
    }

    @Test func tensorEntryOfTheWrongForm() {
        expectFailure(editHeader(valid) { $0["head.bias"] = "F32" }, .badHeader, "head.bias", "expected an object")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["dtype"] = nil; h["head.bias"] = e
        }, .badHeader, "head.bias", "dtype")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["shape"] = 3; h["head.bias"] = e
        }, .badHeader, "head.bias", "shape")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["data_offsets"] = [0, 1, 2]; h["head.bias"] = e
        }, .badHeader, "head.bias", "data_offsets")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["stride"] = [1]; h["head.bias"] = e
        }, .badHeader, "head.bias", "\"stride\"")
    }

    @Test func unknownDType() {
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["dtype"] = "F99"; h["head.bias"] = e
        }, .badDType, "head.bias", "F99")
    }

    @Test func knownButUnsupportedDType() {
        // I32 has F32's size, so the file is a valid safetensors file: the model layer refuses it.
        expectFailure(file { $0[0].dtype = "I32" }, .badDType, "embedding.weight", "I32")
    }

    @Test func shapeDisagreesWithByteLength() {
        expectFailure(file { $0[0].shape = [5, 5] }, .badShape, "embedding.weight", "[5, 5]", "100 bytes", "80")
    }

    @Test func negativeOrNonIntegerDims() {
        expectFailure(file { $0[0].shape = [-5, -4] }, .badShape, "embedding.weight", "-5", "non-negative integers")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["shape"] = [2.5]; h["head.bias"] = e
        }, .badShape, "head.bias", "2.5")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["shape"] = ["3"]; h["head.bias"] = e
        }, .badShape, "head.bias", "a string")
    }

    @Test func hugeDimsDoNotOverflow() {
        let (header, data) = parts(valid)
        let huge = header.replacingOccurrences(of: #""shape":[3]"#, with: #""shape":[4611686018427387904,4611686018427387904]"#)
        expectFailure(assemble(header: huge, data: data), .badShape, "too many")
        let enormous = header.replacingOccurrences(of: #""shape":[3]"#, with: #""shape":[1e400]"#)
        expectFailure(assemble(header: enormous, data: data), .badShape, "a number too large for a dimension")
        let long = header.replacingOccurrences(of: #""shape":[3]"#, with: #""shape":[99999999999999999999999]"#)
        expectFailure(assemble(header: long, data: data), .badShape)
    }

    @Test func offsetsOutOfRange() {
        let length = parts(valid).data.count
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["data_offsets"] = [length, length + 12]; h["head.bias"] = e
        }, .badOffsets, "head.bias", "past the data section")
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]; e["data_offsets"] = [-12, 0]; h["head.bias"] = e
        }, .badOffsets, "head.bias", "non-negative")
        let (header, data) = parts(valid)
        let huge = header.replacingOccurrences(of: #""data_offsets":[0,"#, with: #""data_offsets":[18446744073709551616,"#)
        expectFailure(assemble(header: huge, data: data), .badOffsets, "embedding.weight")
    }

    @Test func offsetsBeginAfterEnd() {
        expectFailure(editHeader(valid) { h in
            var e = h["head.bias"] as! [String: Any]
            let o = e["data_offsets"] as! [Int]
            e["data_offsets"] = [o[1], o[0]]; h["head.bias"] = e
        }, .badOffsets, "head.bias", "begin", "> end")
    }

    @Test func overlappingTensors() {
        // lookahead_heads.0.bias is [3] like head.bias: point it at head.bias's bytes.
        expectFailure(editHeader(valid) { h in
            var e = h["lookahead_heads.0.bias"] as! [String: Any]
            e["data_offsets"] = (h["head.bias"] as! [String: Any])["data_offsets"]
            h["lookahead_heads.0.bias"] = e
        }, .badOffsets, "head.bias", "lookahead_heads.0.bias", "overlap")
    }

    @Test func bytesNotCoveredByAnyTensor() {
        expectFailure(valid + [0, 0, 0, 0], .badOffsets, "not covered")
        // A hole in the middle: shift every later tensor by 4 bytes.
        let bytes = editHeader(valid + [0, 0, 0, 0]) { h in
            for (name, value) in h where name != "__metadata__" && name != "embedding.weight" {
                var e = value as! [String: Any]
                e["data_offsets"] = (e["data_offsets"] as! [Int]).map { $0 + 4 }
                h[name] = e
            }
        }
        expectFailure(bytes, .badOffsets, "bytes 80..<84", "not covered")
    }

    // MARK: tensors against the config

    @Test func missingTensor() {
        expectFailure(file { $0.removeAll { $0.name == "rnn.weight_hh_l1" } }, .missingTensor, "rnn.weight_hh_l1")
        expectFailure(file { $0.removeAll { $0.name.hasPrefix("features.") } }, .missingTensor, "features.0.weight")
    }

    @Test func unexpectedTensor() {
        expectFailure(file { $0.append(SafeTensors.Entry(name: "crf.transitions", dtype: "F32", shape: [1], data: [0, 0, 0, 0])) },
                      .unexpectedTensor, "crf.transitions")
        // A third layer's tensors when the config says two.
        let three = sampleBundle()
        var config = three.config
        config.layers = 3
        let deeper = ModelBundle.random(config: config, vocabulary: three.vocabulary, tags: three.tags)
        expectFailure(file { $0 = entries(of: deeper) }, .unexpectedTensor, "rnn.", "_l2")
    }

    @Test func embeddingRowsDisagreeWithVocab() {
        expectFailure(file { _ in } metadata: { $0["vocab"] = #"["<unk>", "a", "b", "c", "d", "e"]"# },
                      .badShape, "embedding.weight has 5 rows but vocab has 6 words")
    }

    @Test func headRowsDisagreeWithTags() {
        expectFailure(file { _ in } metadata: { $0["tags"] = #"["X", "Y"]"# },
                      .badShape, "head.weight has 3 rows but tags has 2 names")
    }

    @Test func recurrentShapeDisagreesWithConfig() {
        let bundle = sampleBundle()
        var config = bundle.config
        config.cell = .gru
        // Same files, but the config now says GRU: W_ih needs 3·3 rows, the file has 4·3.
        expectFailure(file(bundle) { _ in } metadata: { $0["config"] = ModelFile.configJSON(config) },
                      .badShape, "rnn.weight_ih_l0 has 12 rows", "gru", "9")
        var wider = bundle.config
        wider.embeddingDim = 5
        expectFailure(file(bundle) { _ in } metadata: { $0["config"] = ModelFile.configJSON(wider) },
                      .badShape, "embedding.weight has 4 columns but config.embedding_dim is 5")
    }

    @Test func wrongNumberOfDimensions() {
        expectFailure(file { $0[0].shape = [20] }, .badShape, "embedding.weight", "[20]", "expected [5, 4]")
    }

    // MARK: metadata

    @Test func noMetadata() {
        expectFailure(SafeTensors.encode(entries(of: sampleBundle()), metadata: nil), .badMetadata, "__metadata__")
    }

    @Test func metadataOfTheWrongForm() {
        expectFailure(editHeader(valid) { $0["__metadata__"] = ["format", "streamtag/1"] }, .badMetadata, "__metadata__")
        expectFailure(editHeader(valid) { h in
            var m = h["__metadata__"] as! [String: Any]; m["name"] = 5; h["__metadata__"] = m
        }, .badMetadata, "name")
    }

    @Test func wrongFormat() {
        expectFailure(file { _ in } metadata: { $0["format"] = "streamtag/2" }, .badMetadata, "format", "streamtag/2")
        expectFailure(file { _ in } metadata: { $0["format"] = nil }, .badMetadata, "format")
    }

    @Test(arguments: ["name", "config", "vocab", "tags"]) func missingMetadataKey(key: String) {
        expectFailure(file { _ in } metadata: { $0[key] = nil }, .badMetadata, key)
    }

    @Test func emptyName() {
        expectFailure(file { _ in } metadata: { $0["name"] = "" }, .badMetadata, "name")
    }

    @Test func configNotJSON() {
        expectFailure(file { _ in } metadata: { $0["config"] = "{cell: lstm}" }, .badConfig, "config", "not valid JSON")
    }

    @Test func configNotAnObject() {
        expectFailure(file { _ in } metadata: { $0["config"] = "[1]" }, .badConfig, "config", "an array")
    }

    @Test func configOfTheWrongTypes() {
        let good = ModelFile.configJSON(sampleBundle().config)
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"layers\":2", with: "\"layers\":\"two\"") },
                      .badConfig, "layers")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"hidden_dim\":3,", with: "") },
                      .badConfig, "hidden_dim")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"lstm\"", with: "\"transformer\"") },
                      .badConfig, "cell")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"layers\":2", with: "\"layers\":1e30") },
                      .badConfig, "layers")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"features\":[", with: "\"features\":[7,") },
                      .badConfig, "features[0]")
    }

    @Test func configFailsValidation() {
        let good = ModelFile.configJSON(sampleBundle().config)
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"hidden_dim\":3", with: "\"hidden_dim\":0") },
                      .badConfig, "hidden_dim")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"layers\":2", with: "\"layers\":-1") },
                      .badConfig, "layers")
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"buckets\":7", with: "\"buckets\":0") },
                      .badConfig, "features[0]", "buckets")
    }

    @Test func unsupportedFeature() {
        let good = ModelFile.configJSON(sampleBundle().config)
        expectFailure(file { _ in } metadata: { $0["config"] = good.replacingOccurrences(of: "\"suffix\"", with: "\"char_cnn\"") },
                      .unsupportedFeature, "char_cnn")
    }

    @Test func vocabOrTagsNotJSONOfTheRightType() {
        expectFailure(file { _ in } metadata: { $0["vocab"] = "<unk> a b c d" }, .badMetadata, "vocab", "not valid JSON")
        expectFailure(file { _ in } metadata: { $0["vocab"] = #"{"<unk>": 0}"# }, .badMetadata, "vocab", "an object")
        expectFailure(file { _ in } metadata: { $0["vocab"] = #"["<unk>", 1, 2, 3, 4]"# }, .badMetadata, "vocab[1]", "a number")
        expectFailure(file { _ in } metadata: { $0["tags"] = #""X Y Z""# }, .badMetadata, "tags", "a string")
        expectFailure(file { _ in } metadata: { $0["tags"] = #"["X", null, "Z"]"# }, .badMetadata, "tags[1]", "null")
    }

    @Test func emptyVocabOrTags() {
        expectFailure(file { _ in } metadata: { $0["vocab"] = "[]" }, .badMetadata, "vocab is empty")
        expectFailure(file { _ in } metadata: { $0["tags"] = "[]" }, .badMetadata, "tags is empty")
    }

    @Test func duplicateTags() {
        expectFailure(file { _ in } metadata: { $0["tags"] = #"["X", "Y", "X"]"# }, .badMetadata, "tags", "duplicates")
    }

    @Test func trainingNotAJSONObject() {
        expectFailure(file { _ in } metadata: { $0["training"] = "epochs=3" }, .badMetadata, "training")
    }

    // MARK: values

    @Test func nonFiniteValues() {
        var bundle = sampleBundle()
        bundle.weights.layers[1].hiddenBias[2] = .nan
        expectFailure(ModelFile.encode(bundle), .badValues, "rnn.bias_hh_l1", "index 2")
        bundle = sampleBundle()
        bundle.weights.embedding[5] = -.infinity
        expectFailure(ModelFile.encode(bundle), .badValues, "embedding.weight")
        // F16 overflows to infinity: a value too large for the requested dtype is caught on load.
        bundle = sampleBundle()
        bundle.weights.head.bias[0] = 1e6
        expectFailure(ModelFile.encode(bundle, dtype: .f16), .badValues, "head.bias")
    }

    @Test func readPrefixesThePath() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.safetensors"
        try AtomicFile.write(file { _ in } metadata: { $0["format"] = "x" }, to: path)
        #expect(throws: ModelError(.badMetadata, "\(path): format is \"x\", expected \"streamtag/1\"")) {
            try ModelFile.read(path: path)
        }
    }
}
