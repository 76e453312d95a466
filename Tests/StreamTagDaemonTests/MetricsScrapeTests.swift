import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire

/// The cost of a scrape does not grow with the number of streams: 100,000 open streams on an
/// in-process daemon, then `GET /metrics` over real HTTP (one keep-alive connection), timed.
@Suite(.serialized) struct MetricsScrapeTests {
    static let streams = 100_000

    @Test func scrapeWith100kOpenStreams() async throws {
        let model = try testModel(lookahead: 0)
        try await DaemonHarness.with(model: model, configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.streams.maxStateBytes = 0
        }) { h in
            // Each stream opened by one message without tokens, handed straight to its worker
            // (the wire path is not what is measured here).
            let pool = h.daemon.pool
            var perWorker = Array(repeating: [WorkItem](), count: pool.workers.count)
            for i in 0..<Self.streams {
                let id = "idle-\(i)"
                perWorker[pool.worker(for: id)].append(.message(InputMessage(streamID: id, seq: 0)))
            }
            for (i, items) in perWorker.enumerated() { pool.workers[i].submit(items) }
            let deadline = Date().addingTimeInterval(300)
            while (pool.streams < Self.streams || h.daemon.metrics.counts.load(EventCount.answers) < Self.streams)
                && Date() < deadline {
                pause(0.05)
            }
            #expect(pool.streams == Self.streams)

            let http = try HTTPTestClient(port: try #require(h.daemon.metricsPort))
            for _ in 0..<5 { _ = try http.request("GET", "/metrics") }     // warm-up
            var times: [Double] = []
            var last = HTTPTestClient.Response(status: 0, headers: [:], body: [])
            for _ in 0..<50 {
                let start = DispatchTime.now().uptimeNanoseconds
                last = try http.request("GET", "/metrics")
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            let median = times[times.count / 2], p90 = times[times.count * 9 / 10], worst = times.last!
            print(String(format: "scrape with %d open streams over HTTP: median %.3f ms, p90 %.3f ms, max %.3f ms (%d bytes)",
                         Self.streams, median, p90, worst, last.body.count))
            #expect(last.status == 200)
            let e = try Exposition(last.text)
            #expect(e.value("streamtag_streams") == Double(Self.streams))
            #expect(e.value("streamtag_state_bytes") == Double(Self.streams * StateLayout(config: model.config).bytes))
            #expect(e.value("streamtag_token_to_tag_latency_seconds_count") == Double(Self.streams))
            // Target 5 ms (release); a debug build of the test gets twice that.
            #if DEBUG
            #expect(median <= 10, "median scrape \(median) ms")
            #else
            #expect(median <= 5, "median scrape \(median) ms")
            #endif
        }
    }
}
