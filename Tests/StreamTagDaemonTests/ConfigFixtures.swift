import Foundation
import Testing
@testable import StreamTagDaemon

/// Writes `text` to a new temporary file and returns its path.
func temporaryConfigFile(_ text: String, name: String = "streamtag.yaml") throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("streamtag-config-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// Loads `yaml` from a temporary file.
func loadYAML(_ yaml: String, environment: [String: String] = [:], overrides: [String: String] = [:])
    throws -> DaemonConfig
{
    try DaemonConfig.load(file: try temporaryConfigFile(yaml), environment: environment, overrides: overrides)
}
