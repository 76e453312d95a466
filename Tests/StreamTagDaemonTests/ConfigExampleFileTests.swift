import Foundation
import Testing
@testable import StreamTagDaemon

/// `config/streamtag.yaml` in this checkout.
private let exampleFile = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("config/streamtag.yaml").path

/// Dotted snake-case keys of every stored property of `value`, walking the section structs.
private func propertyKeys(of value: Any, prefix: String = "") -> [String] {
    Mirror(reflecting: value).children.flatMap { child -> [String] in
        let key = prefix + snakeCase(child.label ?? "?")
        let mirror = Mirror(reflecting: child.value)
        // Section structs hold settings; Duration is a struct too, but a value.
        if mirror.displayStyle == .struct && !(child.value is Duration) {
            return propertyKeys(of: child.value, prefix: key + ".")
        }
        return [key]
    }
}

/// `maxZMQMessageBytes` → `max_zmq_message_bytes`.
private func snakeCase(_ name: String) -> String {
    let chars = Array(name)
    var out = ""
    for (i, char) in chars.enumerated() {
        let previousLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
        let acronymEnds = i > 0 && chars[i - 1].isUppercase && i + 1 < chars.count && chars[i + 1].isLowercase
        if char.isUppercase && (previousLower || acronymEnds) { out += "_" }
        out += char.lowercased()
    }
    return out
}

@Suite("The committed config/streamtag.yaml")
struct ConfigExampleFileTests {
    @Test func exampleFileEqualsTheDefaults() throws {
        let loaded = try DaemonConfig.load(file: exampleFile, environment: [:])
        // Compared as text too, so that a drift shows as a readable line diff.
        #expect(loaded.describe() == DaemonConfig().describe())
        #expect(loaded == DaemonConfig())
        // Under systemd the file leaves state_dir to $STATE_DIRECTORY.
        let systemd = try DaemonConfig.load(file: exampleFile, environment: ["STATE_DIRECTORY": "/var/lib/streamtag"])
        #expect(systemd.stateDir == "/var/lib/streamtag")
    }

    @Test func everyStructPropertyIsASettingAndIsInTheFile() throws {
        let properties = propertyKeys(of: DaemonConfig())
        let settings = DaemonConfig.settings.map(\.key)
        #expect(properties.count == settings.count)
        #expect(Set(properties) == Set(settings))
        #expect(Set(settings).count == settings.count)

        let text = try String(contentsOfFile: exampleFile, encoding: .utf8)
        let fileKeys = try ConfigFile(yaml: text, path: exampleFile).entries.map(\.key)
        // Same keys, same order: the file reads like `describe()`.
        #expect(fileKeys == settings)
    }

    @Test func everySettingHasACommentInTheFile() throws {
        let lines = try String(contentsOfFile: exampleFile, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let entries = try ConfigFile(yaml: lines.joined(separator: "\n"), path: exampleFile).entries
        for entry in entries {
            let above = lines[entry.line - 2].trimmingCharacters(in: .whitespaces)
            #expect(above.hasPrefix("#"), "no comment above \(entry.key)")
        }
    }

    @Test func keyReferenceListsEnvironmentVariables() {
        let keys = DaemonConfig.keys
        #expect(keys.count == DaemonConfig.settings.count)
        let idle = keys.first { $0.key == "streams.idle_timeout" }
        #expect(idle?.environmentVariable == "STREAMTAG_STREAMS_IDLE_TIMEOUT")
        #expect(idle?.defaultValue == "10m")
        #expect(keys.first { $0.key == "input.connect" }?.environmentVariable == "STREAMTAG_INPUT_CONNECT")
        #expect(keys.first { $0.key == "log_level" }?.environmentVariable == "STREAMTAG_LOG_LEVEL")
        let table = DaemonConfig.keyReference()
        #expect(table.contains("| `streams.idle_timeout` | `STREAMTAG_STREAMS_IDLE_TIMEOUT` | `10m` |"))
        #expect(table.split(separator: "\n").count == keys.count + 2)
    }

    @Test func describeListsEverySettingInFileOrder() throws {
        let keys = try ConfigFile(yaml: DaemonConfig().describe(), path: "describe()").entries.map(\.key)
        #expect(keys == DaemonConfig.settings.map(\.key))
    }
}
