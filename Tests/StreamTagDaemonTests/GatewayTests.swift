import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire
@testable import StreamTagClient

/// The WebSocket gateway over real sockets: a daemon with `websocket.listen` on a free
/// loopback port, driven by `GatewayClient` (and the ZeroMQ harness client, which sees every
/// stream's output too).
@Suite(.serialized) struct GatewayTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A daemon with the gateway on a free port, for `body`; stopped after it.
    static func withHarness<T>(lookahead: Int = 1, configure: (inout DaemonConfig) -> Void = { _ in },
                               _ body: (DaemonHarness) async throws -> T) async throws -> T {
        try await DaemonHarness.with(model: testModel(lookahead: lookahead), configure: { config in
            config.websocket.listen = "127.0.0.1:0"
            configure(&config)
        }, body)
    }

    static func port(_ h: DaemonHarness) -> Int { Int(h.daemon.webSocketAddress!.split(separator: ":").last!)! }

    /// A connected client whose messages queue up for `next`.
    final class Socket: Sendable {
        let client: GatewayClient
        let inbox: Inbox

        final class Inbox: Sendable {
            let messages = Mutex<[JSONValue]>([])
            let closeCode = Mutex<Int??>(nil)
        }

        init(_ h: DaemonHarness, stream: String, headers: [(String, String)] = [], query: String = "", answerPings: Bool = true) throws {
            let inbox = Inbox()
            self.inbox = inbox
            client = try GatewayClient.connect(
                group: GatewayTests.group, host: "127.0.0.1", port: GatewayTests.port(h),
                path: "/v1/streams/\(stream)\(query)", headers: headers, answerPings: answerPings,
                onMessage: { bytes in
                    if case .success(let value) = JSONValue.parse(bytes) { inbox.messages.withLock { $0.append(value) } }
                },
                onClose: { code in inbox.closeCode.withLock { $0 = .some(code) } }).wait()
        }

        /// Waits until `count` messages have arrived (or 10 s) and returns all so far.
        func messages(atLeast count: Int, timeout: Double = 10) -> [JSONValue] {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let all = inbox.messages.withLock { $0 }
                if all.count >= count { return all }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return inbox.messages.withLock { $0 }
        }

        func waitForClose(timeout: Double = 10) -> Int?? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let code = inbox.closeCode.withLock({ $0 }) { return code }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return nil
        }
    }

    static func refusal(_ h: DaemonHarness, stream: String, headers: [(String, String)] = [], query: String = "") -> Int? {
        do {
            _ = try Socket(h, stream: stream, headers: headers, query: query)
            return nil
        } catch let refused as GatewayClient.Refused {
            return refused.status
        } catch {
            Issue.record("not a refusal: \(error)")
            return -1
        }
    }

    @Test func answersAreTheZeroMQOutputAndSeqIsNumbered() async throws {
        try await Self.withHarness { h in
            let ws = try Socket(h, stream: "ws-a")
            ws.client.send(#"{"tokens":["the","cat"]}"#)
            ws.client.send(#"{"tokens":["sat","on"]}"#)
            ws.client.send(#"{"tokens":["a","mat"],"end":true}"#)
            // 3 tags answers and the end event.
            let got = ws.messages(atLeast: 4)
            #expect(got.count == 4)
            let answers = got.filter { $0["type"] == .string("tags") }
            #expect(answers.compactMap { if case .integer(let s)? = $0["seq"] { s } else { nil } } == [0, 1, 2])
            var positions: [Int] = []
            var tokens: [String] = []
            for answer in answers {
                guard case .array(let tags)? = answer["tags"] else { continue }
                for tag in tags {
                    if case .integer(let i)? = tag["i"] { positions.append(i) }
                    if case .string(let t)? = tag["token"] { tokens.append(t) }
                }
            }
            #expect(positions == Array(0..<6))
            #expect(tokens == ["the", "cat", "sat", "on", "a", "mat"])
            #expect(got.last?["event"] == .string("end"))
            // The very same bodies went out on ZeroMQ for the topic, in the same order.
            let zmq = try h.collect { $0.filter { $0.topic == "ws-a" }.count >= 4 }.filter { $0.topic == "ws-a" }
            #expect(zmq.map(\.body) == got)
        }
    }

    @Test func badInputGetsTheZeroMQErrorCodes() async throws {
        try await Self.withHarness(configure: { $0.input.maxMessageBytes = 1024; $0.websocket.maxFrameBytes = 4096 }) { h in
            let ws = try Socket(h, stream: "ws-bad")
            ws.client.send(#"{"seq":-1,"tokens":["x"]}"#)
            ws.client.send("not json")
            ws.client.send(#"{"tokens":"the"}"#)
            ws.client.send(#"{"tokens":["x"],"end":"yes"}"#)
            ws.client.send(#"{"tokens":["\#(String(repeating: "a", count: 1100))","b"]}"#)
            ws.client.send(#"{"tokens":["still","alive"]}"#)
            let got = ws.messages(atLeast: 6)
            let codes = got.compactMap { if case .string(let c)? = $0["code"] { c } else { nil } }
            #expect(codes == ["bad_seq", "bad_json", "bad_tokens", "bad_field", "too_large"])
            #expect(got.last?["type"] == .string("tags"))
            #expect(got.last?["seq"] == .integer(0))      // rejected messages do not consume a seq
            // Above max_frame_bytes: the connection is closed with 1009.
            ws.client.send(String(repeating: " ", count: 5000))
            #expect(ws.waitForClose() == .some(1009))
            let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
            #expect(metrics.contains(#"streamtag_ws_errors_total{code="bad_seq"} 1"#))
            #expect(metrics.contains(#"streamtag_ws_errors_total{code="frame_too_large"} 1"#))
            #expect(metrics.contains("streamtag_ws_frames_in_total 6"))
        }
    }

    @Test func refusalsBeforeTheUpgrade() async throws {
        try await Self.withHarness(configure: { $0.websocket.tokens = ["secret-token-1"]; $0.websocket.maxConnections = 2 }) { h in
            #expect(Self.refusal(h, stream: "s1") == 401)
            #expect(Self.refusal(h, stream: "s1", headers: [("Authorization", "Bearer wrong-token")]) == 401)
            let first = try Socket(h, stream: "s1", headers: [("Authorization", "Bearer secret-token-1")])
            #expect(Self.refusal(h, stream: "s1", query: "?token=secret-token-1") == 409)
            #expect(Self.refusal(h, stream: "%24sys", query: "?token=secret-token-1") == 400)
            let second = try Socket(h, stream: "s2", query: "?token=secret-token-1")
            #expect(Self.refusal(h, stream: "s3", query: "?token=secret-token-1") == 503)
            // The claim goes with the connection.
            first.client.close()
            _ = first.waitForClose()
            var reopened: Socket?
            for _ in 0..<100 where reopened == nil {
                reopened = try? Socket(h, stream: "s1", query: "?token=secret-token-1")
                if reopened == nil { pause(0.02) }
            }
            #expect(reopened != nil)
            second.client.close()
            // Plain HTTP: the page, and 426 for a stream URL without an upgrade.
            let page = try HTTPTestClient.get(port: Self.port(h), "/")
            #expect(page.status == 200)
            #expect(page.text.contains("<title>streamtag live</title>"))
            #expect(try HTTPTestClient.get(port: Self.port(h), "/v1/streams/x?token=secret-token-1").status == 426)
            #expect(try HTTPTestClient.get(port: Self.port(h), "/v1/streams/x").status == 401)
            #expect(try HTTPTestClient.get(port: Self.port(h), "/nothing").status == 404)
        }
    }

    @Test func closingEndsTheStreamOrKeepsIt() async throws {
        try await Self.withHarness { h in
            let ws = try Socket(h, stream: "ws-end")
            ws.client.send(#"{"tokens":["the","cat","sat"]}"#)
            _ = ws.messages(atLeast: 1)
            ws.client.drop()
            let out = try h.collect { $0.contains { $0.topic == "ws-end" && $0.event == "end" } }.filter { $0.topic == "ws-end" }
            #expect(out.last?.event == "end")
            // Every position once: the end releases the window.
            #expect(out.flatMap { $0.finals.map(\.0) } == [0, 1, 2])

            try await Self.withHarness(configure: { $0.websocket.onClose = .keep }) { k in
                let a = try Socket(k, stream: "ws-keep")
                a.client.send(#"{"tokens":["the","cat"]}"#)
                _ = a.messages(atLeast: 1)
                a.client.close()
                _ = a.waitForClose()
                var b: Socket?
                for _ in 0..<100 where b == nil {
                    b = try? Socket(k, stream: "ws-keep")
                    if b == nil { pause(0.02) }
                }
                let second = try #require(b)
                second.client.send(#"{"tokens":["sat"],"end":true}"#)
                let got = second.messages(atLeast: 2)
                // The numbering continued (seq 1: no duplicate), and so did the positions.
                #expect(got.first?["seq"] == .integer(1))
                #expect(got.first?["type"] == .string("tags"))
                #expect(got.last?["event"] == .string("end"))
            }
        }
    }

    /// The gateway's load generator (`streamtag bench gateway`): its checks pass against the
    /// real gateway, and it measures something.
    @Test func loadGeneratorRunsCleanAgainstTheGateway() async throws {
        try await Self.withHarness { h in
            let generator = GatewayLoadGenerator(address: h.daemon.webSocketAddress!, words: DaemonTests.words, prefix: "load-")
            defer { generator.close() }
            // Long enough that answers land in the measured interval on a loaded machine (debug build).
            let saturated = try generator.run(LoadPhase(streams: 8, tokensPerMessage: 4, mode: .saturated, warmup: 0.2, duration: stretched(1.5)))
            #expect(saturated.verification.isClean, "\(saturated.verification.nonZero)")
            #expect(saturated.tagsPerSecond > 0)
            #expect(saturated.tagsReceived == saturated.tokensSent)     // every token tagged once
            #expect(saturated.endsReceived == 8)
            let paced = try generator.run(LoadPhase(streams: 8, tokensPerMessage: 4, mode: .paced(tokensPerSecond: 400), warmup: 0.2, duration: stretched(1.5)))
            #expect(paced.verification.isClean, "\(paced.verification.nonZero)")
            #expect(paced.latency.count > 0)
            #expect(paced.latency.p50 > 0)
        }
    }

    /// The request rules alone: routes, tokens from the header or the query, bad ids.
    @Test func admissionRules() {
        let open = GatewayAdmission(tokens: [])
        let guarded = GatewayAdmission(tokens: ["secret-token-1", "other-token-2"])
        func head(_ uri: String, _ headers: [(String, String)] = [], method: HTTPMethod = .GET) -> HTTPRequestHead {
            HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
        }
        #expect(open.route(head("/")) == .page)
        #expect(open.route(head("/v1/streams/call%2F42")) == .stream("call/42"))
        #expect(open.route(head("/v1/streams/a?x=1")) == .stream("a"))
        guard case .refuse(.badRequest, "bad_stream_id", _) = open.route(head("/v1/streams/")) else { Issue.record("empty id"); return }
        guard case .refuse(.badRequest, "bad_stream_id", _) = open.route(head("/v1/streams/%24sys")) else { Issue.record("$ id"); return }
        guard case .refuse(.notFound, "not_found", _) = open.route(head("/v2/x")) else { Issue.record("404"); return }
        guard case .refuse(.methodNotAllowed, _, _) = open.route(head("/", method: .POST)) else { Issue.record("405"); return }
        guard case .refuse(.unauthorized, "unauthorized", _) = guarded.route(head("/v1/streams/a")) else { Issue.record("401"); return }
        guard case .refuse(.unauthorized, _, _) = guarded.route(head("/v1/streams/a?token=secret-token")) else { Issue.record("prefix"); return }
        #expect(guarded.route(head("/v1/streams/a", [("Authorization", "Bearer other-token-2")])) == .stream("a"))
        #expect(guarded.route(head("/v1/streams/a", [("authorization", "bearer   secret-token-1 ")])) == .stream("a"))
        #expect(guarded.route(head("/v1/streams/a?x=1&token=secret-token-1")) == .stream("a"))
        #expect(guarded.route(head("/")) == .page)      // the page itself holds no data
    }

    @Test func tokenFileAndListenSettings() throws {
        let dir = NSTemporaryDirectory() + "streamtag-ws-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var ws = DaemonConfig.WebSocket()
        ws.tokens = ["from-config"]
        ws.tokenFile = dir + "/tokens"
        try "# operators\nfirst-token-abc\n\n  second-token-xyz  \n".write(toFile: ws.tokenFile, atomically: true, encoding: .utf8)
        #expect(try ws.loadTokens() == ["from-config", "first-token-abc", "second-token-xyz"])
        ws.tokenFile = dir + "/missing"
        #expect(throws: GatewayError.self) { try ws.loadTokens() }
        ws.listen = "5564"
        #expect(ws.bindAddress?.host == "127.0.0.1" && ws.bindAddress?.port == 5564)
        ws.listen = "[::1]:7000"
        #expect(ws.bindAddress?.host == "::1" && ws.bindAddress?.port == 7000)
        #expect(throws: ConfigError.self) { try DaemonConfig.load(file: nil, environment: [:], overrides: ["websocket.listen": "nowhere"]) }
        #expect(throws: ConfigError.self) { try DaemonConfig.load(file: nil, environment: [:], overrides: ["websocket.tokens": "short"]) }
        #expect(throws: ConfigError.self) { try DaemonConfig.load(file: nil, environment: [:], overrides: ["websocket.on_close": "maybe"]) }
    }

    /// The inbox to the I/O thread: one wake-up per take, and full above its bound until taken.
    @Test func inboxWakesOnceAndBoundsItsBytes() throws {
        let wakes = Mutex(0)
        let inbox = GatewayInbox(maxBytes: 100) { wakes.withLock { $0 += 1 } }
        let channel = try ServerBootstrap(group: Self.group).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        let connection = GatewayConnection(streamID: "s", channel: channel)
        #expect(inbox.push(.message(connection, ByteBuffer(bytes: Array(repeating: 32, count: 60)))) == false)
        #expect(inbox.push(.message(connection, ByteBuffer(bytes: Array(repeating: 32, count: 60)))) == true)
        #expect(wakes.withLock { $0 } == 1)
        var events: [GatewayEvent] = []
        #expect(inbox.take(into: &events) == true)
        #expect(events.count == 2)
        #expect(inbox.push(.message(connection, ByteBuffer(bytes: Array(repeating: 32, count: 60)))) == false)
        #expect(wakes.withLock { $0 } == 2)
        #expect(inbox.take(into: &events) == false)
    }

    /// A client that stops reading: its answers pile up in the daemon only up to
    /// `websocket.max_buffered_bytes`, then the connection is closed with 1008 and counted, and
    /// the daemon serves everyone else as before.
    @Test func aClientThatStopsReadingIsClosedAtTheBufferLimit() async throws {
        try await Self.withHarness(configure: { $0.websocket.maxBufferedBytes = 64 << 10 }) { h in
            let stalled = try Socket(h, stream: "stalled")
            try await stalled.client.channel.setOption(ChannelOptions.autoRead, value: false).get()
            let message = #"{"tokens":["# + Array(repeating: #""a""#, count: 1_000).joined(separator: ",") + "]}"
            func slowConsumerCount() -> Int {
                let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
                let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"streamtag_ws_errors_total{code="slow_consumer"}"#) }
                return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            }
            // Each answer is ~60 KB: the kernel's buffers on both ends fill first, then the daemon's.
            let deadline = Date().addingTimeInterval(stretched(60))
            var sent = 0
            while slowConsumerCount() == 0 && Date() < deadline {
                for _ in 0..<20 { stalled.client.send(message) }
                sent += 20
                pause(0.01)
            }
            #expect(slowConsumerCount() == 1, "no slow_consumer after \(sent) messages")
            // Reading again, the client finds its answers, then the close frame.
            try await stalled.client.channel.setOption(ChannelOptions.autoRead, value: true).get()
            stalled.client.channel.read()
            #expect(stalled.waitForClose(timeout: stretched(30)) == .some(1008))
            // Everyone else is served as before.
            let other = try Socket(h, stream: "other")
            other.client.send(#"{"tokens":["still","here"],"end":true}"#)
            #expect(other.messages(atLeast: 1).first?["type"] == .string("tags"))
        }
    }

    /// A client that stops reading for good never takes its close frame: the daemon cuts the
    /// connection off two ping intervals after closing it, so the socket and the answers
    /// buffered for it are let go (before, it kept both until the client went away).
    @Test func aClientThatNeverReadsAgainIsCutOff() async throws {
        // Pings every 4 s: the flood counts as hearing from the client, and a loaded machine
        // (the whole suite beside it) must not leave it 8 s silent; once closing, the linger is 8 s.
        try await Self.withHarness(configure: {
            $0.websocket.maxBufferedBytes = 64 << 10
            $0.websocket.pingInterval = .seconds(4)
        }) { h in
            let stalled = try Socket(h, stream: "stalled")
            try await stalled.client.channel.setOption(ChannelOptions.autoRead, value: false).get()
            let message = #"{"tokens":["# + Array(repeating: #""a""#, count: 1_000).joined(separator: ",") + "]}"
            func metric(_ prefix: String) -> Double {
                let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
                let line = metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
            }
            let slowConsumer = #"streamtag_ws_errors_total{code="slow_consumer"}"#
            let deadline = Date().addingTimeInterval(stretched(60))
            while metric(slowConsumer) < 1 && Date() < deadline {
                for _ in 0..<20 { stalled.client.send(message) }
                pause(0.01)
            }
            #expect(metric(slowConsumer) == 1)
            #expect(metric("streamtag_ws_connections ") == 1)
            // The client still does not read: cut off after the linger.
            let closedBy = Date().addingTimeInterval(stretched(20))
            while metric("streamtag_ws_connections ") != 0 && Date() < closedBy { pause(0.05) }
            #expect(metric("streamtag_ws_connections ") == 0)
            #expect(metric(#"streamtag_ws_errors_total{code="no_pong"}"#) == 0)
        }
    }

    /// A client the daemon stopped reading (its inbox full while the I/O thread is busy) cannot
    /// be heard, so it is not closed as silent: before, a busy daemon closed every such client
    /// with `no_pong` after two ping intervals.
    @Test func aClientTheDaemonStoppedReadingIsNotClosedAsSilent() async throws {
        try await Self.withHarness(configure: { $0.websocket.pingInterval = .milliseconds(200) }) { h in
            let busy = try Socket(h, stream: "busy")
            // 120 KB bodies, all but one token of them whitespace: 17 MB fill the 16 MiB inbox at
            // once, and cost the workers next to nothing.
            let padded = #"{"tokens":["a"]"# + String(repeating: " ", count: 120_000) + "}"
            h.daemon.onIOThread { _ in Thread.sleep(forTimeInterval: stretched(4)) }
            for _ in 0..<140 { busy.client.send(padded) }
            pause(stretched(4) + 0.5)
            let answers = busy.messages(atLeast: 140, timeout: stretched(30))
            #expect(answers.count == 140)
            #expect(busy.inbox.closeCode.withLock { $0 } == nil)
            let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
            #expect(!metrics.contains(#"streamtag_ws_errors_total{code="no_pong"} 1"#))
        }
    }

    /// Keep-alive: a client that answers the pings stays; one that has hung is closed (1001)
    /// after two silent periods, and counted.
    @Test func silentConnectionsAreClosedAfterTwoPings() async throws {
        try await Self.withHarness(configure: { $0.websocket.pingInterval = .milliseconds(100) }) { h in
            let alive = try Socket(h, stream: "alive")
            let hung = try Socket(h, stream: "hung", answerPings: false)
            #expect(hung.waitForClose(timeout: 5) == .some(1001))
            #expect(alive.inbox.closeCode.withLock { $0 } == nil)
            alive.client.send(#"{"tokens":["still","here"]}"#)
            #expect(alive.messages(atLeast: 1).first?["type"] == .string("tags"))
            let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
            #expect(metrics.contains(#"streamtag_ws_errors_total{code="no_pong"} 1"#))
        }
    }
}
