import Foundation
import Logging
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
import StreamTagTestSupport
@testable import StreamTagWire

/// Protocol details over real sockets: where a wrong frame count is reported and how it is
/// counted, which errors carry a seq, that `overloaded` is counted, that a bind failure names
/// its key, and the systemd pair around a configuration reload.
@Suite(.serialized) struct ProtocolDetailTests {
    @Test func wrongFrameCountGoesToTheStreamAndIsCountedRight() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1)) { h in
            let body = Array(#"{"seq":1,"tokens":["the"]}"#.utf8)
            try h.client.publishRaw([Array("five".utf8), body, [1], [2], [3]])
            try h.client.publishRaw([Array("one".utf8)])
            try h.client.publishRaw([Array("$bad".utf8), body, [1]])
            let got = try h.collect { $0.filter { $0.event == "error" }.count == 3 }
            let errors = got.filter { $0.event == "error" }
            let five = errors.first { $0.topic == "five" }
            #expect(five?.string("code") == "bad_frames")
            #expect(five?.string("message") == "expected 2 frames (stream id, JSON body), received 5 frames")
            #expect(errors.first { $0.topic == "one" }?.string("message")?.hasSuffix("received 1 frame") == true)
            let sys = errors.first { $0.topic == "$sys" }
            #expect(sys?.string("message")?.hasSuffix("received 3 frames") == true, "an unusable id goes to $sys: \(errors)")
        }
    }

    @Test func errorCarriesSeqOnlyWhenTheSeqWasValid() throws {
        var parser = InputParser()
        func parse(_ body: String) -> WireError? {
            if case .failure(let error) = parser.parse(frames: [Array("s".utf8), Array(body.utf8)]) { return error }
            return nil
        }
        let hex = parse(#"{"seq":0x1,"tokens":["a"]}"#)
        #expect(hex?.code == .badJSON)
        #expect(hex?.seq == nil, "0x1 is no seq 0")
        #expect(parse(#"{"seq":5x,"tokens":["a"]}"#)?.seq == nil)
        #expect(parse(#"{"seq":5 6,"tokens":["a"]}"#)?.seq == 5, "a complete number followed by junk is still the seq")
        #expect(parse(#"{"seq":7,"tokens":[1 2]}"#)?.seq == 7, "a valid seq before the problem is carried")
        #expect(parse(#"{"seq":8 }x"#)?.seq == 8)
        #expect(!String(decoding: OutputEncoder.encoded(hex!.event), as: UTF8.self).contains(#""seq""#))
    }

    /// Every `overloaded` event is counted in `streamtag_errors_total{code="overloaded"}`,
    /// for a new stream and for one whose queue is full.
    @Test func overloadedEventsAreCounted() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1), configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.streams.maxPendingTokens = 4
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            // Hold the stream's worker so its queue stays full.
            let worker = h.daemon.pool.worker(for: "full")
            #expect(try h.control(["cmd": "debug_stall", "worker": .integer(worker), "seconds": 1.5])["ok"] == .bool(true))
            try h.client.publish(stream: "full", seq: 0, tokens: ["the", "cat", "sat", "on"])
            for seq in 1...10 { try h.client.publish(stream: "full", seq: UInt64(seq), tokens: ["a"]) }
            for seq in 0..<5 { try h.client.publish(stream: "new-\(seq)", seq: 0, tokens: ["a", "b", "c", "d", "e"]) }
            let got = try h.collect { $0.filter { $0.string("code") == "overloaded" }.count == 15 }
            let overloaded = got.filter { $0.string("code") == "overloaded" }.count
            #expect(overloaded == 15)
            let metrics = try Exposition(HTTPTestClient.get(port: port, "/metrics").text)
            #expect(metrics.value("streamtag_errors_total", ["code": "overloaded"]) == Double(overloaded))
        }
    }

    @Test func bindFailureNamesTheKeyAndTheEndpoint() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1)) { first in
            var config = DaemonHarness.testConfig()
            config.output.bind = first.daemon.outputEndpoint
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let second = try Daemon(config: config, model: try testModel(lookahead: 1), logger: logger)
            // The start's error, from `ready()` (had it started, it is stopped again).
            let error = await #expect(throws: (any Error).self) { try await withRunning(second) { _ in } }
            #expect(error.map { "\($0)" } == "output.bind: cannot bind \(first.daemon.outputEndpoint): Address already in use "
                        + "(another process holds it; choose another port with output.bind)")
            try? FileManager.default.removeItem(atPath: config.stateDir)
        }
    }

    /// SIGHUP with the built-in model (no model path) re-reads the configuration: a reload,
    /// so RELOADING=1 and then READY=1.
    @Test func configReloadWithTheBuiltInModelSendsTheReloadPair() async throws {
        let receiver = try NotifyReceiver(abstract: false)
        defer { receiver.close() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await SDNotifyDaemonTests.withDaemon(receiver, model: try testModel(lookahead: 1), stateDir: dir) { running in
            let daemon = running.daemon
            let ready = try #require(receiver.wait(for: "READY", value: "1"))
            let config = daemon.config
            daemon.reloadConfiguration(source: "SIGHUP") { () throws(ConfigError) in config }
            let reloading = try #require(receiver.wait(for: "RELOADING", value: "1", after: ready.time))
            #expect(reloading.fields["MONOTONIC_USEC"] != nil)
            let again = try #require(receiver.wait(for: "READY", value: "1", after: reloading.time))
            #expect(again.fields["STATUS"]?.hasPrefix("serving") == true)
            let sequence = receiver.messages.compactMap { m -> String? in
                m.fields["READY"] != nil ? "READY" : m.fields["RELOADING"] != nil ? "RELOADING" : nil
            }
            #expect(sequence == ["READY", "RELOADING", "READY"])
        }
    }

    /// A body over `input.max_zmq_message_bytes` never reaches the daemon: libzmq closes the
    /// sender's connection. That is counted (`streamtag_input_disconnects_total`), the sender
    /// reconnects, and a body between the two limits is still `too_large`.
    @Test func frameOverTheZeroMQLimitIsCounted() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1), configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.input.maxMessageBytes = 1024
            config.input.maxZMQMessageBytes = 4096
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            func disconnects() throws -> Double? {
                try Exposition(HTTPTestClient.get(port: port, "/metrics").text).value("streamtag_input_disconnects_total")
            }
            #expect(try disconnects() == 0)
            try h.client.publishRaw([Array("huge".utf8), Array(repeating: UInt8(ascii: " "), count: 10_000)])
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, try disconnects() == 0 { pause(0.05) }
            #expect(try disconnects() == 1)
            // The publisher reconnects by itself; a body between the limits is answered.
            var answered = false
            let retry = Date().addingTimeInterval(10)
            while !answered && Date() < retry {
                try h.client.publishRaw([Array("big".utf8), Array(repeating: UInt8(ascii: " "), count: 2000)])
                answered = try h.collect(timeout: 0.3) { $0.contains { $0.topic == "big" } }.contains { $0.string("code") == "too_large" }
            }
            #expect(answered)
        }
    }

    @Test func summaryLinesForConnectionsAndDescriptors() {
        var delta = [Int](repeating: 0, count: EventCount.total)
        delta[EventCount.inputDisconnects] = 2
        delta[EventCount.httpRefused] = 3
        delta[EventCount.httpIdleClosed] = 5
        delta[EventCount.fdExhaustedZMQ] = 4
        delta[EventCount.fdExhaustedHTTP] = 1
        let lines = EventLogSummary.lines(delta: delta, seconds: 10)
        #expect(lines.map(\.message) == [
            "metrics listener closed 8 connections in the last 10 s (idle for metrics.read_timeout 5, over metrics.max_connections 3)",
            "input: 2 producer connections closed in the last 10 s (a producer left, or sent a frame over input.max_zmq_message_bytes, which ZeroMQ drops by closing the connection)",
            "out of file descriptors: 5 connections could not be accepted in the last 10 s (zmq 4, http 1); raise LimitNOFILE or find what holds them",
        ])
        #expect(lines.map(\.level) == [.warning, .info, .error])
    }
}
