import Foundation
import StreamTagTestSupport

/// Runs the `streamtag` binary built next to the test bundle.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String {
        let tests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // swift test runs the .xctest bundle from the products directory (or from inside it).
        for dir in [tests, tests.deletingLastPathComponent(), tests.deletingLastPathComponent().deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("streamtag").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return tests.appendingPathComponent("streamtag").path
    }

    static func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        try runProgram(binary, arguments, stdin: stdin)
    }

    /// Runs `program` (a path) with `arguments` and collects its output.
    static func runProgram(_ program: String, _ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        // stderr goes to a file so that neither pipe can fill up and block the child.
        let errPath = NSTemporaryDirectory() + "streamtag-cli-stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let out = Pipe(), input = Pipe()
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: fileText(errPath))
    }
}

/// The JSON object on the last line of a command's output (`--json`); empty if there is none.
func lastJSON(_ stdout: String) -> [String: Any] {
    let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
    return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}


/// A small learnable CoNLL-U corpus: determiners, nouns, verbs in simple patterns.
func toyCoNLLU(sentences: Int, seed: UInt64) -> String {
    var state = seed
    func next() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(state >> 33)
    }
    let dets = ["the", "a", "this", "every"], nouns = ["cat", "dog", "mat", "house", "idea", "car"]
    let verbs = ["sees", "likes", "finds", "wants"], adjs = ["red", "big", "old"]
    var out = ""
    for s in 0..<sentences {
        out += "# sent_id = \(s + 1)\n"
        var words: [(String, String)] = [(dets[next() % 4], "DET")]
        if next() % 2 == 0 { words.append((adjs[next() % 3], "ADJ")) }
        words.append((nouns[next() % 6], "NOUN"))
        words.append((verbs[next() % 4], "VERB"))
        words.append((dets[next() % 4], "DET"))
        words.append((nouns[next() % 6], "NOUN"))
        words.append((".", "PUNCT"))
        for (i, (w, t)) in words.enumerated() {
            out += "\(i + 1)\t\(w)\t\(w)\t\(t)\t_\t_\t0\t_\t_\t_\n"
        }
        out += "\n"
    }
    return out
}
