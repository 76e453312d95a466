import Foundation
import Logging
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
import StreamTagTestSupport
@testable import StreamTagWire
@testable import StreamTagClient

/// The daemon's systemd notifications over real sockets: a daemon in this process, its notify
/// socket and watchdog interval passed in explicitly (the environment is process-wide and the
/// tests run in parallel; only `serve` reads it).
@Suite(.serialized) struct SDNotifyDaemonTests {
    /// A daemon on free loopback ports that notifies `receiver`, running for `body`; stopped
    /// after it (`body` may stop it first).
    static func withDaemon<T>(_ receiver: NotifyReceiver, model: Model, stateDir: String, watchdog: Double? = nil,
                              stallLimit: Double? = nil, statusInterval: Double = 5, logs: LogLines? = nil,
                              configure: (inout DaemonConfig) -> Void = { _ in },
                              _ body: (RunningDaemon) async throws -> T) async throws -> T {
        var config = DaemonHarness.testConfig()
        config.heartbeatInterval = .milliseconds(100)
        config.stateDir = stateDir
        configure(&config)
        var logger = logs?.logger() ?? Logger(label: "test")
        if logs == nil { logger.logLevel = .critical }
        let daemon = try Daemon(config: config, model: model, logger: logger)
        daemon.enableSystemd(SystemdSettings(notifySocket: receiver.name, watchdogInterval: watchdog,
                                             statusInterval: statusInterval, stallLimit: stallLimit))
        return try await withRunning(daemon, body)
    }

    @Test(arguments: [false, true])
    func readyAfterStartStoppingOnStop(abstract: Bool) async throws {
        let receiver = try NotifyReceiver(abstract: abstract)
        defer { receiver.close() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try testModel(lookahead: 2)
        try await Self.withDaemon(receiver, model: model, stateDir: dir) { running in
            let ready = receiver.wait(for: "READY", value: "1")
            #expect(ready != nil)
            #expect(ready?.fields["STATUS"] == "serving \(model.id), 0 streams, 0 tokens/s")
            #expect(receiver.messages.filter { $0.fields["READY"] != nil }.count == 1, "READY=1 once")
            // No watchdog configured: no pings.
            pause(0.3)
            #expect(receiver.pings.isEmpty)
            try await running.stop()
            let stopping = receiver.wait(for: "STOPPING", value: "1")
            #expect(stopping != nil)
            #expect(stopping!.time > ready!.time)
            #expect(stopping?.fields["STATUS"]?.hasPrefix("stopping") == true)
        }
    }

    @Test func readyWaitsForTheSnapshotImport() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try testModel(lookahead: 2)
        // A first daemon leaves three open streams in its snapshot.
        try await DaemonHarness.with(model: model, configure: { $0.stateDir = dir }) { first in
            for s in ["a", "b", "c"] { try first.client.publish(stream: s, seq: 1, tokens: ["the", "cat"]) }
            _ = try first.collect { $0.filter { $0.type == "tags" }.count == 3 }
            try await first.stop(removeStateDir: false)
        }

        let receiver = try NotifyReceiver(abstract: false)
        defer { receiver.close() }
        try await Self.withDaemon(receiver, model: model, stateDir: dir) { running in
            // READY comes after the workers have imported the streams: its status counts them.
            let ready = receiver.wait(for: "READY", value: "1")
            #expect(ready?.fields["STATUS"] == "serving \(model.id), 3 streams, 0 tokens/s")
            #expect(running.daemon.status.streams == 3)
        }
    }

