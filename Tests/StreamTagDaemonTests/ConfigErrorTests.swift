import Foundation
import Testing
@testable import StreamTagDaemon

/// The error `load` throws for `yaml` (in a temporary file), or nil when it loads.
private func loadError(
    _ yaml: String?, environment: [String: String] = [:], overrides: [String: String] = [:]
) throws -> ConfigError? {
    func load(_ file: String?) -> ConfigError? {
        do {
            _ = try DaemonConfig.load(file: file, environment: environment, overrides: overrides)
            return nil
        } catch {
            return error
        }
    }
    guard let yaml else { return load(nil) }
    return try withConfigFile(yaml) { load($0) }
}

@Suite("Config errors name the key, the value and the reason")
struct ConfigErrorTests {
    @Test func badDurationReadsAsDocumented() throws {
        let error = try loadError("streams:\n  idle_timeout: ten minutes\n")
        #expect(error?.key == "streams.idle_timeout")
        #expect(error?.description
            == #"config: streams.idle_timeout: "ten minutes" is not a duration (use 600, "10m", "30s", "500ms")"#)
    }

    @Test(arguments: [
        // (YAML, key, message)
        ("input:\n  hwm: [1, 2]\n", "input.hwm", "expects a single value, not a list"),
        ("output:\n  hwm: lots\n", "output.hwm", #""lots" is not a whole number"#),
        ("output:\n  hwm: -1\n", "output.hwm", #""-1" is out of range 0…2147483647"#),
        ("input:\n  hwm: 3000000000\n", "input.hwm", #""3000000000" is out of range 0…2147483647"#),
        ("input:\n  max_message_bytes: 512\n", "input.max_message_bytes", #""512" is out of range 1KiB…16MiB"#),
        ("input:\n  max_message_bytes: 32MiB\n", "input.max_message_bytes", #""32MiB" is out of range 1KiB…16MiB"#),
        ("input:\n  max_message_bytes: big\n", "input.max_message_bytes",
         #""big" is not a size (use 65536, "64KiB", "1GiB", "512MB")"#),
        ("streams:\n  max_state_bytes: -1GiB\n", "streams.max_state_bytes", #""-1GiB" is negative; a size is 0 or more"#),
        ("reload:\n  replay_tokens: 4097\n", "reload.replay_tokens", #""4097" is out of range 0…4096"#),
        ("batching:\n  workers: 257\n", "batching.workers", #""257" is out of range 0…256"#),
        ("batching:\n  max_batch: 0\n", "batching.max_batch", #""0" is out of range 1…4096"#),
        ("batching:\n  max_batch: 4097\n", "batching.max_batch", #""4097" is out of range 1…4096"#),
        ("model:\n  lookahead: -1\n", "model.lookahead", "\"-1\" is out of range 0…\(Int.max)"),
        ("model:\n  lookahead: 1.5\n", "model.lookahead", #""1.5" is not a whole number"#),
        ("batching:\n  batch_wait: 5\n", "batching.batch_wait", #""5" is more than the maximum 1s"#),
        ("heartbeat_interval: 0\n", "heartbeat_interval", #""0" must be more than 0"#),
        ("streams:\n  end_grace: -5s\n", "streams.end_grace", #""-5s" is negative; a duration is 0 or more"#),
        ("model:\n  precision: fp16\n", "model.precision", #""fp16" is not one of fp32, bf16"#),
        ("reload:\n  policy: restart\n", "reload.policy", #""restart" is not one of replay, drain, reset"#),
        ("streams:\n  on_gap: skip\n", "streams.on_gap", #""skip" is not one of continue, reset"#),
        ("log_level: verbose\n", "log_level",
         #""verbose" is not one of trace, debug, info, notice, warning, error, critical"#),
        ("model:\n  partial: maybe\n", "model.partial", #""maybe" is not a boolean (use true or false)"#),
        ("streams:\n  idle_timeout:\n", "streams.idle_timeout", "has no value (leave the key out for the default)"),
        ("output:\n  hwm: ~\n", "output.hwm", "has no value (leave the key out for the default)"),
        ("input:\n  subscribe: []\n", "input.subscribe", #"subscribes to nothing; use [""] for every stream"#),
    ])
    func valueErrors(yaml: String, key: String, message: String) throws {
        let error = try loadError(yaml)
        #expect(error == ConfigError(key: key, message: message))
    }

    @Test(arguments: [
        ("input:\n  bind: tcp://127.0.0.1\n", "input.bind",
         #""tcp://127.0.0.1" needs a port after the host, as in tcp://127.0.0.1:5560"#),
        ("input:\n  bind: tcp://127.0.0.1:70000\n", "input.bind",
         #""tcp://127.0.0.1:70000" has an invalid port "70000" (0…65535)"#),
        ("output:\n  bind: tcp://:5561\n", "output.bind", #""tcp://:5561" has no host"#),
        ("output:\n  bind: udp://127.0.0.1:5561\n", "output.bind",
         #""udp://127.0.0.1:5561" uses an unsupported transport (use tcp://host:port, ipc://path or inproc://name)"#),
        ("control:\n  bind: 127.0.0.1:5562\n", "control.bind",
         #""127.0.0.1:5562" is not an endpoint (use tcp://host:port, ipc://path or inproc://name)"#),
        ("control:\n  bind: \"ipc://\"\n", "control.bind", #""ipc://" has no path"#),
        ("control:\n  bind: \"tcp://host name:1\"\n", "control.bind", #""tcp://host name:1" has an invalid host "host name""#),
        ("input:\n  connect: [\"tcp://*:5560\"]\n", "input.connect",
         #""tcp://*:5560" cannot be connected to: name the producer's host and port"#),
        ("input:\n  connect: [tcp://a:1, tcp://a:1]\n", "input.connect", #"lists "tcp://a:1" twice"#),
        ("metrics:\n  listen: localhost\n", "metrics.listen",
         #""localhost" needs a port after the host, as in 127.0.0.1:5563"#),
        ("metrics:\n  listen: \"::1:5563\"\n", "metrics.listen",
         #""::1:5563": write an IPv6 host in brackets, as in [::1]:5563"#),
        ("metrics:\n  listen: \"*:5563\"\n", "metrics.listen",
         #""*:5563" needs a host; use 0.0.0.0 for every IPv4 interface"#),
    ])
    func endpointErrors(yaml: String, key: String, message: String) throws {
        #expect(try loadError(yaml) == ConfigError(key: key, message: message))
    }

    @Test func validEndpointsLoad() throws {
        let config = try loadYAML("""
            security:
              allow_plaintext: true
            input:
              bind: "tcp://*:*"
            output:
              bind: "tcp://[::1]:5561"
            control:
              bind: "inproc://control"
            metrics:
              listen: "[::1]:0"
            """)
        #expect(config.input.bind == "tcp://*:*")
        #expect(try loadYAML("output:\n  bind: tcp://eth0:5561\nsecurity:\n  allow_plaintext: true\n").output.bind == "tcp://eth0:5561")
        let longPath = "ipc:///" + String(repeating: "x", count: EndpointSyntax.maxIPCPathBytes)
        #expect(try loadError("output:\n  bind: \"\(longPath)\"\n")
            == ConfigError(key: "output.bind", message: "\(longPath.quotedForMessage) has a path longer than 107 bytes"))
    }

    @Test func valuesFromTheEnvironmentAndCommandLineSaySo() throws {
        #expect(try loadError(nil, environment: ["STREAMTAG_STREAMS_IDLE_TIMEOUT": "soon"])?.description
            == #"config: streams.idle_timeout: "soon" is not a duration (use 600, "10m", "30s", "500ms") (from environment variable STREAMTAG_STREAMS_IDLE_TIMEOUT)"#)
        #expect(try loadError(nil, overrides: ["batching.workers": "many"])?.description
            == #"config: batching.workers: "many" is not a whole number (from the command line)"#)
        #expect(try loadError(nil, environment: ["STREAMTAG_INPUT_CONNECT": "tcp://a:1,,tcp://b:2"])
            == ConfigError(key: "input.connect", message: "has an empty endpoint (from environment variable STREAMTAG_INPUT_CONNECT)"))
    }

    @Test func unknownKeyInTheFileGetsASuggestion() throws {
        let error = try loadError("# typo below\nstreams:\n  idle_timout: 5m\n")
        #expect(error?.key == "streams.idle_timout")
        #expect(error?.message.hasPrefix("unknown key at line 3 of /") == true)
        #expect(error?.message.hasSuffix(".yaml (did you mean streams.idle_timeout?)") == true)
    }

    @Test(arguments: [
        ("streams.idleTimeout", "streams.idle_timeout"),
        ("streams.idle-timeout", "streams.idle_timeout"),
        ("input.no_drop", "output.no_drop"),
        ("idle_timeout", "streams.idle_timeout"),
        ("model.lookahaed", "model.lookahead"),
        ("STREAMTAG_STREAMS_IDLE_TIMOUT", nil),
    ])
    func suggestions(typo: String, expected: String?) {
        #expect(ConfigKeyCheck.suggestion(for: typo, among: DaemonConfig.settings.map(\.key)) == expected)
    }

    @Test func unknownKeyWithoutAnyLikelyMatch() throws {
        let error = try loadError("frobnicate: 1\n")
        #expect(error?.key == "frobnicate")
        #expect(error?.message.hasSuffix("(config/streamtag.yaml lists every setting)") == true)
    }

    @Test func sectionsAndSettingsInTheWrongShape() throws {
        let section = try loadError("streams: 5\n")
        #expect(section?.key == "streams")
        #expect(section?.message.hasPrefix("is a section; write its settings on indented lines below it (line 1 of") == true)
        let nested = try loadError("input:\n  hwm:\n    rcv: 5\n")
        #expect(nested?.key == "input.hwm.rcv")
        #expect(nested?.message.hasPrefix("input.hwm is a single setting, not a section (line 3 of") == true)
    }

    @Test func sameSettingTwiceIsRefused() throws {
        let error = try loadError("streams.idle_timeout: 1m\nstreams:\n  idle_timeout: 2m\n")
        #expect(error?.key == "streams.idle_timeout")
        #expect(error?.message.hasPrefix("set twice, lines 1 and 3 of") == true)
    }

    @Test func unknownOverrideKey() throws {
        #expect(try loadError(nil, overrides: ["streams.idle_timout": "5m"]) == ConfigError(
            key: "streams.idle_timout",
            message: "unknown key on the command line (did you mean streams.idle_timeout?)"))
    }

    @Test func unknownEnvironmentVariablesAreWarningsNotErrors() throws {
        let environment = ["STREAMTAG_STREAMS_IDLE_TIMOUT": "5m", "STREAMTAG_ISA": "avx2", "HOME": "/root"]
        #expect(try loadError(nil, environment: environment) == nil)
        #expect(DaemonConfig.environmentWarnings(environment) == [
            "environment variable STREAMTAG_STREAMS_IDLE_TIMOUT is not a streamtag setting (did you mean STREAMTAG_STREAMS_IDLE_TIMEOUT?)",
        ])
    }

    @Test func settingsThatDependOnEachOther() throws {
        #expect(try loadError("input:\n  max_message_bytes: 1MiB\n  max_zmq_message_bytes: 64KiB\n") == ConfigError(
            key: "input.max_zmq_message_bytes",
            message: "64KiB is below input.max_message_bytes (1MiB); ZeroMQ would drop messages the daemon should answer with too_large"))
        #expect(try loadError("control:\n  bind: tcp://127.0.0.1:5561\n") == ConfigError(
            key: "control.bind",
            message: #""tcp://127.0.0.1:5561" takes the same address as output.bind ("tcp://127.0.0.1:5561"); give each socket its own port"#))
        #expect(try loadError("metrics:\n  listen: 0.0.0.0:5560\n")?.key == "metrics.listen")
        // A connecting input binds nothing, and ephemeral ports never collide.
        #expect(try loadError("input:\n  connect: [tcp://p:1]\n  bind: tcp://127.0.0.1:5561\nsecurity:\n  allow_plaintext: true\n") == nil)
        #expect(try loadError("input:\n  bind: tcp://127.0.0.1:0\noutput:\n  bind: tcp://127.0.0.1:0\n") == nil)
    }

    @Test func missingFile() throws {
        #expect(try loadError(nil) == nil)
        #expect(throws: ConfigError(key: "", message: "/nonexistent/streamtag.yaml: no such file")) {
            try DaemonConfig.load(file: "/nonexistent/streamtag.yaml", environment: [:])
        }
    }

    @Test func directoryInsteadOfFile() throws {
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: ConfigError(key: "", message: "\(directory): is a directory, not a configuration file")) {
            try DaemonConfig.load(file: directory, environment: [:])
        }
    }

    @Test func fifoOrDeviceInsteadOfFileIsRefusedWithoutWaiting() throws {
        let fifo = FileManager.default.temporaryDirectory.path + "/streamtag-config-fifo-\(getpid())"
        #expect(mkfifo(fifo, 0o644) == 0)
        defer { unlink(fifo) }
        #expect(throws: ConfigError(key: "", message: "\(fifo) is not a regular file (a FIFO, socket or device)")) {
            try DaemonConfig.load(file: fifo, environment: [:])
        }
        #expect(throws: ConfigError(key: "", message: "/dev/zero is not a regular file (a FIFO, socket or device)")) {
            try DaemonConfig.load(file: "/dev/zero", environment: [:])
        }
    }

    @Test func invalidYAMLGivesTheLine() throws {
        let unclosed = try loadError("input:\n  bind: \"tcp://a:1\n  hwm: 5\n")
        #expect(unclosed?.key == "")
        #expect(unclosed?.message.hasSuffix(
            ".yaml: not valid YAML: line 4, column 1: while scanning a quoted scalar in line 2, column 9: found unexpected end of stream") == true)
        let badIndent = try loadError("input:\n  hwm: 5\n   max_batch: 3\n")
        #expect(badIndent?.message.hasSuffix(
            ".yaml: not valid YAML: line 3, column 13: mapping values are not allowed in this context") == true)
        let duplicate = try loadError("input:\n  hwm: 5\n  hwm: 6\n")
        #expect(duplicate?.message.hasSuffix(".yaml: not valid YAML: duplicate key 'hwm' (mapping in line 2, column 3)") == true)
    }

    @Test func notAConfiguration() throws {
        #expect(try loadError("- a\n- b\n")?.message.contains("not a valid configuration") == true)
        try withConfigFile("") { path in
            try Data([0x6C, 0x6F, 0x67, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: path))
            #expect(throws: ConfigError(key: "", message: "\(path): is not UTF-8 text")) {
                try DaemonConfig.load(file: path, environment: [:])
            }
        }
    }

    /// Keys are listed from Yams' own parse, so every YAML form of a mapping is checked and
    /// applied: flow mappings, anchors and aliases; an unknown key in any form is named.
    @Test func flowMappingsAndAliasesAreCheckedLikeBlocks() throws {
        let flow = try loadYAML("reload: {policy: drain}\n")
        #expect(flow.reload.policy == .drain)
        let aliased = try loadYAML("streams:\n  end_grace: &g 5s\n  idle_timeout: *g\n")
        #expect(aliased.streams.endGrace == .seconds(5) && aliased.streams.idleTimeout == .seconds(5))
        let typo = try loadError("reload: {polcy: drain}\n")
        #expect(typo?.key == "reload.polcy")
        #expect(typo?.message.contains("line 1") == true)
        #expect(try loadError("model: {}\nreload:\n  policy: drain\n") == nil, "an empty section is no key")
        // A value no setting can hold (a list of mappings) is refused, naming the key.
        #expect(try loadError("input:\n  connect:\n    - host: a\n")?.message.contains("input.connect") == true)
    }
}
