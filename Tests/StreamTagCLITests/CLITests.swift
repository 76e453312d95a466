import Foundation
import StreamTagTestSupport
import Testing

/// The command line end to end: a real binary, real files.
@Suite(.serialized) struct CLITests {
    @Test func trainEvalTagRoundTrip() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try toyCoNLLU(sentences: 60, seed: 1).write(toFile: dir + "/train.conllu", atomically: true, encoding: .utf8)
        let dev = toyCoNLLU(sentences: 15, seed: 2)
        try dev.write(toFile: dir + "/dev.conllu", atomically: true, encoding: .utf8)
        let model = dir + "/toy.safetensors"
        let train = try CLI.run(["train", "--train", dir + "/train.conllu", "--dev", dir + "/dev.conllu", "--out", model,
                                 "--name", "toy", "--embedding-dim", "8", "--hidden-dim", "16", "--lookahead", "1",
                                 "--epochs", "12", "--batch-size", "4", "--chunk-length", "8", "--learning-rate", "0.01",
                                 "--warmup", "5", "--min-count", "1", "--feature", "suffix2:64", "shape:16"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("wrote \(model)"))

        let eval = try CLI.run(["eval", "--model", model, "--data", dir + "/dev.conllu", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let scores = report["lookahead"] as! [[String: Any]]
        #expect(scores.count == 2)
        let final = scores[1]["accuracy"] as! Double
        #expect(final > 0.9, "a toy grammar should be learnt: \(final)")
        #expect((report["model"] as! String).hasPrefix("toy@"))
        #expect(report["ensemble"] == nil)

        // An ensemble of the model with itself scores as the model does, at every lookahead.
        let twice = try CLI.run(["eval", "--model", model, "--data", dir + "/dev.conllu", "--json", "--no-continuous",
                                 "--ensemble", model])
        #expect(twice.status == 0, "\(twice.stderr)")
        let twiceReport = try JSONSerialization.jsonObject(with: Data(twice.stdout.utf8)) as! [String: Any]
        let ensemble = try #require(twiceReport["ensemble"] as? [[String: Any]])
        #expect(ensemble.map { $0["accuracy"] as! Double } == scores.map { $0["accuracy"] as! Double })
        #expect((twiceReport["ensemble_models"] as? [String])?.count == 2)
        let missing = try CLI.run(["eval", "--model", model, "--data", dir + "/dev.conllu", "--ensemble", dir + "/none.safetensors"])
        #expect(missing.status != 0 && missing.stderr.contains("none.safetensors"), "\(missing.stderr)")

        // CoNLL-U in, CoNLL-U out: every byte kept but the UPOS column.
        let tagged = try CLI.run(["tag", "--model", model, dir + "/dev.conllu"])
        #expect(tagged.status == 0, "\(tagged.stderr)")
        let inLines = dev.split(separator: "\n", omittingEmptySubsequences: false)
        let outLines = tagged.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(inLines.count == outLines.count)
        for (a, b) in zip(inLines, outLines) {
            let fa = a.split(separator: "\t", omittingEmptySubsequences: false)
            let fb = b.split(separator: "\t", omittingEmptySubsequences: false)
            #expect(fa.count == fb.count)
            if fa.count == 10 {
                #expect(Array(fa[0..<3]) == Array(fb[0..<3]) && Array(fa[4...]) == Array(fb[4...]))
            } else {
                #expect(a == b)
            }
        }

        // Plain text on stdin: token<TAB>tag columns.
        let plain = try CLI.run(["tag", "--model", model], stdin: "the cat sees a dog .\n")
        #expect(plain.status == 0)
        #expect(plain.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["the", "cat", "sees", "a", "dog", "."])
    }

    @Test func emptyInputPrintsNothing() throws {
        let result = try CLI.run(["tag"], stdin: "")
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test func malformedCoNLLUNamesFileAndLine() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.conllu"
        try "1\tthe\tthe\tDET\t_\t_\t0\t_\t_\t_\n2\tcat\tNOUN\n\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try CLI.run(["train", "--train", path, "--out", dir + "/m.safetensors", "--epochs", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(path):2"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.safetensors"))
    }

    @Test func corruptModelIsRefusedWithAReason() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/broken.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let result = try CLI.run(["tag", "--model", path], stdin: "hello world\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("truncated"), "\(result.stderr)")
    }
}
