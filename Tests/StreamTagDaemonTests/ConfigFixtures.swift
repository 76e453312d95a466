import Foundation
import Testing
@testable import StreamTagDaemon

/// Runs `body` with the path of a new temporary file holding `text`; the file and its
/// directory are removed afterwards.
func withConfigFile<T>(_ text: String, name: String = "streamtag.yaml", _ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("streamtag-config-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return try body(url.path)
}

/// Loads `yaml` from a temporary file.
func loadYAML(_ yaml: String, environment: [String: String] = [:], overrides: [String: String] = [:])
    throws -> DaemonConfig
{
    try withConfigFile(yaml) { try DaemonConfig.load(file: $0, environment: environment, overrides: overrides) }
}
