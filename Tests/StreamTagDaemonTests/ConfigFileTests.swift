import Testing
@testable import StreamTagDaemon

/// The error `load` throws for `yaml` in a temporary file (nil when it loads), and the file's path.
private func loadError(_ yaml: String) throws -> (error: ConfigError?, path: String) {
    try withConfigFile(yaml) { path in
        do throws(ConfigError) {
            _ = try DaemonConfig.load(file: path, environment: [:])
            return (nil, path)
        } catch {
            return (error, path)
        }
    }
}

@Suite("The config file is one Yams parse into a table; environment and --set lie over it")
struct ConfigFileTests {
    @Test func tableHoldsEachLeafWithItsValueAndLine() throws {
        let file = try ConfigFile(yaml: "input:\n  hwm: 5\n  connect: [tcp://a:1, \"tcp://b:2\"]\nstreams.idle_timeout: ~\n",
                                  path: "test.yaml")
        #expect(file.entries.map(\.key) == ["input.hwm", "input.connect", "streams.idle_timeout"])
        #expect(file["input.hwm"] == ConfigFile.Entry(key: "input.hwm", raw: .scalar("5"), line: 2))
        #expect(file["input.connect"]?.raw == .list(["tcp://a:1", "tcp://b:2"]))
        #expect(file["streams.idle_timeout"]?.raw == .scalar("~"))
        #expect(file["input"] == nil, "a section is no leaf")
    }

    @Test func listOfMappingsIsRefusedWithItsLine() throws {
        let (error, path) = try loadError("# producers\ninput:\n  connect:\n    - host: a\n")
        #expect(error == ConfigError(key: "", message:
            "\(path): line 4: input.connect: cannot follow the YAML structure here; write plain `key: value` lines under each section"))
        let nested = try loadError("input:\n  subscribe: [a, [b]]\n")
        #expect(nested.error?.message == "\(nested.path): line 2: input.subscribe: cannot follow the YAML structure here; write plain `key: value` lines under each section")
    }

    @Test func keyThatIsNotAPlainNameIsRefused() throws {
        let (error, path) = try loadError("log_level: info\n? [a, b]\n: 1\n")
        #expect(error == ConfigError(key: "", message: "\(path): line 2: a key must be a plain name, not a list or mapping"))
    }

    @Test func fileMustBeAMapping() throws {
        let list = try loadError("- a\n- b\n")
        #expect(list.error?.message == "\(list.path): not a valid configuration: the file is a list; write `key: value` lines")
        let scalar = try loadError("hello\n")
        #expect(scalar.error?.message == "\(scalar.path): not a valid configuration: the file is a single value; write `key: value` lines")
        #expect(try loadYAML("~\n") == DaemonConfig())
        #expect(try loadYAML("---\n...\n") == DaemonConfig())
    }

    @Test func yamlErrorsKeepTheirWording() throws {
        let twoDocuments = try loadError("log_level: info\n---\nlog_level: debug\n")
        #expect(twoDocuments.error?.message.hasPrefix("\(twoDocuments.path): not valid YAML: line ") == true)
        #expect(twoDocuments.error?.message.contains("but found another document") == true)
        let undefined = try loadError("streams:\n  idle_timeout: *nope\n")
        #expect(undefined.error?.message == "\(undefined.path): not valid YAML: line 2, column 17: found undefined alias")
    }

    @Test func aliasedSectionsAreRead() throws {
        let config = try loadYAML("input: &sock {hwm: 7}\noutput: *sock\n")
        #expect(config.input.hwm == 7)
        #expect(config.output.hwm == 7)
    }

    @Test func aliasesCannotMultiplyKeysWithoutBound() throws {
        // Four levels of eight aliases of four keys: 16384 keys from a few lines.
        var yaml = "a: &a {p: 1, q: 1, r: 1, s: 1}\n"
        for (level, name) in ["b", "c", "d", "e"].enumerated() {
            let previous = ["a", "b", "c", "d"][level]
            let pairs = (0..<8).map { "k\($0): *\(previous)" }.joined(separator: ", ")
            yaml += "\(name): &\(name) {\(pairs)}\n"
        }
        let (error, path) = try loadError(yaml)
        #expect(error?.message.hasPrefix("\(path): line ") == true)
        #expect(error?.message.hasSuffix(": more than 10000 keys and list items (aliases repeating a section?)") == true)
    }

    @Test func environmentBeatsFileAndSetBeatsBoth() throws {
        let yaml = "streams:\n  idle_timeout: 20m\n"
        let variable = "STREAMTAG_STREAMS_IDLE_TIMEOUT"
        #expect(try loadYAML(yaml, environment: [variable: "5m"]).streams.idleTimeout == .seconds(300))
        // The winning source alone is read: a bad value below it is never parsed.
        #expect(try loadYAML(yaml, environment: [variable: "soon"], overrides: ["streams.idle_timeout": "90"])
            .streams.idleTimeout == .seconds(90))
        #expect(throws: ConfigError(key: "streams.idle_timeout", message: #""later" is not a duration (use 600, "10m", "30s", "500ms") (from the command line)"#)) {
            try loadYAML(yaml, environment: [variable: "5m"], overrides: ["streams.idle_timeout": "later"])
        }
    }

    @Test func environmentNamesAreExactAndListsAreTrimmed() throws {
        // Only the upper-case name is a setting's variable.
        #expect(try DaemonConfig.load(file: nil, environment: ["streamtag_log_level": "debug"]).logLevel == .info)
        let config = try DaemonConfig.load(file: nil, environment: [
            "STREAMTAG_INPUT_CONNECT": "tcp://a:1,\n\ttcp://b:2 ", "STREAMTAG_SECURITY_ALLOW_PLAINTEXT": "true",
        ])
        #expect(config.input.connect == ["tcp://a:1", "tcp://b:2"])
        #expect(ConfigSources.splitList("") == [""])
        #expect(ConfigSources.splitList(" a ,, b") == ["a", "", "b"])
    }

    @Test func environmentVariableNamesAreDistinctShellNames() {
        let names = DaemonConfig.settings.map(\.environmentVariable)
        #expect(Set(names).count == names.count, "two keys share a variable")
        for name in names {
            #expect(name.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }, "\(name)")
        }
    }
}
