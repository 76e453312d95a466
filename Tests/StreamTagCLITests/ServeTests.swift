import Foundation
import StreamTagTestSupport
import Testing
import StreamTagDaemon
import StreamTagClient

/// `streamtag serve` as a real process: signals, snapshots, restarts.
@Suite(.serialized) struct ServeTests {
    /// A running `streamtag serve` whose endpoints are read from its "started" log line.
    final class Server {
        let process = Process()
        let stderr = Pipe()
        var log = ""
        var input = "", output = "", control = ""

        /// With `unprivileged` and the tests running as root, the daemon runs as `nobody`
        /// (through `setpriv`), as under systemd's `DynamicUser`.
        init(stateDir: String, extra: [String] = [], unprivileged: Bool = false) throws {
            let arguments = ["serve", "--set", "input.bind=tcp://127.0.0.1:*", "--set", "output.bind=tcp://127.0.0.1:*",
                             "--set", "control.bind=tcp://127.0.0.1:*", "--set", "metrics.listen=",
                             "--set", "heartbeat_interval=100ms", "--set", "state_dir=\(stateDir)"] + extra
            if unprivileged && getuid() == 0 {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
                process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: CLI.binary)
                process.arguments = arguments
            }
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            guard waitForLog("started", timeout: stretched(20)),
                  let line = log.split(separator: "\n").first(where: { $0.contains("started") }) else {
                process.terminate()
                throw ClientError("serve did not start: \(log)")
            }
            input = Self.field("input", in: line)
            output = Self.field("output", in: line)
            control = Self.field("control", in: line)
        }

        /// Reads stderr until the log holds `text`; false after `timeout` seconds.
        func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            let fd = stderr.fileHandleForReading.fileDescriptor
            while !log.contains(text) {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return false }
                // Wait with a deadline: availableData alone would block for good if nothing comes.
                var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&item, 1, Int32(left * 1000) + 1) > 0 else { continue }
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { return log.contains(text) }
                log += String(decoding: chunk, as: UTF8.self)
            }
            return true
        }

        static func field(_ name: String, in line: Substring) -> String {
            guard let range = line.range(of: "\(name)=") else { return "" }
            return String(line[range.upperBound...].prefix { $0 != " " && $0 != "]" })
        }

        /// SIGTERM, then the exit status and the seconds it took.
        func terminate() -> (status: Int32, seconds: Double) {
            let start = Date()
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            log += String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, Date().timeIntervalSince(start))
        }
    }

    /// A daemon that is not root (systemd's `DynamicUser`) answers on its metrics endpoint and
    /// its WebSocket gateway. Both closed every connection as soon as it was accepted while
    /// TCP_NODELAY was set as a SOL_SOCKET option (that number there is SO_DEBUG, root only).
    @Test func anUnprivilegedDaemonAnswersHTTP() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(chmod(dir, 0o777) == 0)
        let server = try Server(stateDir: dir + "/state", extra: ["--set", "metrics.listen=127.0.0.1:0",
                                                                  "--set", "websocket.listen=127.0.0.1:0"],
                                unprivileged: true)
        defer { _ = server.terminate() }
        let lines = server.log.split(separator: "\n")
        let metrics = try #require(lines.first { $0.contains("metrics listening") }.map { Server.field("address", in: $0) })
        let gateway = try #require(lines.first { $0.contains("websocket gateway listening") }.map { Server.field("address", in: $0) })
        func get(_ url: String) throws -> (status: String, body: String) {
            let body = dir + "/body"
            let result = try CLI.runProgram("/usr/bin/curl", ["-s", "--max-time", "10", "-o", body, "-w", "%{http_code}", url])
            return (result.stdout, fileText(body))
        }
        #expect(try get("http://\(metrics)/healthz").status == "200")
        let page = try get("http://\(gateway)/")
        #expect(page.status == "200")
        #expect(page.body.contains("<title>streamtag live</title>"))
    }

    static let text = "I booked a flight to Boston for next Tuesday , but the airline cancelled it and I had to call them twice before they fixed it".split(separator: " ").map(String.init)

    @Test func sigtermMidStreamThenRestartContinuesExactly() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cut = 11

        let first = try Server(stateDir: dir)
        let client = try StreamClient(input: first.input, output: first.output)
        try client.follow("s")
        try client.waitForHeartbeat(timeout: 10)
        try client.publish(stream: "s", seq: 1, tokens: Array(Self.text[..<cut]))
        var finals: [(Int, String)] = []
        var stopping = false
        var answered = false
        while !answered, let m = try client.receive(timeout: 10) {
            if m.topic == "s", m.type == "tags" {
                finals += tags(m)
                answered = true
            }
        }
        let (status, seconds) = first.terminate()
        while let m = try client.receive(timeout: 1) { if m.event == "stopping" { stopping = true } }
        client.close()
        #expect(status == 0, "\(first.log)")
        #expect(seconds < 10)
        #expect(stopping, "stopping event published")
        #expect(first.log.contains("snapshot written"))

        let second = try Server(stateDir: dir)
        #expect(second.log.contains("snapshot restored"))
        let again = try StreamClient(input: second.input, output: second.output)
        try again.follow("s")
        try again.waitForHeartbeat(timeout: 10)
        try again.publish(stream: "s", seq: 2, tokens: Array(Self.text[cut...]), end: true)
        var ended = false
        while !ended, let m = try again.receive(timeout: 10) {
            guard m.topic == "s" else { continue }
            if m.type == "tags" { finals += tags(m) }
            if m.event == "end" { ended = true }
        }
        again.close()
        #expect(second.terminate().status == 0)

        // The uninterrupted stream, tagged offline as one sequence.
        let offline = try CLI.run(["tag", "--continuous"], stdin: Self.text.joined(separator: " ") + "\n")
        let expected = offline.stdout.split(separator: "\n").map { $0.split(separator: "\t")[1] }.map(String.init)
        #expect(finals.map(\.0) == Array(0..<Self.text.count))
        #expect(finals.map(\.1) == expected)
    }

    @Test func badConfigFailsWithTheKey() throws {
        let result = try CLI.run(["serve", "--set", "streams.idle_timeout=soon"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("streams.idle_timeout"), "\(result.stderr)")
    }

    @Test func damagedSnapshotIsSetAsideAndTheDaemonStartsEmpty() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/snapshot.bin"))
        let server = try Server(stateDir: dir)
        #expect(server.terminate().status == 0)
        #expect(server.log.contains("damaged"), "\(server.log)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names.contains { $0.hasPrefix("snapshot.bin.damaged-") })
    }

    private func tags(_ m: StreamClient.Received) -> [(Int, String)] {
        guard case .array(let list)? = m.body["tags"] else { return [] }
        return list.compactMap { t in
            guard case .integer(let i)? = t["i"], case .string(let tag)? = t["tag"] else { return nil }
            return (i, tag)
        }
    }
}
