import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// The memory cap and the pending budget with real sockets: a flood of new ids never takes
/// the daemon over the cap, and every message gets an answer or `overloaded`.
@Suite(.serialized) struct DaemonAdmissionTests {
    @Test func floodOfNewIdsStaysUnderTheMemoryCap() async throws {
        let model = try testModel(lookahead: 2)
        let bytes = StateLayout(config: model.config).bytes
        var config = DaemonHarness.testConfig()
        config.streams.maxStateBytes = 40 * bytes                // 20 streams per worker
        try await DaemonHarness.with(config: config, model: model) { h in
            let ids = 3000
            var maxStreams = 0
            for i in 0..<ids {
                try h.client.publish(stream: "flood-\(i)", seq: 1, tokens: ["the"])
                if i % 100 == 0 { maxStreams = max(maxStreams, h.daemon.status.streams) }
            }
            var answered = 0, overloaded = 0
            let deadline = Date().addingTimeInterval(30)
            while answered + overloaded < ids, let m = try h.client.receive(timeout: deadline.timeIntervalSinceNow) {
                if m.type == "tags" { answered += 1 }
                if m.string("code") == "overloaded" { overloaded += 1 }
            }
            #expect(answered + overloaded == ids, "every message answered or refused")
            #expect(answered >= 40, "at least the cap's worth answered")
            #expect(maxStreams <= 40 && h.daemon.status.streams <= 40)
        }
    }
}
