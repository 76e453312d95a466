import Foundation
import Logging
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// The load generator of `bench e2e`: its accounting against a real (in-process) daemon, and
/// its checks against answers that break the rules.
@Suite(.serialized) struct E2ELoadGeneratorTests {
    static let words = ["the", "cat", "sat", "on", "a", "mat", ".", "dog", "ran", "Fast", "2024"]

    /// A daemon on free loopback ports for `body` (no client: the generator brings its own
    /// sockets); stopped after it, its state directory removed.
    static func withDaemon<T>(_ model: Model, _ body: (Daemon) async throws -> T) async throws -> T {
        let config = DaemonHarness.testConfig()
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try await withRunning(try Daemon(config: config, model: model, logger: logger)) { running in
            try await body(running.daemon)
        }
    }

    @Test func everyModeAccountsForEveryMessageAndToken() async throws {
        let model = try testModel(lookahead: 2)
        try await Self.withDaemon(model) { daemon in
            let generator = try LoadGenerator(input: daemon.inputEndpoint, output: daemon.outputEndpoint, words: Self.words, prefix: "t-")
            defer { generator.close() }
            try generator.waitForHeartbeat(timeout: 10)

            let saturated = try generator.run(LoadPhase(streams: 7, tokensPerMessage: 3, mode: .saturated, warmup: 0.05, duration: 0.3, window: 3))
            #expect(saturated.verification.isClean, "\(saturated.verification.nonZero)")
            #expect(saturated.drained)
            // Every message answered, one end per stream, every token tagged (the end released the window).
            #expect(saturated.answers == saturated.messagesSent)
            #expect(saturated.endsReceived == 7)
            #expect(saturated.tagsReceived == saturated.tokensSent)
            #expect(saturated.messagesSent > 7 * 3)
            #expect(saturated.tagsPerSecond > 0 && saturated.latency.count > 0)
            #expect(saturated.latency.p50 <= saturated.latency.p99 && saturated.latency.p99 <= saturated.latency.max)

            // Paced: 2,000 tokens/s of 1-token messages over 5 streams for 0.3 s ≈ 600 messages.
            let paced = try generator.run(LoadPhase(streams: 5, tokensPerMessage: 1, mode: .paced(tokensPerSecond: 2000), warmup: 0.05, duration: 0.3))
            #expect(paced.verification.isClean, "\(paced.verification.nonZero)")
            #expect(paced.tagsReceived == paced.tokensSent)
            #expect(paced.answers == paced.messagesSent && paced.endsReceived == 5)
            #expect(abs(Double(paced.messagesSent - 5) - 2000 * 0.35) < 150, "sent \(paced.messagesSent) messages")
            #expect(paced.skippedSends == 0)

            // Open: the streams stay open; the daemon counts them.
            let open = try generator.run(LoadPhase(streams: 40, tokensPerMessage: 4, mode: .open, endStreams: false))
            #expect(open.verification.isClean, "\(open.verification.nonZero)")
            #expect(open.messagesSent == 40 && open.answers == 40 && open.endsReceived == 0)
            #expect(open.tagsReceived == 40 * 2, "lookahead 2 keeps two of four tokens in the window")
            #expect(daemon.status.streams == 40)
        }
    }

    // MARK: The checks themselves

    /// Books hand-written answers for stream 0 of a 1-stream run that sent messages of
    /// `sent[n]` tokens.
    private func book(_ bodies: [String], sent: [Int], ended: Bool = true) -> LoadVerification {
        var acc = LoadAccounting(streams: 1, window: 8, words: LoadWords(Self.words))
        for tokens in sent { _ = acc.recordSend(stream: 0, tokens: tokens, at: 1) }
        for body in bodies {
            var bytes = Array(body.utf8)
            _ = bytes.withUnsafeMutableBytes { acc.receive(stream: 0, body: UnsafeRawBufferPointer($0), at: 2) }
        }
        acc.finish(ended: ended)
        return acc.verification
    }

