import Foundation
import StreamTagCore
import StreamTagClient
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` at random moments under load, with restarts on the same ports and state
/// directory (see `FaultBenchCommand`, `DrillCheck`).
struct KillDrill {
    var kills: Int
    var snapshotInterval: Double
    var intervalText: String
    var streams: Int
    var tokensPerMessage: Int
    var rate: Double
    var seed: UInt64
    var words: [String]
    var lookahead: Int

    func run() -> KillDrillResult {
        var result = KillDrillResult(kills: kills, snapshotInterval: snapshotInterval, streams: streams,
                                     tokensPerMessage: tokensPerMessage, rate: rate)
        printError("faults: kill drill, \(kills) kills, snapshot_interval \(intervalText), \(streams) streams, \(Int(rate)) tokens/s")
        let daemon: DaemonProcess
        do {
            daemon = try DaemonProcess(tag: "kill", yaml: "snapshot_interval: \(intervalText)\nmodel:\n  watch: false")
            try daemon.start()
        } catch {
            result.failure = "the daemon did not start: \(error)"
            return result
        }
        defer {
            daemon.kill9()
            daemon.removeFiles()
        }
        do {
            try drive(daemon, &result)
        } catch {
            result.failure = "\(error)"
        }
        return result
    }

    private func drive(_ daemon: DaemonProcess, _ result: inout KillDrillResult) throws {
        let client = try StreamClient(input: daemon.input, output: daemon.output)
        defer { client.close() }
        let driver = try DrillStreams(client: client, prefix: "kill-\(getpid())-", words: words,
                                      tokensPerMessage: tokensPerMessage, lookahead: lookahead)
        driver.allowedEvents = ["duplicate"]
        for _ in 0..<streams { driver.addStream(planned: Int.max / 2, fate: .end) }
        guard try driver.waitForHeartbeat(timeout: 30), try driver.probe(timeout: 30) else {
            throw BenchError("no heartbeat or probe answer from the daemon within 30 s")
        }
        var random = SplitMix64(seed: seed)
        let started = monotonicSeconds()
        for k in 0..<kills {
            // A random moment: somewhere in the first two snapshot intervals of this life,
            // never in the first 0.2 s (the restart's own start-up).
            try load(driver, seconds: 0.2 + random.unit() * 2 * snapshotInterval)
            daemon.kill9()
            try driver.pump(timeout: 0.1)     // answers that were under way
            driver.beginLifetime()            // what comes next is the restarted daemon's
            let restart: Double
            do {
                restart = try daemon.start(timeout: 30)
            } catch {
                result.failure = "restart \(k + 1) failed: \(error)"
                return
            }
            result.restartSeconds.append(restart)
            guard try driver.waitForHeartbeat(timeout: 15) else {
                result.failure = "no heartbeat after restart \(k + 1)"
                return
            }
            guard let restored = daemon.streamPositions(limit: streams + 100) else {
                result.failure = "ctl streams did not answer after restart \(k + 1)"
                return
            }
            let (lost, resent) = driver.rewind(to: restored)
            result.lostAcknowledged.append(lost)
            result.resent.append(resent)
            result.restoredStreams.append(restored.keys.filter { $0 != driver.probeID }.count)
            guard try driver.probe(timeout: 15) else {
                result.failure = "the input connection did not come back after restart \(k + 1)"
                return
            }
            printError(String(format: "  kill %d: restarted in %.2f s, %d streams restored, %d acknowledged tokens lost, %d resent",
                              k + 1, restart, result.restoredStreams.last!, lost, resent))
        }
        try load(driver, seconds: 0.5)
        // The end: every stream's next message is its last; wait for every end.
        driver.endAll()
        _ = try driver.drive(timeout: 60, count: streams, window: 64, pump: 0.02, resendAfter: 3) { driver.openCount == 0 }
        driver.close()
        result.seconds = monotonicSeconds() - started
        result.tokensSent = driver.streams.reduce(0) { $0 + $1.sent } * tokensPerMessage
        result.check = driver.check
        result.exitStatus = daemon.terminate(timeout: 30)
        result.logErrors = daemon.log.split(separator: "\n").filter { $0.contains("error") || $0.contains("critical") }.count
    }

    /// Paced load for `seconds`: `rate` tokens/s round-robin, at most 32 messages unanswered per stream.
    private func load(_ driver: DrillStreams, seconds: Double) throws {
        try driver.load(seconds: seconds, messagesPerSecond: rate / Double(tokensPerMessage), burst: 0.05, window: 32,
                        pump: 0.002, resendAfter: 3)
    }
}

struct KillDrillResult {
    var kills: Int
    var snapshotInterval: Double
    var streams: Int
    var tokensPerMessage: Int
    var rate: Double
    var restartSeconds: [Double] = []
    var lostAcknowledged: [Int] = []
    var resent: [Int] = []
    var restoredStreams: [Int] = []
    var check = DrillCheck()
    var exitStatus: Int32?
    var failure: String?
    var seconds = 0.0
    var tokensSent = 0
    var logErrors = 0

    var passed: Bool { failure == nil && restartSeconds.count == kills && check.isClean && exitStatus == 0 }

    func printSummary() {
        let lost = lostAcknowledged.map(Double.init)
        print(String(format: "kill drill: %d/%d restarts (median %.2f s, max %.2f s), snapshot_interval %@, %.0f tokens/s offered",
                     restartSeconds.count, kills, median(restartSeconds), restartSeconds.max() ?? 0, wholeOrDecimalText(snapshotInterval), rate))
        print(String(format: "  acknowledged tokens lost per kill: median %.0f, mean %.0f, max %.0f (= %.2f s of input on average; a snapshot every %@ s)",
                     median(lost), lost.isEmpty ? 0 : lost.reduce(0, +) / Double(lost.count), lost.max() ?? 0,
                     lost.isEmpty ? 0 : lost.reduce(0, +) / Double(lost.count) / rate, wholeOrDecimalText(snapshotInterval)))
        print("  answers: \(check.summary); redelivered \(check.redelivered) positions with the same tag; final stop exit \(exitStatus.map(String.init) ?? "none")")
        if let failure { print("  FAILED: \(failure)") }
    }
}

extension KillDrillResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case kills, restarts, snapshotInterval = "snapshot_interval_s", streams, tokensPerMessage = "tokens_per_message"
        case rate = "rate_tokens_per_s", seconds, tokensSent = "tokens_sent", restartSeconds = "restart_s"
        case lostAcknowledged = "lost_acknowledged_tokens_per_kill", lostSeconds = "lost_seconds_of_input_per_kill"
        case resent = "resent_tokens_per_kill", restoredStreams = "restored_streams", check
        case exitStatus = "final_exit_status", passed, failure
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kills, forKey: .kills)
        try container.encode(restartSeconds.count, forKey: .restarts)
        try container.encode(snapshotInterval, forKey: .snapshotInterval)
        try container.encode(streams, forKey: .streams)
        try container.encode(tokensPerMessage, forKey: .tokensPerMessage)
        try container.encode(rate, forKey: .rate)
        try container.encode(round3(seconds), forKey: .seconds)
        try container.encode(tokensSent, forKey: .tokensSent)
        try container.encode(ValueSummary(restartSeconds), forKey: .restartSeconds)
        try container.encode(ValueSummary(lostAcknowledged.map(Double.init)), forKey: .lostAcknowledged)
        try container.encode(ValueSummary(lostAcknowledged.map { Double($0) / rate }), forKey: .lostSeconds)
        try container.encode(ValueSummary(resent.map(Double.init)), forKey: .resent)
        try container.encode(ValueSummary(restoredStreams.map(Double.init)), forKey: .restoredStreams)
        try container.encode(check, forKey: .check)
        // -1: no exit status (the drill stopped early, or the daemon was killed after the timeout).
        try container.encode(exitStatus.map { Int($0) } ?? -1, forKey: .exitStatus)
        try container.encode(passed, forKey: .passed)
        try container.encodeIfPresent(failure, forKey: .failure)
    }
}
