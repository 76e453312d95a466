import Glibc
import StreamTagCore

// A model file's bytes (safetensors with streamtag metadata), as hot reload reads them. A file
// that decodes must also build a model that tags a few tokens: decode's checks are meant to
// leave nothing for the model to trap on.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let bundle: ModelBundle
    do {
        bundle = try ModelFile.decode(bytes)
    } catch {
        precondition(!error.message.isEmpty, "a refusal without a message")
        return 0
    }
    let model: Model
    do {
        model = try Model(bundle: bundle)
    } catch {
        preconditionFailure("decoded, but Model refuses it: \(error)")
    }
    var tagger = SequenceTagger(model: model, maxBatch: 2)
    let tags = tagger.tag([["The", "cat", "sat", "."], ["x"]])
    precondition(tags.map(\.count) == [4, 1], "not one tag per token")
    for emission in tags.joined() {
        precondition((0..<Int32(bundle.tags.count)).contains(emission.tag), "tag index \(emission.tag) out of range")
    }
    return 0
}

// Seeds besides the parity fixtures: `STREAMTAG_FUZZ_WRITE_SEEDS=DIR .build/release/FuzzModelFile`
// writes tiny models in the half-precision file types (two layers, lookahead 1) and exits.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    guard let directory = getenv("STREAMTAG_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    let config = ModelConfig(cell: .gru, layers: 2, embeddingDim: 3, hiddenDim: 2, lookahead: 1,
                             features: [FeatureSpec(.shape, buckets: 5)])
    let bundle = ModelBundle.random(name: "seed", config: config, vocabulary: ["<unk>", "the"], tags: ["B-X", "I-X", "O"], seed: 1)
    for dtype in [TensorDType.f16, .bf16] {
        do {
            try ModelFile.write(bundle, to: "\(directory)/tiny-\(dtype.rawValue.lowercased())", dtype: dtype)
        } catch {
            fatalError("cannot write the seed: \(error)")
        }
    }
    _exit(0)  // not exit: LeakSanitizer would report the process's live globals
}
