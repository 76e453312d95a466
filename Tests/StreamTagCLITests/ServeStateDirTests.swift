import Foundation
import StreamTagTestSupport
import Testing
import StreamTagDaemon

/// `streamtag serve` and its state directory: refused at start when it cannot be written, and
/// a failed shutdown snapshot makes the exit status non-zero with the reason in words.
@Suite(.serialized) struct ServeStateDirTests {
    static let binds = ["--set", "input.bind=tcp://127.0.0.1:*", "--set", "output.bind=tcp://127.0.0.1:*",
                        "--set", "control.bind=tcp://127.0.0.1:*", "--set", "metrics.listen="]

    @Test func stateDirUnderARegularFileRefusesToStart() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let result = try CLI.run(["serve"] + Self.binds + ["--set", "state_dir=\(file)/state"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("state_dir \(file)/state is not writable"), "\(result.stderr)")
        #expect(result.stderr.contains("Not a directory"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }

    @Test func failedShutdownSnapshotExitsNonZeroWithTheReason() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/state"
        let server = try ServeTests.Server(stateDir: state)
        try FileManager.default.removeItem(atPath: state)
        try Data("x".utf8).write(to: URL(fileURLWithPath: state))
        let (status, _) = server.terminate()
        #expect(status != 0, "\(server.log)")
        #expect(server.log.contains("snapshot failed"), "\(server.log)")
        #expect(server.log.contains("Not a directory"), "\(server.log)")
        #expect(server.log.contains("streams were not saved"), "\(server.log)")
    }
}
