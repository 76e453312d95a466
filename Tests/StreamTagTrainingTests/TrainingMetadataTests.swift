import Foundation
import Testing
import StreamTagCore
@testable import StreamTagTraining

/// The `training` metadata the trainer writes: its keys as earlier versions wrote them (built
/// by hand with JSONSerialization), and readable by the model loader and `streamtag tag`.
@Suite struct TrainingMetadataTests {
    static func metadata(column: String = "xpos") -> TrainingMetadata {
        let bundle = ModelBundle.random(config: ModelConfig(embeddingDim: 2, hiddenDim: 2), vocabulary: ["<unk>"], tags: ["X"])
        let result = TrainingResult(bundle: bundle, bestEpoch: 3, devScores: [0.912345678, 0.95], epochsRun: 5,
                                    tokensPerSecond: 52_700.4, seconds: 12.345)
        var options = TrainingOptions()
        options.threads = 2
        return TrainingMetadata(data: [.init(role: "train", file: "a.conllu", sha256: "ab", sentences: 2, tokens: 9)],
                                options: options, devMetric: "accuracy", result: result, streamtag: "0.1.0", column: column)
    }

    @Test func keysValuesAndRounding() throws {
        let text = try Self.metadata().json()
        #expect(!text.contains(" "), "compact: \(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["data", "options", "dev_metric", "dev_scores", "epochs_run", "best_epoch", "seconds",
                                     "tokens_per_s", "threads", "streamtag", "column"])
        #expect(object["dev_scores"] as? [String: Double] == ["k0": 0.912346, "k1": 0.95])
        #expect(object["seconds"] as? Double == 12.3)
        #expect(object["tokens_per_s"] as? Double == 52_700)
        #expect(object["epochs_run"] as? Int == 5 && object["best_epoch"] as? Int == 3 && object["threads"] as? Int == 2)
        let data = try #require(object["data"] as? [[String: Any]])
        #expect(data.count == 1 && data[0]["file"] as? String == "a.conllu" && data[0]["tokens"] as? Int == 9)
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["embeddingDim"] as? Int == 128, "options keep TrainingOptions' own keys")
        // Sorted keys: `best_epoch` first, `tokens_per_s` last.
        #expect(text.hasPrefix("{\"best_epoch\":3,") && text.hasSuffix("\"tokens_per_s\":52700}"), "\(text)")
        #expect(try JSONDecoder().decode(TrainingMetadata.self, from: Data(text.utf8)) == Self.metadata())
    }

    @Test func modelFileKeepsItAndTagReadsTheColumn() throws {
        var bundle = ModelBundle.random(config: ModelConfig(embeddingDim: 2, hiddenDim: 2), vocabulary: ["<unk>"], tags: ["X"])
        bundle.training = try Self.metadata().json()
        let decoded = try ModelFile.decode(ModelFile.encode(bundle))
        #expect(decoded.training == bundle.training)
        #expect(TrainingMetadata.column(in: try #require(decoded.training)) == "xpos")
        // What earlier versions wrote (JSONSerialization, sorted keys) reads the same way.
        #expect(TrainingMetadata.column(in: #"{"best_epoch":2,"column":"upos","data":[]}"#) == "upos")
        #expect(TrainingMetadata.column(in: #"{"generator":"scripts/make_parity_fixture.py","seed":1}"#) == nil)
        #expect(TrainingMetadata.column(in: "not json") == nil)
    }
}
