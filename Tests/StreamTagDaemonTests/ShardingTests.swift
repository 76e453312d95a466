import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// Scale-out by topic prefix: two daemons, disjoint `input.subscribe` prefixes, one producer
/// publishing to both. Each stream must be handled by exactly one daemon.
@Suite(.serialized) struct ShardingTests {
    @Test func twoShardsSplitTheStreams() async throws {
        let model = try testModel(lookahead: 0)
        try await DaemonHarness.with(model: model, configure: { $0.input.subscribe = ["tenant-a/"] }) { a in
            try await DaemonHarness.with(model: model, configure: { $0.input.subscribe = ["tenant-b/"] }) { b in
                // One producer connected to both inputs; each daemon's SUB filters at the producer.
                let producer = try StreamClient(input: a.daemon.inputEndpoint, output: a.daemon.outputEndpoint)
                defer { producer.close() }
                try producer.connect(input: b.daemon.inputEndpoint, output: b.daemon.outputEndpoint)
                try producer.waitForHeartbeat(timeout: 10)
                pause(0.3)      // both input connections and subscriptions settle
                // 400 streams, 20 rounds: each round is a burst of one message per stream to both
                // daemons, then both outputs are read (a burst stays below the subscribers' queue of 1,000).
                let streams = (0..<400).map { "tenant-\($0 % 2 == 0 ? "a" : "b")/\($0)" }
                var fromA: [StreamClient.Received] = [], fromB: [StreamClient.Received] = []
                for round in 0..<20 {
                    for s in streams { try producer.publish(stream: s, seq: UInt64(round), tokens: ["the", "cat"], end: round == 19) }
                    // Per daemon and round: 200 answers, and in the last round 200 `end` events too.
                    let complete: ([StreamClient.Received]) -> Bool = { got in
                        got.filter { $0.type == "tags" }.count == 200 && (round < 19 || got.filter { $0.event == "end" }.count == 200)
                    }
                    fromA += try a.collect(until: complete)
                    fromB += try b.collect(until: complete)
                }
                let endedA = Set(fromA.filter { $0.event == "end" }.map(\.topic))
                let endedB = Set(fromB.filter { $0.event == "end" }.map(\.topic))
                #expect(endedA == Set(streams.filter { $0.hasPrefix("tenant-a/") }))
                #expect(endedB == Set(streams.filter { $0.hasPrefix("tenant-b/") }))
                #expect(endedA.isDisjoint(with: endedB))
                // Every message answered once, by its shard only.
                #expect(fromA.filter { $0.type == "tags" }.count == 4000)
                #expect(fromB.filter { $0.type == "tags" }.count == 4000)
                for (got, prefix) in [(fromA, "tenant-a/"), (fromB, "tenant-b/")] {
                    let answers = got.filter { $0.type == "tags" }
                    #expect(answers.allSatisfy { $0.topic.hasPrefix(prefix) }, "only \(prefix) streams")
                    #expect(Set(answers.map { "\($0.topic) \($0.seq ?? -1)" }).count == 4000, "no message answered twice")
                }
                #expect(try a.control(["cmd": "status"])["tokens_in"] == .integer(8000))
                #expect(try b.control(["cmd": "status"])["tokens_in"] == .integer(8000))
            }
        }
    }
}