    /// The token the generator sends at `position` of stream 0.
    private func token(_ position: Int) -> String {
        let words = LoadWords(Self.words)
        return words.word(words.index(stream: 0, position: position))
    }

    private func tags(_ seq: Int, _ positions: [Int], tokens: [String]? = nil, extra: String = "") -> String {
        let items = positions.enumerated().map { n, i in
            #"{"i":\#(i),"token":"\#(tokens?[n] ?? token(i))","tag":"NOUN","p":0.5}"#
        }
        return #"{"type":"tags","seq":\#(seq),"model":"m@1","tags":[\#(items.joined(separator: ","))]\#(extra)}"#
    }

    private func end(_ tokens: Int) -> String { #"{"type":"event","event":"end","tokens":\#(tokens)}"# }

    @Test func aCleanStreamIsClean() {
        // Two messages of 2 tokens, then the end message (k=2: the last answer releases two).
        let v = book([tags(0, []), tags(1, [0, 1], extra: #","partial":[{"i":2,"token":"x","tag":"N","p":1}]"#), tags(2, [2, 3]), end(4)],
                     sent: [2, 2, 0])
        #expect(v.isClean, "\(v.nonZero)")
    }

    @Test func missingRepeatedAndSkippedAnswersAreCounted() {
        var v = book([tags(0, [0]), tags(0, [])], sent: [1, 1, 1], ended: false)
        #expect(v.repeatedAnswers == 1 && v.missingAnswers == 2 && v.repeatedPositions == 0)
        v = book([tags(0, [0]), tags(2, [1, 2])], sent: [1, 1, 1], ended: false)
        #expect(v.skippedAnswers == 1 && v.missingAnswers == 0 && v.isClean == false)
        v = book([tags(5, [])], sent: [1], ended: false)
        #expect(v.unexpectedAnswers == 1 && v.missingAnswers == 1)
    }

    @Test func positionProblemsAreCounted() {
        var v = book([tags(0, [0, 2])], sent: [3], ended: false)
        #expect(v.skippedPositions == 1)
        v = book([tags(0, [0, 1]), tags(1, [1, 2])], sent: [2, 2], ended: false)
        #expect(v.repeatedPositions == 1)
        v = book([tags(0, [0, 1, 7])], sent: [2], ended: false)
        #expect(v.unexpectedPositions == 1)
        // Ended, but the last token never got its final tag, and the end event counts wrong.
        v = book([tags(0, [0]), tags(1, []), end(1)], sent: [1, 1])
        #expect(v.missingPositions == 1 && v.endCountMismatches == 1)
        v = book([tags(0, [0], tokens: ["zebra"])], sent: [1], ended: false)
        #expect(v.tokenMismatches == 1)
    }

    @Test func endsEventsAndGarbageAreCounted() {
        var v = book([tags(0, [0]), end(1), end(1)], sent: [1])
        #expect(v.repeatedEnds == 1)
        v = book([tags(0, [0])], sent: [1])
        #expect(v.missingEnds == 1)
        v = book([#"{"type":"event","event":"gap","expected":1,"received":3}"#, tags(0, [0]),
                  #"{"type":"event","event":"error","code":"overloaded","message":"full","seq":1}"#],
                 sent: [1], ended: false)
        #expect(v.events == ["gap": 1, "error": 1])
        v = book(["not json", #"{"type":"tags","model":"m","tags":[]}"#, #"{"type":"tags","seq":0,"tags":[{"i":0}]}"#],
                 sent: [1], ended: false)
        #expect(v.unreadable == 3 && v.missingAnswers == 1)
    }

    @Test func latencyPercentilesUseNearestRank() {
        let l = LatencySummary(nanoseconds: (1...1000).map { UInt64($0) * 1000 })
        #expect(l.count == 1000)
        #expect(l.p50 == 500e-6 && l.max == 1000e-6)
        #expect(abs(l.p99 - 990e-6) <= 1.01e-6 && abs(l.p999 - 999e-6) <= 1.01e-6)
        #expect(LatencySummary(nanoseconds: []).count == 0)
    }
}
