import Foundation
import Testing
@testable import StreamTagDaemon

@Suite("Config loading and precedence")
struct ConfigLoadTests {
    @Test func defaultsMatchTheConfigurationReference() {
        let config = DaemonConfig()
        #expect(config.input.bind == "tcp://127.0.0.1:5560")
        #expect(config.input.connect.isEmpty)
        #expect(config.input.subscribe == [""])
        #expect(config.input.hwm == 100_000)
        #expect(config.input.maxMessageBytes == 65_536)
        #expect(config.input.maxZMQMessageBytes == nil)
        #expect(config.input.effectiveMaxZMQMessageBytes == 16 * 65_536)
        #expect(config.output.bind == "tcp://127.0.0.1:5561")
        #expect(config.output.hwm == 100_000)
        #expect(config.output.noDrop == false)
        #expect(config.control.bind == "tcp://127.0.0.1:5562")
        #expect(config.metrics.listen == "127.0.0.1:5563")
        #expect(config.model.path == "")
        #expect(config.model.precision == .fp32)
        #expect(config.model.lookahead == nil)
        #expect(config.model.partial && config.model.watch)
        #expect(config.model.watchInterval == .seconds(2))
        #expect(config.reload.policy == .replay)
        #expect(config.reload.replayTokens == 32)
        #expect(config.reload.drainTimeout == .seconds(600))
        #expect(config.streams.idleTimeout == .seconds(600))
        #expect(config.streams.maxStateBytes == 1 << 30)
        #expect(config.streams.maxPendingTokens == 65_536)
        #expect(config.streams.endGrace == .seconds(60))
        #expect(config.streams.onGap == .continue)
        #expect(config.batching.workers == 0)
        #expect(config.batching.maxBatch == 256)
        #expect(config.batching.batchWait == .zero)
        #expect(config.heartbeatInterval == .seconds(1))
        #expect(config.snapshotInterval == .seconds(30))
        #expect(config.stateDir == "./streamtag-state")
        #expect(config.logLevel == .info)
    }

    @Test func noFileGivesTheDefaults() throws {
        #expect(try DaemonConfig.load(file: nil, environment: [:], overrides: [:]) == DaemonConfig())
    }

    @Test func emptyAndCommentOnlyFilesGiveTheDefaults() throws {
        #expect(try loadYAML("") == DaemonConfig())
        #expect(try loadYAML("# nothing set\n\n---\n") == DaemonConfig())
        #expect(try loadYAML("streams:\ninput: ~\n") == DaemonConfig())
        #expect(try loadYAML("\u{FEFF}log_level: info\r\n") == DaemonConfig())
    }

    @Test func fileValuesAreRead() throws {
        let config = try loadYAML("""
            input:
              connect:
              - tcp://10.0.0.5:5560
              - "tcp://producer.example:5560"
              subscribe: ["shard-a/", "shard-b/"]
              hwm: 1_000
              max_message_bytes: 1MiB
              max_zmq_message_bytes: 32MiB
            security:
              allow_plaintext: true     # producers on other hosts, in plaintext
            output:
              bind: ipc:///run/streamtag/out.sock
              no_drop: true
            metrics:
              listen: ""
            model:
              path: /var/lib/streamtag/model.safetensors
              precision: bf16
              lookahead: 1
              partial: false
              watch_interval: 500ms
            reload:
              policy: drain
            """)
        #expect(config.input.connect == ["tcp://10.0.0.5:5560", "tcp://producer.example:5560"])
        #expect(config.input.subscribe == ["shard-a/", "shard-b/"])
        #expect(config.input.hwm == 1_000)
        #expect(config.input.maxMessageBytes == 1 << 20)
        #expect(config.input.maxZMQMessageBytes == 32 << 20)
        #expect(config.output.bind == "ipc:///run/streamtag/out.sock")
        #expect(config.output.noDrop)
        #expect(config.metrics.listen == "")
        #expect(config.model.path == "/var/lib/streamtag/model.safetensors")
        #expect(config.model.precision == .bf16)
        #expect(config.model.lookahead == 1)
        #expect(!config.model.partial)
        #expect(config.model.watchInterval == .milliseconds(500))
        #expect(config.reload.policy == .drain)
        // Untouched settings keep their defaults.
        #expect(config.streams == DaemonConfig().streams)
        #expect(config.control == DaemonConfig().control)
    }

    @Test func topLevelSettingsAndDottedKeys() throws {
        let config = try loadYAML("""
            heartbeat_interval: 250ms
            snapshot_interval: 0
            log_level: debug
            streams.idle_timeout: 1h30m
            """)
        #expect(config.heartbeatInterval == .milliseconds(250))
        #expect(config.snapshotInterval == .zero)
        #expect(config.logLevel == .debug)
        #expect(config.streams.idleTimeout == .seconds(5400))
    }

