import Testing
@testable import StreamTagDaemon

@Suite("Config value syntax: durations, sizes, the file's table of keys")
struct ConfigSyntaxTests {
    @Test(arguments: [
        ("600", Duration.seconds(600)),
        ("0", .zero),
        ("0.5", .milliseconds(500)),
        (".25", .milliseconds(250)),
        ("1.000000001", .nanoseconds(1_000_000_001)),
        ("500ms", .milliseconds(500)),
        ("30s", .seconds(30)),
        ("10m", .seconds(600)),
        ("1h", .seconds(3600)),
        ("1h30m", .seconds(5400)),
        ("1m30s", .seconds(90)),
        ("1.5s", .milliseconds(1500)),
        ("0.5ms", .microseconds(500)),
        (" 2s ", .seconds(2)),
    ])
    func durationsParse(text: String, expected: Duration) throws {
        #expect(try DurationSyntax.parse(text) == expected)
    }

    @Test(arguments: ["", "ten minutes", "10 m", "10min", "1d", "s", "1..5s", "1.2.3", "5ms5", "-5s", "1e3",
                      "99999999999999999999h"])
    func badDurationsFail(text: String) {
        #expect(throws: ValueProblem.self) { try DurationSyntax.parse(text) }
    }

    @Test(arguments: [
        (Duration.zero, "0"), (.seconds(600), "10m"), (.seconds(3600), "1h"), (.seconds(90), "90s"),
        (.milliseconds(1500), "1500ms"), (.microseconds(250), "0.000250000"), (.seconds(7200), "2h"),
    ])
    func durationsFormatAndReadBack(duration: Duration, text: String) throws {
        #expect(DurationSyntax.format(duration) == text)
        #expect(try DurationSyntax.parse(text) == duration)
    }

    @Test(arguments: [
        ("65536", 65_536), ("0", 0), ("1_000", 1_000), ("64KiB", 65_536), ("64kib", 65_536),
        ("16MiB", 16 << 20), ("1GiB", 1 << 30), ("2TiB", 2 << 40), ("512MB", 512_000_000),
        ("1KB", 1_000), ("3GB", 3_000_000_000), ("100B", 100), ("1.5KiB", 1536), ("1.5GiB", 3 << 29),
        ("64 KiB", 65_536),
    ])
    func sizesParse(text: String, expected: Int) throws {
        #expect(try ByteSizeSyntax.parse(text) == expected)
    }

    @Test(arguments: ["", "big", "64XB", "KiB", "1.3B", "1.", "-1", "1e6", "99999999999TiB", "1,024"])
    func badSizesFail(text: String) {
        #expect(throws: ValueProblem.self) { try ByteSizeSyntax.parse(text) }
    }

    @Test(arguments: [(65_536, "64KiB"), (1 << 30, "1GiB"), (100_000, "100000"), (0, "0"), (1536, "1536")])
    func sizesFormat(bytes: Int, text: String) throws {
        #expect(ByteSizeSyntax.format(bytes) == text)
        #expect(try ByteSizeSyntax.parse(text) == bytes)
    }

    @Test func fileTableFollowsBlockMappingsListsAndMultiLineScalars() throws {
        let yaml = """
            %YAML 1.2
            ---
            # comment
            input:   # trailing comment
              bind: "tcp://a:1"   # "quoted: with colon"
              connect:
              - tcp://b:2
              - tcp://c:3
              subscribe:
                - "x: y"
              "hwm": 5
            model:
              path: >
                /folded/
                path
              lookahead:
            reload:
              policy: 'it''s: fine'
            streams:
              idle_timeout: "multi
                line: no key here"
              end_grace:
                60s
            log_level: !!str info
            """
        let file = try ConfigFile(yaml: yaml, path: "test.yaml")
        #expect(file.entries.map { "\($0.key):\($0.line)" } == [
            "input.bind:5", "input.connect:6", "input.subscribe:9", "input.hwm:11", "model.path:13",
            "model.lookahead:16", "reload.policy:18", "streams.idle_timeout:20", "streams.end_grace:22",
            "log_level:24",
        ])
        #expect(file["input.connect"]?.raw == .list(["tcp://b:2", "tcp://c:3"]))
        #expect(file["input.subscribe"]?.raw == .list(["x: y"]))
        #expect(file["model.path"]?.raw == .scalar("/folded/ path\n"))
        #expect(file["model.lookahead"]?.raw == .scalar(""))
        #expect(file["reload.policy"]?.raw == .scalar("it's: fine"))
        #expect(file["streams.idle_timeout"]?.raw == .scalar("multi line: no key here"))
    }

    @Test func messagesQuoteValuesVisibly() {
        #expect("".quotedForMessage == #""""#)
        #expect("a\"b\\c\n".quotedForMessage == #""a\"b\\c\n""#)
        #expect("tab\there".yamlQuoted == #""tab\there""#)
    }
}
