import Foundation
import StreamTagTestSupport
import Testing

/// `streamtag serve` as systemd runs it: NOTIFY_SOCKET and WATCHDOG_USEC in its environment,
/// SIGHUP to reload, SIGTERM to stop.
@Suite(.serialized) struct SystemdServeTests {
    /// `streamtag serve` on free loopback ports with `environment` added to ours.
    static func serve(_ arguments: [String], environment: [String: String], stateDir: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--set", "input.bind=tcp://127.0.0.1:*", "--set", "output.bind=tcp://127.0.0.1:*",
                             "--set", "control.bind=tcp://127.0.0.1:*", "--set", "metrics.listen=",
                             "--set", "state_dir=\(stateDir)"] + arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A small model file, trained by the binary.
    static func trainToyModel(in dir: String) throws -> String {
        try toyCoNLLU(sentences: 30, seed: 3).write(toFile: dir + "/train.conllu", atomically: true, encoding: .utf8)
        let model = dir + "/toy.safetensors"
        let train = try CLI.run(["train", "--train", dir + "/train.conllu", "--dev", dir + "/train.conllu", "--out", model,
                                 "--name", "toy", "--embedding-dim", "8", "--hidden-dim", "8", "--lookahead", "1",
                                 "--epochs", "1", "--batch-size", "4", "--chunk-length", "8", "--min-count", "1"])
        #expect(train.status == 0, "\(train.stderr)")
        return model
    }

    @Test func serveNotifiesSystemd() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.trainToyModel(in: dir)
        let receiver = try NotifyReceiver(abstract: true)
        defer { receiver.close() }
        let log = dir + "/serve.log"
        let process = try Self.serve(["--model", model], environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "400000"],
                                     stateDir: dir + "/state", log: log)
        defer { if process.isRunning { process.terminate() } }
        func serveLog() -> String { fileText(log) }

        let ready = try #require(receiver.wait(for: "READY", value: "1", timeout: stretched(20)), "no READY=1: \(serveLog())")
        #expect(ready.fields["STATUS"]?.hasPrefix("serving toy@") == true)
        Thread.sleep(forTimeInterval: 1.2)
        // WATCHDOG_USEC=400000: a ping every 0.2 s.
        #expect(receiver.pings.count >= 4, "\(receiver.pings.count) pings")

        // SIGHUP (systemctl reload): RELOADING=1 with the time, then READY=1 (the file is the same).
        kill(process.processIdentifier, SIGHUP)
        let reloading = try #require(receiver.wait(for: "RELOADING", value: "1", after: ready.time, timeout: stretched(20)), "\(serveLog())")
        #expect(reloading.fields["MONOTONIC_USEC"].flatMap { UInt64($0) } != nil)
        #expect(receiver.wait(for: "READY", value: "1", after: reloading.time, timeout: stretched(20)) != nil)

        // SIGTERM (systemctl stop): STOPPING=1, exit 0.
        kill(process.processIdentifier, SIGTERM)
        #expect(receiver.wait(for: "STOPPING", value: "1", after: reloading.time, timeout: stretched(20)) != nil)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(serveLog())")
    }

    @Test func anotherProcessesWatchdogIsNotOurs() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try NotifyReceiver(abstract: true)
        defer { receiver.close() }
        // WATCHDOG_PID names another process (a parent's variables leaked into ours): no pings.
        let process = try Self.serve([], environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "200000",
                                                       "WATCHDOG_PID": "\(getpid())"],
                                     stateDir: dir + "/state", log: dir + "/serve.log")
        defer { if process.isRunning { process.terminate() } }
        #expect(receiver.wait(for: "READY", value: "1", timeout: stretched(20)) != nil)
        Thread.sleep(forTimeInterval: 0.6)
        #expect(receiver.pings.isEmpty)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
