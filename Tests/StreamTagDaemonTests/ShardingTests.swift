import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// Scale-out by topic prefix: two daemons, disjoint `input.subscribe` prefixes, one producer
/// publishing to both. Each stream must be handled by exactly one daemon.
@Suite(.serialized) struct ShardingTests {
    @Test func twoShardsSplitTheStreams() throws {
        let model = try testModel(lookahead: 0)
        let a = try DaemonHarness(model: model) { $0.input.subscribe = ["tenant-a/"] }
        defer { a.stop() }
        let b = try DaemonHarness(model: model) { $0.input.subscribe = ["tenant-b/"] }
        defer { b.stop() }
        // One producer connected to both inputs; each daemon's SUB filters at the producer.
        let producer = try StreamClient(input: a.daemon.inputEndpoint, output: a.daemon.outputEndpoint)
        defer { producer.close() }
        try producer.connect(input: b.daemon.inputEndpoint, output: b.daemon.outputEndpoint)
        try producer.waitForHeartbeat(timeout: 10)
        Thread.sleep(forTimeInterval: 0.3)      // both input connections and subscriptions settle
        let streams = (0..<40).map { "tenant-\($0 % 2 == 0 ? "a" : "b")/\($0)" }
        for round in 0..<5 {
            for s in streams { try producer.publish(stream: s, seq: UInt64(round), tokens: ["the", "cat"], end: round == 4) }
        }
        let fromA = try a.collect { $0.filter { $0.event == "end" }.count == 20 }
        let fromB = try b.collect { $0.filter { $0.event == "end" }.count == 20 }
        let endedA = Set(fromA.filter { $0.event == "end" }.map(\.topic))
        let endedB = Set(fromB.filter { $0.event == "end" }.map(\.topic))
        #expect(endedA == Set(streams.filter { $0.hasPrefix("tenant-a/") }))
        #expect(endedB == Set(streams.filter { $0.hasPrefix("tenant-b/") }))
        #expect(endedA.isDisjoint(with: endedB))
        // Every message answered once, by its shard only.
        #expect(fromA.filter { $0.type == "tags" }.count == 100)
        #expect(fromB.filter { $0.type == "tags" }.count == 100)
        #expect(try a.control(["cmd": "status"])["tokens_in"] == .integer(200))
        #expect(try b.control(["cmd": "status"])["tokens_in"] == .integer(200))
    }
}
