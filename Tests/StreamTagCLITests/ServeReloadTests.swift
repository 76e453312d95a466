import Foundation
import StreamTagTestSupport
import Testing
import StreamTagDaemon

/// `streamtag serve --config FILE` re-reads the file on a real SIGHUP.
@Suite(.serialized) struct ServeReloadTests {
    @Test func sighupRereadsTheConfigFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/streamtag.yaml"
        try "streams:\n  idle_timeout: 10m\nlog_level: info\n".write(toFile: file, atomically: true, encoding: .utf8)
        let server = try ServeTests.Server(stateDir: dir + "/state", extra: ["--config", file])
        defer { if server.process.isRunning { _ = server.terminate() } }

        try "streams:\n  idle_timeout: 5m\ninput:\n  hwm: 5000\nlog_level: debug\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(server.waitForLog("config reloaded: streams.idle_timeout 10m -> 5m, log_level info -> debug"), "\(server.log)")
        #expect(server.waitForLog("input.hwm 100000 -> 5000"), "\(server.log)")

        try "streams:\n  idle_timeout: soon\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(server.waitForLog("config reload failed; the running configuration is unchanged: config: streams.idle_timeout:"), "\(server.log)")
        #expect(server.process.isRunning)
        #expect(server.terminate().status == 0, "\(server.log)")
    }
}
