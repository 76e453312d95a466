import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagDaemon

/// Fault drills against a real daemon child (docs/reliability.md#fault-drills-and-soak): `kill -9` under
/// load with restarts, the state directory full or unwritable, the model path replaced by
/// things that are not model files. Each drill states the behaviour it expects and reports
/// every expectation that failed; the exit status is non-zero when one did.
struct FaultBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Fault drills: kill -9 under load, state directory full or unwritable, bad model paths.",
        discussion: """
        kill       N streams under paced load; the daemon is killed (SIGKILL) at random moments, --kills
                   times per --snapshot-interval, and started again on the same ports and state
                   directory. After each start the client reads where every stream was restored
                   (ctl streams: seq, position, queued tokens, which run again and are answered
                   again, same seq) and sends again from there. Reports restart times and the tokens
                   answered before a kill that the restarted daemon no longer knew (tokens lost per kill).
        state-dir  state_dir on a full tmpfs, remounted read-only while running, read-only from the
                   start, and under a regular file (needs root for the mounts; skipped otherwise).
        model      model.path replaced by a directory, a FIFO, a symlink to /dev/zero, a file of
                   garbage growing while it is read, and a valid model written slowly in place.
        """
    )

    @Flag(name: .long, help: "Print one JSON object on the last line.") var json = false
    @Option(name: .long, help: "Drills to run, comma-separated: kill, state-dir, model.") var drills = "kill,state-dir,model"
    @Option(name: .long, help: "Kills per snapshot interval (kill drill).") var kills = 50
    @Option(name: .long, help: "snapshot_interval values, comma-separated (kill drill), e.g. 1s,5s.") var snapshotInterval = "1s"
    @Option(name: .long, help: "Concurrent streams (kill drill).") var streams = 20
    @Option(name: .long, help: "Tokens per message.") var tokensPerMessage = 4
    @Option(name: .long, help: "Tokens per second offered in total (kill drill).") var rate = 4000.0
    @Option(name: .long, help: "Seed of the kill moments.") var seed: UInt64 = 1
    @Option(name: .long, help: "Model drills to run, comma-separated: directory, fifo, dev-zero, growing-garbage, slow-write.")
    var modelCases = "directory,fifo,dev-zero,growing-garbage,slow-write"
    @Option(name: .long, help: "State directory drills to run, comma-separated: full, read-only-while-running, read-only-at-start, under-a-regular-file.")
    var stateDirCases = "full,read-only-while-running,read-only-at-start,under-a-regular-file"

    func run() throws {
        let names = drills.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let known: Set<String> = ["kill", "state-dir", "model"]
        if let bad = names.first(where: { !known.contains($0) }) {
            throw ValidationError("--drills: unknown drill \(bad) (known: kill, state-dir, model)")
        }
        let model = try BuiltinModel.load()
        let words = drillWords(model)
        var report = Report(model: model.id, cpus: ProcessInfo.processInfo.activeProcessorCount, loadBefore: loadAverage())
        if names.contains("kill") {
            var runs: [KillDrillResult] = []
            for text in snapshotInterval.split(separator: ",") {
                guard let interval = durationSeconds(String(text)), interval > 0 else {
                    throw ValidationError("--snapshot-interval: \(text) is not a positive duration (e.g. 1s, 500ms)")
                }
                let drill = KillDrill(kills: kills, snapshotInterval: interval, intervalText: String(text), streams: streams,
                                      tokensPerMessage: tokensPerMessage, rate: rate, seed: seed, words: words, lookahead: model.k)
                let result = drill.run()
                result.printSummary()
                if !result.passed { report.failed.append("kill@\(text)") }
                runs.append(result)
            }
            report.kill = runs
        }
        if names.contains("state-dir") {
            let cases = stateDirCases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let results = StateDirDrill(words: words, lookahead: model.k).run(cases: cases)
            for r in results { r.printSummary(); if !r.passed && !r.skipped { report.failed.append("state-dir:\(r.name)") } }
            report.stateDirectory = results
        }
        if names.contains("model") {
            let cases = modelCases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let results = ModelPathDrill(words: words, lookahead: model.k).run(cases: cases)
            for r in results { r.printSummary(); if !r.passed && !r.skipped { report.failed.append("model:\(r.name)") } }
            report.modelPath = results
        }
        report.loadAfter = loadAverage()
        print(report.passed ? "faults: every drill passed" : "faults: FAILED \(report.failed.joined(separator: ", "))")
        if json { print(try jsonLine(report)) }
        if !report.passed { throw ExitCode(1) }
    }

    /// The `bench faults --json` object: one entry per drill run (a drill not asked for is
    /// absent), the drills that failed, and the machine's load around them.
    struct Report: Encodable {
        let model: String
        let cpus: Int
        let loadBefore: String
        var loadAfter = ""
        /// One result per `--snapshot-interval`.
        var kill: [KillDrillResult]?
        var stateDirectory: [DrillCase]?
        var modelPath: [DrillCase]?
        /// "kill@1s", "state-dir:full", "model:fifo": the drills with an unmet expectation.
        var failed: [String] = []
        var passed: Bool { failed.isEmpty }

        init(model: String, cpus: Int, loadBefore: String) {
            self.model = model
            self.cpus = cpus
            self.loadBefore = loadBefore
        }

        enum CodingKeys: String, CodingKey {
            case model, cpus, loadBefore = "load_before", loadAfter = "load_after", kill, stateDirectory = "state_dir"
            case modelPath = "model_path", failed, passed
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(model, forKey: .model)
            try container.encode(cpus, forKey: .cpus)
            try container.encode(loadBefore, forKey: .loadBefore)
            try container.encode(loadAfter, forKey: .loadAfter)
            try container.encodeIfPresent(kill, forKey: .kill)
            try container.encodeIfPresent(stateDirectory, forKey: .stateDirectory)
            try container.encodeIfPresent(modelPath, forKey: .modelPath)
            try container.encode(failed, forKey: .failed)
            try container.encode(passed, forKey: .passed)
        }
    }
}

/// Words of the model's vocabulary that need no JSON escaping (the drills compare echoes).
func drillWords(_ model: Model) -> [String] {
    let words = model.vocabulary.words.dropFirst().filter { word in
        !word.isEmpty && word.utf8.count <= 32
            && word.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }
    return Array(words.prefix(2000))
}

/// Kill moments and stream plans come from Core's seeded generator: a seed replays a drill.
extension SplitMix64 {
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}