    @Test func reloadingThenReadyAroundAReload() async throws {
        let receiver = try NotifyReceiver(abstract: false)
        defer { receiver.close() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try ReloadTests.models()
        let path = dir + "/model.safetensors"
        try ReloadTests.writeModel(a, to: path)
        let served = try Model(path: path)
        try await Self.withDaemon(receiver, model: served, stateDir: dir + "/state", configure: { config in
            config.model.path = path
            config.model.watch = false
        }) { running in
            let daemon = running.daemon
            let ready = try #require(receiver.wait(for: "READY", value: "1"))

            try ReloadTests.writeModel(b, to: path)
            let before = monotonicMicroseconds()
            let answer = try controlRequest(["cmd": "reload"], endpoint: daemon.controlEndpoint, timeout: 10)
            let after = monotonicMicroseconds()
            #expect(answer["ok"] == .bool(true))
            #expect(answer["changed"] == .bool(true))
            let reloading = try #require(receiver.wait(for: "RELOADING", value: "1", after: ready.time))
            let usec = try #require(reloading.fields["MONOTONIC_USEC"].flatMap { UInt64($0) }, "\(reloading.text)")
            #expect(usec >= before && usec <= after, "MONOTONIC_USEC is CLOCK_MONOTONIC at the reload")
            let readyAgain = try #require(receiver.wait(for: "READY", value: "1", after: reloading.time))
            #expect(readyAgain.fields["STATUS"]?.hasPrefix("serving second@") == true, "\(readyAgain.text)")

            // A rejected file: RELOADING, then READY with the old model still serving.
            try AtomicFile.write(Array("not a model".utf8), to: path)
            let rejected = try controlRequest(["cmd": "reload"], endpoint: daemon.controlEndpoint, timeout: 10)
            #expect(rejected["ok"] == .bool(false))
            let reloading2 = try #require(receiver.wait(for: "RELOADING", value: "1", after: readyAgain.time))
            let ready3 = try #require(receiver.wait(for: "READY", value: "1", after: reloading2.time))
            #expect(ready3.fields["STATUS"]?.hasPrefix("serving second@") == true)

            // The order of everything: READY, (RELOADING, READY) twice.
            let sequence = receiver.messages.compactMap { m -> String? in
                m.fields["READY"] != nil ? "READY" : m.fields["RELOADING"] != nil ? "RELOADING" : nil
            }
            #expect(sequence == ["READY", "RELOADING", "READY", "RELOADING", "READY"])
        }
    }

    /// The rhythm of the pings and status lines is `WatchdogScheduleTests`' job (exact, with
    /// the time given); here, that they reach a real notify socket from a running daemon.
    @Test func watchdogPingsAndStatusLinesReachSystemd() async throws {
        let receiver = try NotifyReceiver(abstract: true)
        defer { receiver.close() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.withDaemon(receiver, model: try testModel(lookahead: 1), stateDir: dir,
                                  watchdog: 0.6, statusInterval: 0.5) { running in
            let ready = try #require(receiver.wait(for: "READY", value: "1"))
            pause(2)
            try await running.stop()
            #expect(receiver.pings.filter { $0 >= ready.time }.count >= 3, "\(receiver.pings.count) pings")
            let statuses = receiver.messages.filter { $0.fields["STATUS"]?.hasPrefix("serving") == true && $0.fields["READY"] == nil }
            #expect(statuses.count >= 2, "\(statuses.map(\.text))")
            #expect(statuses.allSatisfy { $0.fields["STATUS"]!.hasSuffix("tokens/s") })
        }
    }

    /// A worker held up past the stall limit withholds the pings, and they resume once it runs
    /// again: seen in the daemon's log (the timing of the pings is `WatchdogScheduleTests`').
    @Test func aStalledWorkerStopsThePingsUntilItRecovers() async throws {
        let receiver = try NotifyReceiver(abstract: false)
        defer { receiver.close() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = LogLines()
        try await Self.withDaemon(receiver, model: try testModel(lookahead: 1), stateDir: dir,
                                  watchdog: 0.4, stallLimit: 1.5, logs: logs) { running in
            let daemon = running.daemon
            try #require(receiver.wait(for: "READY", value: "1") != nil)
            // Idle workers turn once a second: a stall is anything well past that.
            let answer = try controlRequest(["cmd": "debug_stall", "worker": 1, "seconds": 3.5],
                                            endpoint: daemon.controlEndpoint, timeout: 10)
            #expect(answer["ok"] == .bool(true), "\(answer)")
            let deadline = monotonicSeconds() + 30
            while !logs.contains(.notice, "WATCHDOG=1 resumes") && monotonicSeconds() < deadline {
                pause(0.05)
            }
            #expect(logs.contains(.error, "a worker has not made progress; withholding WATCHDOG=1"), "\(logs.texts)")
            #expect(logs.contains(.notice, "the worker makes progress again; WATCHDOG=1 resumes"), "\(logs.texts)")
            let resumed = monotonicSeconds()
            pause(0.5)
            #expect(receiver.pings.contains { $0 > resumed - 0.1 }, "pings after the recovery")

            // The debug command checks its arguments.
            for bad in [["cmd": "debug_stall", "worker": 9, "seconds": 1], ["cmd": "debug_stall", "worker": 0, "seconds": 0],
                        ["cmd": "debug_stall", "worker": 0]] as [JSONValue] {
                let answer = try controlRequest(bad, endpoint: daemon.controlEndpoint, timeout: 10)
                #expect(answer["ok"] == .bool(false), "\(bad)")
            }
            // Ordinary commands still reach the normal parser.
            #expect(try controlRequest(["cmd": "status"], endpoint: daemon.controlEndpoint, timeout: 10)["ok"] == .bool(true))
            #expect(try controlRequest(["cmd": "nonsense"], endpoint: daemon.controlEndpoint, timeout: 10)["ok"] == .bool(false))
        }
    }

    @Test func withoutSystemdNothingChanges() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await DaemonHarness.with(model: try testModel(lookahead: 1), configure: { $0.stateDir = dir }) { h in
            h.daemon.enableSystemd(SystemdSettings())
            #expect(h.daemon.notifier == nil)
            let status = try h.control(["cmd": "status"])
            #expect(status["ok"] == .bool(true))
        }
    }
}
