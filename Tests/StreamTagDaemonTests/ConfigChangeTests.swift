import Testing
@testable import StreamTagDaemon

/// The pure part of a config reload: which changed settings apply live, which wait for a
/// restart, and the configuration the daemon goes on with.
struct ConfigChangeTests {
    /// A configuration in which every setting differs from the defaults.
    static func everythingChanged() -> DaemonConfig {
        var c = DaemonConfig()
        c.input.bind = "tcp://127.0.0.1:6000"
        c.input.connect = ["tcp://127.0.0.1:7000"]
        c.input.subscribe = ["shard-a."]
        c.input.hwm = 5_000
        c.input.maxMessageBytes = 2048
        c.input.maxZMQMessageBytes = 1 << 20
        c.output.bind = "tcp://127.0.0.1:6001"
        c.output.hwm = 6_000
        c.output.noDrop = true
        c.control.bind = "tcp://127.0.0.1:6002"
        c.metrics.listen = "127.0.0.1:6003"
        c.metrics.readTimeout = .seconds(5)
        c.metrics.maxConnections = 8
        c.model.path = "/models/next.safetensors"
        c.model.precision = .bf16
        c.model.lookahead = 1
        c.model.partial = false
        c.model.watch = false
        c.model.watchInterval = .seconds(5)
        c.reload.policy = .drain
        c.reload.replayTokens = 8
        c.reload.drainTimeout = .seconds(30)
        c.reload.loadTimeout = .seconds(5)
        c.streams.idleTimeout = .seconds(300)
        c.streams.maxStateBytes = 1 << 20
        c.streams.maxPendingTokens = 4
        c.streams.maxPendingTotal = 1000
        c.streams.endGrace = .seconds(5)
        c.streams.onGap = .reset
        c.batching.workers = 3
        c.batching.maxBatch = 8
        c.batching.batchWait = .milliseconds(1)
        c.websocket.listen = "127.0.0.1:6004"
        c.websocket.tokens = ["a-long-token"]
        c.websocket.tokenFile = "/etc/streamtag/tokens"
        c.websocket.maxConnections = 10
        c.websocket.maxFrameBytes = 1 << 20
        c.websocket.maxBufferedBytes = 1 << 20
        c.websocket.pingInterval = .seconds(5)
        c.websocket.onClose = .keep
        c.heartbeatInterval = .seconds(2)
        c.snapshotInterval = .zero
        c.stateDir = "/var/lib/elsewhere"
        c.security.serverKey = "/etc/streamtag/keys/server.key_secret"
        c.security.clients = "/etc/streamtag/keys/clients"
        c.security.controlClients = "/etc/streamtag/keys/control"
        c.security.allowPlaintext = true
        c.logLevel = .debug
        return c
    }

    @Test func everySettingIsEitherLiveOrRestartOnly() {
        let running = DaemonConfig(), next = Self.everythingChanged()
        let change = ConfigChange(from: running, to: next)
        let all = DaemonConfig.settings.map(\.key)
        // The fixture really changes every setting, so each one is classified below.
        #expect(change.live.count + change.restartNeeded.count == all.count)
        #expect(Set(change.live.map(\.key)) == ConfigChange.liveKeys)
        #expect(ConfigChange.liveKeys.isSubset(of: Set(all)), "no typo in the live keys")
        #expect(Set(change.restartNeeded.map(\.key)) == Set(all).subtracting(ConfigChange.liveKeys))
        #expect(change.live.map(\.key) == all.filter(ConfigChange.liveKeys.contains), "file order")
        // The effective configuration takes the live values and keeps the rest.
        for setting in DaemonConfig.settings {
            let expected = ConfigChange.liveKeys.contains(setting.key) ? next : running
            #expect(setting.render(change.effective) == setting.render(expected), "\(setting.key)")
        }
        for key in ["input.bind", "input.hwm", "batching.workers", "metrics.listen", "state_dir", "model.precision",
                    "model.lookahead", "batching.max_batch", "output.no_drop", "input.subscribe"] {
            #expect(change.restartNeeded.contains { $0.key == key }, "\(key) needs a restart")
        }
    }

    @Test func sameValuesMeanNoChange() throws {
        let running = DaemonConfig()
        // The same durations spelled otherwise are the same values.
        let next = try DaemonConfig.load(file: nil, environment: [:], overrides: [
            "streams.idle_timeout": "600s", "heartbeat_interval": "1000ms", "streams.max_pending_tokens": "65_536",
        ])
        let change = ConfigChange(from: running, to: next)
        #expect(change.isEmpty)
        #expect(change.effective == running)
        #expect(change.summary == "config unchanged")
        #expect(change.restartWarning == nil)
    }

    @Test func summaryAndWarningLines() {
        var next = DaemonConfig()
        next.streams.idleTimeout = .seconds(300)
        next.logLevel = .debug
        next.input.hwm = 5_000
        next.batching.workers = 4
        let change = ConfigChange(from: DaemonConfig(), to: next)
        #expect(change.summary == "config reloaded: streams.idle_timeout 10m -> 5m, log_level info -> debug")
        #expect(change.restartWarning == "config: these changes take effect at the next restart (the old values stay until then): input.hwm 100000 -> 5000, batching.workers 0 -> 4")
        #expect(change.effective.input.hwm == 100_000 && change.effective.batching.workers == 0)
        #expect(change.effective.streams.idleTimeout == .seconds(300) && change.effective.logLevel == .debug)

        var restartOnly = DaemonConfig()
        restartOnly.output.hwm = 1
        #expect(ConfigChange(from: DaemonConfig(), to: restartOnly).summary == "config reloaded: no setting that applies live changed")
    }

    @Test func modelPathIsLiveExceptBackToTheBuiltinModel() {
        var running = DaemonConfig()
        running.model.path = "/models/a.safetensors"
        var next = running
        next.model.path = "/models/b.safetensors"
        let toFile = ConfigChange(from: running, to: next)
        #expect(toFile.live.map(\.description) == [#"model.path "/models/a.safetensors" -> "/models/b.safetensors""#])
        #expect(toFile.effective.model.path == "/models/b.safetensors")

        next.model.path = ""
        let toBuiltin = ConfigChange(from: running, to: next)
        #expect(toBuiltin.live.isEmpty)
        #expect(toBuiltin.restartNeeded.map(\.key) == ["model.path"])
        #expect(toBuiltin.effective.model.path == "/models/a.safetensors")
    }
}