    @Test func environmentBeatsFile() throws {
        let yaml = "streams:\n  idle_timeout: 20m\n  on_gap: reset\ninput:\n  connect: [tcp://a:1]\nsecurity:\n  allow_plaintext: true\n"
        let config = try loadYAML(yaml, environment: [
            "STREAMTAG_STREAMS_IDLE_TIMEOUT": "5m",
            "STREAMTAG_INPUT_CONNECT": "tcp://b:2, tcp://c:3",
            "STREAMTAG_OUTPUT_NO_DROP": "yes",
            "STREAMTAG_BATCHING_MAX_BATCH": "64",
            "STREAMTAG_LOG_LEVEL": "warning",
        ])
        #expect(config.streams.idleTimeout == .seconds(300))
        #expect(config.streams.onGap == .reset)  // from the file: not overridden
        #expect(config.input.connect == ["tcp://b:2", "tcp://c:3"])
        #expect(config.output.noDrop)
        #expect(config.batching.maxBatch == 64)
        #expect(config.logLevel == .warning)
    }

    @Test func emptyEnvironmentListsMeanNoneOrEverything() throws {
        let config = try loadYAML("input:\n  connect: [tcp://a:1]\n  subscribe: [x]\n", environment: [
            "STREAMTAG_INPUT_CONNECT": "",
            "STREAMTAG_INPUT_SUBSCRIBE": "",
        ])
        #expect(config.input.connect == [])
        #expect(config.input.subscribe == [""])
    }

    @Test func overridesBeatEnvironment() throws {
        let config = try loadYAML(
            "streams:\n  idle_timeout: 20m\n",
            environment: ["STREAMTAG_STREAMS_IDLE_TIMEOUT": "5m", "STREAMTAG_MODEL_PATH": "/env/model"],
            overrides: ["streams.idle_timeout": "90", "model.path": "/cli/model", "input.subscribe": "a,b"])
        #expect(config.streams.idleTimeout == .seconds(90))
        #expect(config.model.path == "/cli/model")
        #expect(config.input.subscribe == ["a", "b"])
    }

    @Test func stateDirectoryFromSystemd() throws {
        let systemd = ["STATE_DIRECTORY": "/var/lib/streamtag:/var/lib/streamtag-extra"]
        #expect(DaemonConfig.defaultStateDir(environment: systemd) == "/var/lib/streamtag")
        #expect(DaemonConfig.defaultStateDir(environment: [:]) == "./streamtag-state")
        #expect(DaemonConfig.defaultStateDir(environment: ["STATE_DIRECTORY": ""]) == "./streamtag-state")
        #expect(try DaemonConfig.load(file: nil, environment: systemd).stateDir == "/var/lib/streamtag")
        // "" in the file means "the default", so the installed file keeps systemd's directory.
        #expect(try loadYAML("state_dir: \"\"\n", environment: systemd).stateDir == "/var/lib/streamtag")
        // An explicit directory wins over systemd's, and the environment over the file.
        #expect(try loadYAML("state_dir: /srv/st\n", environment: systemd).stateDir == "/srv/st")
        #expect(try loadYAML("state_dir: /srv/st\n",
                             environment: systemd.merging(["STREAMTAG_STATE_DIR": "/tmp/st"]) { $1 }).stateDir == "/tmp/st")
    }

    @Test func describeReadsBackToAnEqualConfig() throws {
        var config = DaemonConfig()
        config.input.connect = ["tcp://a:1", "ipc:///tmp/x \"quoted\""]
        config.security.allowPlaintext = true
        config.input.subscribe = ["shard,1", ""]
        config.input.maxZMQMessageBytes = 3_000_000
        config.model.lookahead = 2
        config.model.precision = .bf16
        config.model.path = "/models/with: colon # and hash"
        config.streams.endGrace = .milliseconds(1500)
        config.streams.onGap = .reset
        config.batching.batchWait = .microseconds(250)
        config.metrics.listen = ""
        config.logLevel = .critical
        config.stateDir = "/var/lib/streamtag"
        let text = config.describe()
        #expect(try loadYAML(text) == config)
        #expect(try loadYAML(DaemonConfig().describe()) == DaemonConfig())
        #expect(text.contains("  max_zmq_message_bytes: 3000000\n"))
        #expect(DaemonConfig().describe().contains("  max_zmq_message_bytes: ~  # 1MiB = 16 × max_message_bytes\n"))
    }

    @Test func printConfigDoesNotShowBearerTokens() throws {
        var config = DaemonConfig()
        config.websocket.tokens = ["s3cret-one", "s3cret-two"]
        let text = config.describe()
        #expect(!text.contains("s3cret"))
        #expect(text.contains("  tokens: []  # 2 token(s) set, not shown\n"))
        config.websocket.tokens = []
        #expect(try loadYAML(text) == config)
    }

    @Test func reloadingIsAPlainCallThatSeesNewValues() throws {
        try withConfigFile("streams:\n  idle_timeout: 1m\n") { path in
            let first = try DaemonConfig.load(file: path, environment: [:])
            try "streams:\n  idle_timeout: 2m\n".write(toFile: path, atomically: true, encoding: .utf8)
            let second = try DaemonConfig.load(file: path, environment: [:])
            #expect(first.streams.idleTimeout == .seconds(60))
            #expect(second.streams.idleTimeout == .seconds(120))
        }
    }
}
