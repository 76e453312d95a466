import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// The daemon as a swift-service-lifecycle `Service`: `run()` until a graceful shutdown or the
/// task's cancellation, both of which stop it the graceful way (the streams snapshotted);
/// `ready()` once it serves. Start failures: `DaemonSnapshotTests`,
/// `ProtocolDetailTests.bindFailureNamesTheKeyAndTheEndpoint`.
@Suite(.serialized) struct DaemonLifecycleTests {
    static func quiet() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Sends `tokens` on `stream` through `client` and waits for the answer.
    static func answered(_ client: StreamClient, stream: String, tokens: [String]) throws -> Bool {
        try client.publish(stream: stream, seq: 1, tokens: tokens)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, let m = try client.receive(timeout: deadline.timeIntervalSinceNow) {
            if m.topic == stream && m.type == "tags" { return true }
        }
        return false
    }

    /// Reads `client` until the `$sys` `stopping` event (nil if none within 5 s).
    static func stopping(_ client: StreamClient) throws -> StreamClient.Received? {
        while let m = try client.receive(timeout: 5) {
            if m.topic == "$sys" && m.event == "stopping" { return m }
        }
        return nil
    }

    @Test func cancellingTheRunStopsGracefullyAndTheStreamsAreSaved() async throws {
        let model = try testModel(lookahead: 2)
        let config = DaemonHarness.testConfig()
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        let daemon = try Daemon(config: config, model: model, logger: Self.quiet())
        let run = Task { try await daemon.run() }
        do {
            try await daemon.ready()
            let client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint)
            defer { client.close() }
            try client.follow("")
            try client.waitForHeartbeat(timeout: 10)
            #expect(try Self.answered(client, stream: "kept", tokens: ["the", "cat", "sat"]))
            run.cancel()
            try await run.value                   // returns once stopped: no error
            #expect(try Self.stopping(client)?.string("snapshot_error") == nil, "stopping, with the snapshot written")
        } catch {
            run.cancel()
            _ = await run.result
            throw error
        }
        let saved = try SnapshotFile.decode(try AtomicFile.read(path: config.stateDir + "/snapshot.bin"), limits: .serving(model))
        #expect(saved.streams.map(\.id) == ["kept"])
        // Stopped for good: not ready any more, and it does not run twice.
        await #expect(throws: DaemonLifecycleError.stopped) { try await daemon.ready() }
        await #expect(throws: DaemonLifecycleError.alreadyRun) { try await daemon.run() }

        // A restart on the same directory restores the stream: its positions go on.
        try await DaemonHarness.with(config: config, model: model) { h in
            #expect(h.daemon.status.streams == 1)
            try h.client.publish(stream: "kept", seq: 2, tokens: ["on", "a"], end: true)
            let got = try h.collect { $0.contains { $0.topic == "kept" && $0.event == "end" } }
            #expect(got.filter { $0.topic == "kept" }.flatMap(\.finals).map(\.0) == [1, 2, 3, 4])
        }
    }

    @Test func gracefulShutdownOfTheGroupReturnsWithTheDaemonStopped() async throws {
        let config = DaemonHarness.testConfig()
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: Self.quiet())
        let group = ServiceGroup(configuration: .init(services: [.init(service: daemon)], logger: Self.quiet()))
        let run = Task { try await group.run() }
        do {
            try await daemon.ready()
            try await daemon.ready()              // at once, as often as asked
            let client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint)
            defer { client.close() }
            try client.follow("")
            try client.waitForHeartbeat(timeout: 10)
            #expect(try Self.answered(client, stream: "s", tokens: ["the", "cat"]))
            await group.triggerGracefulShutdown()
            try await run.value
            #expect(daemon.stopWaiters.withLock { $0 == nil }, "stopped when the group returns")
            #expect(try Self.stopping(client) != nil)
        } catch {
            run.cancel()
            _ = await run.result
            throw error
        }
        #expect(FileManager.default.fileExists(atPath: config.stateDir + "/snapshot.bin"))
    }

    /// `ready()` asked before `run()` waits for the start.
    @Test func readyWaitsForTheRun() async throws {
        let config = DaemonHarness.testConfig()
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: Self.quiet())
        let waiting = Task { try await daemon.ready() }
        try await Task.sleep(for: .milliseconds(50))
        try await withRunning(daemon) { _ in
            try await waiting.value
            #expect(!daemon.inputEndpoint.isEmpty)
        }
    }

    /// Once stopped and let go, nothing keeps a daemon alive: its threads have ended and no
    /// reference cycle holds it (a daemon left running is kept by its threads).
    @Test(arguments: [false, true])
    func aStoppedDaemonIsFreed(withMetrics: Bool) async throws {
        var config = DaemonHarness.testConfig()
        if withMetrics { config.metrics.listen = "127.0.0.1:0" }
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        weak var released: Daemon?
        do {
            let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: Self.quiet())
            released = daemon
            try await withRunning(daemon) { running in
                let client = try StreamClient(input: running.daemon.inputEndpoint, output: running.daemon.outputEndpoint)
                defer { client.close() }
                try client.follow("")
                try client.waitForHeartbeat(timeout: 10)
                #expect(try Self.answered(client, stream: "s", tokens: ["the", "cat"]))
            }
        }
        // The I/O and worker threads let go of it as they end, just after the stop.
        let deadline = Date().addingTimeInterval(10)
        while released != nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(released == nil, "the stopped daemon is still referenced")
    }

    /// A daemon whose start failed half-way (the metrics listener up, then the input port
    /// taken) lets go of its listener and is freed too.
    @Test func aDaemonWhoseStartFailedIsFreed() async throws {
        try await DaemonHarness.with(model: try testModel(lookahead: 1)) { first in
            var config = DaemonHarness.testConfig()
            config.metrics.listen = "127.0.0.1:0"
            config.input.bind = first.daemon.inputEndpoint
            defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
            weak var released: Daemon?
            do {
                let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: Self.quiet())
                released = daemon
                await #expect(throws: (any Error).self) { try await withRunning(daemon) { _ in } }
                #expect(daemon.metricsPort == nil, "the listener closed")
            }
            let deadline = Date().addingTimeInterval(10)
            while released != nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(released == nil, "the daemon whose start failed is still referenced")
        }
    }
}
