import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire

/// `/metrics`, `/healthz` and `/readyz` of a running daemon, over real HTTP.
@Suite(.serialized) struct MetricsHTTPTests {
    /// Good and malformed traffic, a gap, a duplicate, an overloaded message, a reset, a drop
    /// and three reloads (loaded, unchanged, rejected); then every metric is checked against
    /// what the client saw.
    @Test func scrapeCountsWhatTheDaemonDid() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try ReloadTests.models()
        let path = dir + "/model.safetensors"
        try ReloadTests.writeModel(a, to: path)
        let served = try Model(path: path)
        try await DaemonHarness.with(model: served, configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.model.path = path
            config.model.watch = false          // reloads only when asked: the outcomes are exact
            config.streams.maxPendingTokens = 64
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            #expect(port > 0)
            #expect(h.daemon.metricsAddress == "127.0.0.1:\(port)")
            let http = try HTTPTestClient(port: port)

            #expect(try http.request("GET", "/readyz").status == 200)
            let health = try http.request("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.text == "ok\n")
            let first = try Exposition(http.request("GET", "/metrics").text)
            #expect(first.value("streamtag_model_info", ["model": served.id]) == 1)
            #expect(first.value("streamtag_tokens_in_total") == 0)
            for code in WireErrorCode.allCases {
                #expect(first.value("streamtag_errors_total", ["code": code.rawValue]) == 0, "\(code) present from the start")
            }

            // Phase 1: good traffic on five streams, seq trouble on one, malformed messages.
            let c = h.client
            var tokensIn = 0, messagesIn = 0, answersExpected = 0, stepped = 0
            for s in 0..<5 {
                for seq in 0..<4 {
                    let n = 1 + (s * 4 + seq) % 5
                    let tokens = (0..<n).map { DaemonTests.words[($0 + s + seq) % DaemonTests.words.count] }
                    try c.publish(stream: "s\(s)", seq: UInt64(seq), tokens: tokens)
                    tokensIn += n; messagesIn += 1; answersExpected += 1; stepped += n
                }
            }
            try c.publish(stream: "g", seq: 1, tokens: ["the"])
            try c.publish(stream: "g", seq: 3, tokens: ["cat"])            // gap
            try c.publish(stream: "g", seq: 3, tokens: ["cat"])            // duplicate
            tokensIn += 3; messagesIn += 3; answersExpected += 2; stepped += 2
            try c.publish(stream: "ov", seq: 0, tokens: Array(repeating: "a", count: 65))   // overloaded (limit 64)
            tokensIn += 65; messagesIn += 1
            try c.publish(stream: "s1", seq: 4, tokens: ["a"], reset: true)                 // reset, reason request
            tokensIn += 1; messagesIn += 1; answersExpected += 1; stepped += 1
            let bad: [(frames: [[UInt8]], code: String)] = [
                ([Array("one-frame".utf8)], "bad_frames"),
                ([Array("x".utf8), Array("{}".utf8), Array("y".utf8)], "bad_frames"),
                ([Array("$evil".utf8), Array(#"{"seq":1}"#.utf8)], "bad_stream_id"),
                ([Array("bj0".utf8), Array("{not json".utf8)], "bad_json"),
                ([Array("bj1".utf8), Array(#"{"seq":1,"x":NaN}"#.utf8)], "bad_json"),
                ([Array("bj2".utf8), Array("[1]".utf8)], "bad_json"),
                ([Array("big".utf8), Array(repeating: UInt8(ascii: " "), count: 100_000)], "too_large"),
                ([Array("bs0".utf8), Array(#"{"seq":1.0}"#.utf8)], "bad_seq"),
                ([Array("bs1".utf8), Array(#"{"seq":"1"}"#.utf8)], "bad_seq"),
                ([Array("bt".utf8), Array(#"{"seq":1,"tokens":[1]}"#.utf8)], "bad_tokens"),
                ([Array("bf".utf8), Array(#"{"seq":1,"end":null}"#.utf8)], "bad_field"),
            ]
            for m in bad { try c.publishRaw(m.frames) }
            var expectedErrors = Dictionary(grouping: bad, by: \.code).mapValues(\.count)
            expectedErrors["overloaded"] = 1
            let errorCount = expectedErrors.values.reduce(0, +)
            var received = try h.collect { all in
                all.filter { $0.type == "tags" }.count == answersExpected && all.filter { $0.event == "error" }.count == errorCount
                    && all.contains { $0.event == "gap" } && all.contains { $0.event == "duplicate" } && all.contains { $0.event == "reset" }
            }
            #expect(received.filter { $0.type == "tags" }.count == answersExpected)
            #expect(received.filter { $0.event == "error" }.count == errorCount)

            // Phase 2: a drop, then reloads: loaded, unchanged, rejected; then s0 answers from b.
            #expect(try h.control(["cmd": "drop", "stream": "s4"])["ok"] == .bool(true))
            received += try h.collect { $0.contains { $0.event == "evicted" } }
            try ReloadTests.writeModel(b, to: path)
            #expect(try h.control(["cmd": "reload"])["changed"] == .bool(true))
            #expect(try h.control(["cmd": "reload"])["changed"] == .bool(false))
            try Data("not a model".utf8).write(to: URL(fileURLWithPath: path))
            #expect(try h.control(["cmd": "reload"])["ok"] == .bool(false))
            try c.publish(stream: "s0", seq: 4, tokens: ["dog"])
            tokensIn += 1; messagesIn += 1; answersExpected += 1; stepped += 1
            received += try h.collect { all in all.contains { $0.topic == "s0" && $0.type == "tags" && $0.string("model") == b.id } }
            // Everything published on stream topics has arrived (s0's answer is the last of them).
            let answers = received.filter { $0.type == "tags" }
            #expect(answers.count == answersExpected)
            let tokensOut = answers.reduce(0) { $0 + $1.finals.count }

            // The I/O thread counts a batch right after sending it, so a subscriber can see the
            // last message a moment before the counters include it: scrape until they do.
            let published = Double(received.filter { $0.topic != "$sys" }.count)
            var response = try http.request("GET", "/metrics")
            for _ in 0..<100 where try Exposition(response.text).value("streamtag_messages_out_total") != published {
                pause(0.01)
                response = try http.request("GET", "/metrics")
            }
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let e = try Exposition(response.text)
            #expect(e.value("streamtag_tokens_in_total") == Double(tokensIn))
            #expect(e.value("streamtag_tokens_out_total") == Double(tokensOut))
            #expect(tokensOut > 0)
            #expect(e.value("streamtag_messages_in_total") == Double(messagesIn))
            #expect(e.value("streamtag_messages_out_total") == published)
            for code in WireErrorCode.allCases {
                #expect(e.value("streamtag_errors_total", ["code": code.rawValue]) == Double(expectedErrors[code.rawValue] ?? 0),
                        "errors \(code.rawValue)")
            }
            #expect(e.value("streamtag_gaps_total") == 1)
            #expect(e.value("streamtag_duplicates_total") == 1)
            #expect(e.value("streamtag_resets_total", ["reason": "request"]) == 1)
            #expect(e.value("streamtag_resets_total", ["reason": "gap"]) == 0)
            #expect(e.value("streamtag_evictions_total", ["reason": "dropped"]) == 1)
            #expect(e.value("streamtag_evictions_total", ["reason": "idle"]) == 0)
            #expect(e.value("streamtag_evictions_total", ["reason": "memory"]) == 0)
            #expect(e.value("streamtag_reloads_total", ["outcome": "loaded"]) == 1)
            #expect(e.value("streamtag_reloads_total", ["outcome": "unchanged"]) == 1)
            #expect(e.value("streamtag_reloads_total", ["outcome": "rejected"]) == 1)
            #expect(e.value("streamtag_output_dropped_total") == 0)
            #expect(e.all("streamtag_model_info").map(\.labels) == [["model": b.id]], "only the serving model")
            #expect(e.value("streamtag_model_info", ["model": b.id]) == 1)
            // s0–s3 and g are open (s4 was dropped, ov never started).
            #expect(e.value("streamtag_streams") == 5)
            #expect(e.value("streamtag_state_bytes") == Double(5 * StateLayout(config: b.config).bytes))
            let steps = try #require(e.value("streamtag_batch_size_count"))
            #expect(steps > 0)
            #expect(e.value("streamtag_step_duration_seconds_count") == steps, "one step, one batch size")
            #expect(try #require(e.value("streamtag_batch_size_sum")) >= Double(stepped), "every token stepped (plus replays)")
            #expect(e.value("streamtag_batch_size_bucket", ["le": "+Inf"]) == steps)
            #expect(e.value("streamtag_token_to_tag_latency_seconds_count") == Double(answersExpected), "one latency per answer")
            #expect(try #require(e.value("streamtag_token_to_tag_latency_seconds_sum")) > 0)
            #expect(try #require(e.value("streamtag_start_time_seconds")) > 1_700_000_000)
            for (name, type) in [("streamtag_messages_in_total", "counter"), ("streamtag_errors_total", "counter"),
                                 ("streamtag_streams", "gauge"), ("streamtag_state_bytes", "gauge"), ("streamtag_model_info", "gauge"),
                                 ("streamtag_batch_size", "histogram"), ("streamtag_step_duration_seconds", "histogram"),
                                 ("streamtag_token_to_tag_latency_seconds", "histogram")] {
                #expect(e.types[name] == type, "\(name) is a \(type)")
                #expect(e.helps[name]?.isEmpty == false, "\(name) has help")
            }
            // A second scrape with nothing new changes no counter.
            let again = try Exposition(http.request("GET", "/metrics").text)
            for s in e.samples where s.name.hasSuffix("_total") {
                #expect(again.value(s.name, s.labels) == s.value, "\(s.name) \(s.labels) stays")
            }

            // Other paths and methods.
            #expect(try http.request("GET", "/nope").status == 404)
            #expect(try http.request("GET", "/").status == 404)
            let post = try http.request("POST", "/metrics")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET")
            #expect(try http.request("DELETE", "/healthz").status == 405)
            #expect(try http.request("GET", "/metrics?name=x").status == 200)
            #expect(try HTTPTestClient.get(port: port, "/readyz").status == 200, "a connection: close request")
        }
    }

    /// `/healthz` fails while the I/O loop is stuck and recovers when it runs again; `/readyz`
    /// fails once a stop is requested; the listener closes with the daemon.
    @Test func healthAndReadiness() async throws {
        try await DaemonHarness.with(model: testModel(lookahead: 0), configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.batching.workers = 2
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            // Idle workers tick once a second, the I/O loop every heartbeat (50 ms here).
            h.daemon.metrics.healthMaxSilenceMilliseconds.store(2000, ordering: .relaxed)
            #expect(try HTTPTestClient.get(port: port, "/healthz").status == 200)

            // Which part has been silent, and for how long, is `HealthCheckTests`' job (exact, with
            // the time given); here, that /healthz says so over HTTP and /readyz does not.
            h.daemon.onIOThread { _ in Thread.sleep(forTimeInterval: 3.5) }
            pause(2.7)
            let ioStuck = try HTTPTestClient.get(port: port, "/healthz")
            #expect(ioStuck.status == 503)
            #expect(ioStuck.text.hasPrefix("unhealthy: the I/O loop last ticked"), "\(ioStuck.text)")
            #expect(try HTTPTestClient.get(port: port, "/readyz").status == 200, "stuck is not unready")
            var recovered = false
            for _ in 0..<80 where !recovered {
                pause(0.1)
                recovered = try HTTPTestClient.get(port: port, "/healthz").status == 200
            }
            #expect(recovered)

            // Stop requested while the I/O loop is held up: not ready any more, still serving.
            h.daemon.onIOThread { _ in Thread.sleep(forTimeInterval: 0.5) }
            pause(0.1)
            h.daemon.stopRequested.store(true, ordering: .releasing)
            let stopping = try HTTPTestClient.get(port: port, "/readyz")
            #expect(stopping.status == 503)
            #expect(stopping.text == "not ready: stopping\n")
            try await h.stop()
            #expect(throws: HTTPTestClient.Failure.self, "the listener closed with the daemon") {
                try HTTPTestClient.get(port: port, "/healthz")
            }
            #expect(h.daemon.metricsPort == nil)
        }
    }

    /// Before `start()` has finished the routes answer 503 (`starting`); the same server
    /// code, over HTTP, with the daemon's metrics object as it is before `start()`.
    @Test func readyzBeforeStartIs503() throws {
        let metrics = DaemonMetrics()
        let server = try MetricsServer(host: "127.0.0.1", port: 0) { [weak metrics] head in
            MetricsRoutes.respond(to: head, metrics: metrics)
        }
        defer { server.shutdown() }
        let ready = try HTTPTestClient.get(port: server.port, "/readyz")
        #expect(ready.status == 503)
        #expect(ready.text == "not ready: starting\n")
        let health = try HTTPTestClient.get(port: server.port, "/healthz")
        #expect(health.status == 503)
        #expect(health.text == "unhealthy: the I/O loop has not started\n")
        // /metrics works without a daemon (all zero).
        let e = try Exposition(HTTPTestClient.get(port: server.port, "/metrics").text)
        #expect(e.value("streamtag_errors_total", ["code": "bad_json"]) == 0)
    }

    @Test func listenerThatCannotBindFailsTheStart() async throws {
        let metrics = DaemonMetrics()
        let taken = try MetricsServer(host: "127.0.0.1", port: 0) { [weak metrics] head in MetricsRoutes.respond(to: head, metrics: metrics) }
        defer { taken.shutdown() }
        let error = await #expect(throws: MetricsListenError.self) {
            try await DaemonHarness.with(model: testModel(lookahead: 0), configure: { $0.metrics.listen = "127.0.0.1:\(taken.port)" }) { _ in }
        }
        #expect(error?.message.hasPrefix("metrics.listen: cannot listen on 127.0.0.1:\(taken.port)") == true, "\(String(describing: error))")
    }

    /// A start that fails after the listener is up (here: the input port is taken) does not
    /// leave the listener behind.
    @Test func failedStartReleasesTheListener() async throws {
        let metrics = DaemonMetrics()
        let taken = try MetricsServer(host: "127.0.0.1", port: 0) { [weak metrics] head in MetricsRoutes.respond(to: head, metrics: metrics) }
        defer { taken.shutdown() }
        let probe = try MetricsServer(host: "127.0.0.1", port: 0) { _ in MetricsResponse(.ok, "") }
        let port = probe.port
        probe.shutdown()
        await #expect(throws: (any Error).self) {
            try await DaemonHarness.with(model: testModel(lookahead: 0), configure: { config in
                config.metrics.listen = "127.0.0.1:\(port)"
                config.input.bind = "tcp://127.0.0.1:\(taken.port)"
            }) { _ in }
        }
        var closed = false
        for _ in 0..<50 where !closed {
            closed = (try? HTTPTestClient.get(port: port, "/readyz")) == nil
            if !closed { pause(0.05) }
        }
        #expect(closed, "port \(port) still answers")
    }
}
