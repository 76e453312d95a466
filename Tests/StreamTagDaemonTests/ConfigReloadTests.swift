import Foundation
import Logging
import Synchronization
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// SIGHUP's config reload on a real daemon started from a YAML file: the file is rewritten,
/// `reloadConfiguration` (what SIGHUP calls) runs, and the new rules show on the wire.
@Suite(.serialized) struct ConfigReloadTests {
    /// A daemon started from `dir/streamtag.yaml`, with the same reader SIGHUP would use.
    struct Setup {
        let dir: String
        var file: String { dir + "/streamtag.yaml" }
        let log = LogLines()

        /// Free loopback ports, fast heartbeats, no metrics, a state dir under `dir`.
        var base: [String: String] {
            ["input.bind": "tcp://127.0.0.1:*", "output.bind": "tcp://127.0.0.1:*", "control.bind": "tcp://127.0.0.1:*",
             "metrics.listen": "\"\"", "heartbeat_interval": "50ms", "snapshot_interval": "0",
             "batching.workers": "2", "state_dir": dir + "/state"]
        }

        /// Writes the file: `base` plus `values` (dotted key → YAML value), by section.
        func write(_ values: [String: String]) throws {
            let all = base.merging(values) { $1 }
            var sections: [String: [String]] = [:], top: [String] = []
            for (key, value) in all.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                if parts.count == 2 { sections[parts[0], default: []].append("  \(parts[1]): \(value)") } else { top.append("\(key): \(value)") }
            }
            let text = top + sections.sorted { $0.key < $1.key }.flatMap { ["\($0.key):"] + $0.value }
            try AtomicFile.write(Array((text.joined(separator: "\n") + "\n").utf8), to: file)
        }

        func load() throws(ConfigError) -> DaemonConfig {
            try DaemonConfig.load(file: file, environment: [:])
        }

        /// A daemon on the file's configuration, for `body`; stopped after it.
        func withDaemon<T>(model: Model, _ body: (DaemonHarness) async throws -> T) async throws -> T {
            try await DaemonHarness.with(config: try load(), model: model, logger: log.logger(), body)
        }

