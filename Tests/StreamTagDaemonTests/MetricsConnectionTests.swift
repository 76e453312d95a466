import Foundation
import Logging
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The metrics listener against silent clients: idle connections are closed after
/// `metrics.read_timeout`, connections over `metrics.max_connections` are closed at once, and
/// `/metrics` answers again; and `/healthz` is 200 as soon as `/readyz` is.
@Suite(.serialized) struct MetricsConnectionTests {
    /// A TCP connection that sends nothing.
    final class SilentConnection {
        let fd: Int32

        init(port: Int) throws {
            fd = try HTTPTestClient.connectLoopback(port: port)
        }

        deinit { close(fd) }

        /// Whether the server closed the connection within `timeout` seconds (a read sees EOF
        /// or a reset).
        func closedByServer(within timeout: Double) -> Bool {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return false }
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, 0) <= 0
        }
    }

    @Test func idleConnectionsAreClosedAndTheCapRefusesExtras() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1), configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.metrics.readTimeout = .milliseconds(1500)
            config.metrics.maxConnections = 4
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            let opened = Date()
            let silent = try (0..<4).map { _ in try SilentConnection(port: port) }
            pause(0.2)          // all four admitted
            let extra = try SilentConnection(port: port)
            #expect(extra.closedByServer(within: 0.4), "the fifth connection is closed at once")
            for (i, c) in silent.enumerated() {
                #expect(!c.closedByServer(within: 0), "connection \(i) stays open before the timeout")
            }
            for (i, c) in silent.enumerated() {
                #expect(c.closedByServer(within: 3), "connection \(i) is closed after the idle timeout")
            }
            #expect(Date().timeIntervalSince(opened) >= 1.4, "not before the timeout")
            let response = try HTTPTestClient.get(port: port, "/metrics")
            #expect(response.status == 200)
            let metrics = try Exposition(response.text)
            #expect(metrics.value("streamtag_http_connections_closed_total", ["reason": "over_cap"]) == 1)
            #expect(metrics.value("streamtag_http_connections_closed_total", ["reason": "idle_timeout"]) ?? 0 >= 4)
            #expect(metrics.value("streamtag_fd_exhaustion_total", ["source": "http"]) == 0)
            #expect(metrics.value("streamtag_fd_exhaustion_total", ["source": "zmq"]) == 0)
        }
    }

    /// A scraper that keeps its connection busy is not cut off by the idle timeout.
    @Test func activeKeepAliveConnectionStaysOpen() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1), configure: { config in
            config.metrics.listen = "127.0.0.1:0"
            config.metrics.readTimeout = .seconds(1)
        }) { h in
            let http = try HTTPTestClient(port: try #require(h.daemon.metricsPort))
            for _ in 0..<10 {     // 2.5 s on one connection, a request every 0.25 s
                #expect(try http.request("GET", "/healthz").status == 200)
                pause(0.25)
            }
        }
    }

    /// Ready implies healthy: right after `ready()` returns (no client waiting for a heartbeat
    /// first), `/healthz` is 200 too; with a 1 s heartbeat the I/O loop's first timer is far.
    @Test func healthyAsSoonAsReady() async throws {
        for _ in 0..<5 {
            var config = DaemonHarness.testConfig()
            config.metrics.listen = "127.0.0.1:0"
            config.heartbeatInterval = .seconds(1)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: logger)
            let (ready, health) = try await withRunning(daemon) { _ in
                let port = try #require(daemon.metricsPort)
                return (try HTTPTestClient.get(port: port, "/readyz"), try HTTPTestClient.get(port: port, "/healthz"))
            }
            try? FileManager.default.removeItem(atPath: config.stateDir)
            #expect(ready.status == 200)
            #expect(health.status == 200, "\(health.text)")
        }
    }
}