        /// Triggers the reload SIGHUP triggers and waits until the workers have the settings.
        func reload(_ h: DaemonHarness) throws -> Result<ConfigChange, ConfigError> {
            let done = DispatchSemaphore(value: 0)
            let box = Mutex<Result<ConfigChange, ConfigError>?>(nil)
            h.daemon.reloadConfiguration(source: "SIGHUP", read: load) { result in
                box.withLock { $0 = result }
                done.signal()
            }
            guard done.wait(timeout: .now() + 10) == .success, let result = box.withLock({ $0 }) else {
                throw ClientError("the config reload did not complete")
            }
            return result
        }
    }

    static func setup() -> Setup { Setup(dir: temporaryDirectory()) }

    @Test func smallerMaxPendingTokensRejectsAsOverloadedAfterReload() async throws {
        let s = Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        try s.write(["streams.max_pending_tokens": "1000"])
        try await s.withDaemon(model: try testModel(lookahead: 0)) { h in
            let five = ["the", "cat", "sat", "on", "a"]
            try h.client.publish(stream: "before", seq: 1, tokens: five)
            #expect(try h.collect { $0.contains { $0.topic == "before" } }.last?.type == "tags")

            try s.write(["streams.max_pending_tokens": "4", "log_level": "debug", "input.hwm": "5000"])
            let change = try s.reload(h).get()
            #expect(change.live.map(\.key) == ["streams.max_pending_tokens", "log_level"])
            #expect(change.restartNeeded.map(\.key) == ["input.hwm"])

            try h.client.publish(stream: "after", seq: 1, tokens: five)
            try h.client.publish(stream: "small", seq: 1, tokens: ["the", "dog"])
            let got = try h.collect { all in ["after", "small"].allSatisfy { s in all.contains { $0.topic == s } } }
            let after = got.first { $0.topic == "after" }
            #expect(after?.event == "error" && after?.string("code") == "overloaded")
            #expect(got.first { $0.topic == "small" }?.type == "tags")

            #expect(h.daemon.config.streams.maxPendingTokens == 4)
            #expect(h.daemon.config.input.hwm == 100_000, "restart-only settings keep their running value")
            #expect(h.daemon.logger.logLevel == .debug)
            #expect(s.log.contains(.info, "config reloaded: streams.max_pending_tokens 1000 -> 4, log_level info -> debug"))
            #expect(s.log.contains(.warning, "input.hwm 100000 -> 5000"))
            #expect(s.log.contains(.warning, "next restart"))
        }
    }

    @Test func shorterIdleTimeoutEvictsSooner() async throws {
        let s = Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        try s.write(["streams.idle_timeout": "10m"])
        try await s.withDaemon(model: try testModel(lookahead: 1)) { h in
            try h.client.publish(stream: "quiet", seq: 1, tokens: ["the", "cat"])
            _ = try h.collect { $0.contains { $0.topic == "quiet" && $0.type == "tags" } }

            try s.write(["streams.idle_timeout": "300ms"])
            let change = try s.reload(h).get()
            #expect(change.live.map(\.description) == ["streams.idle_timeout 10m -> 300ms"])
            let evicted = try h.collect(timeout: 5) { $0.contains { $0.topic == "quiet" && $0.event == "evicted" } }
            #expect(evicted.contains { $0.topic == "quiet" && $0.string("reason") == "idle" })
            #expect(s.log.contains(.info, "config reloaded: streams.idle_timeout 10m -> 300ms"))

            // Reading the same file again changes nothing.
            #expect(try s.reload(h).get().isEmpty)
            #expect(s.log.contains(.info, "config unchanged"))
        }
    }

    @Test func brokenFileKeepsTheRunningConfigAndTheModelStillReloads() async throws {
        let s = Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let (a, b) = try ReloadTests.models()
        let modelPath = s.dir + "/model.safetensors"
        try ReloadTests.writeModel(a, to: modelPath)
        try s.write(["streams.max_pending_tokens": "4", "model.path": modelPath, "model.watch": "false"])
        try await s.withDaemon(model: try Model(path: modelPath)) { h in
            let running = h.daemon.config

            try ReloadTests.writeModel(b, to: modelPath)
            try s.write(["streams.max_pending_tokens": "lots", "model.path": modelPath, "model.watch": "false"])
            let result = try s.reload(h)
            guard case .failure(let error) = result else {
                Issue.record("a broken file was accepted: \(result)")
                return
            }
            #expect(error.key == "streams.max_pending_tokens")
            #expect(s.log.contains(.error, "config reload failed; the running configuration is unchanged: config: streams.max_pending_tokens:"))
            #expect(h.daemon.config == running)

            // The model reload ran all the same.
            let loaded = try h.collect { $0.contains { $0.event == "model_loaded" } }
            #expect(loaded.first { $0.event == "model_loaded" }?.string("model")?.hasPrefix("second@") == true)
            // The old limit still holds: 5 tokens are too many, 3 are fine.
            try h.client.publish(stream: "big", seq: 1, tokens: ["the", "cat", "sat", "on", "a"])
            try h.client.publish(stream: "fine", seq: 1, tokens: ["the", "cat", "sat"])
            let got = try h.collect { all in ["big", "fine"].allSatisfy { s in all.contains { $0.topic == s } } }
            #expect(got.first { $0.topic == "big" }?.string("code") == "overloaded")
            #expect(got.first { $0.topic == "fine" }?.type == "tags")
        }
    }

    @Test func newModelPathIsLoadedAndWatched() async throws {
        let s = Self.setup()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let (a, b) = try ReloadTests.models()
        let first = s.dir + "/a.safetensors", second = s.dir + "/b.safetensors"
        try ReloadTests.writeModel(a, to: first)
        try ReloadTests.writeModel(b, to: second)
        try s.write(["model.path": first, "model.watch": "false"])
        try await s.withDaemon(model: try Model(path: first)) { h in

            try s.write(["model.path": second, "model.watch": "true", "model.watch_interval": "200ms"])
            let change = try s.reload(h).get()
            #expect(change.live.map(\.key) == ["model.path", "model.watch", "model.watch_interval"])
            var events = try h.collect { $0.contains { $0.event == "model_loaded" } }
            #expect(events.first { $0.event == "model_loaded" }?.string("model")?.hasPrefix("second@") == true)
            #expect(h.daemon.config.model.path == second)

            // The watcher now follows the new path: a file renamed over it is picked up.
            try ReloadTests.writeModel(a, to: second)
            events = try h.collect { $0.contains { $0.event == "model_loaded" } }
            #expect(events.first { $0.event == "model_loaded" }?.string("model")?.hasPrefix("test@") == true)
        }
    }
}

/// The daemon's log level, changeable after the logger was made.
struct LiveLogLevelTests {
    @Test func wrappedLoggersFollowTheLevel() {
        let lines = LogLines()
        let level = LiveLogLevel(.info)
        let logger = level.wrapping(lines.logger())
        let copy = logger                 // Logger is a value: copies share the live level
        logger.debug("hidden")
        level.level = .debug
        copy.debug("shown")
        #expect(!lines.contains(.debug, "hidden"))
        #expect(lines.contains(.debug, "shown"))
        level.level = .error
        logger.warning("quiet again")
        #expect(!lines.contains(.warning, "quiet again"))
        #expect(logger.logLevel == .error)
    }
}
