import Foundation
import Synchronization
import Testing

/// `streamtag serve` as systemd runs it: NOTIFY_SOCKET and WATCHDOG_USEC in its environment,
/// SIGHUP to reload, SIGTERM to stop.
@Suite(.serialized) struct SystemdServeTests {
    /// systemd's end of the notify socket: an abstract AF_UNIX datagram socket read on a thread.
    final class Receiver: @unchecked Sendable {
        let name = "@streamtag-cli-notify-\(UUID().uuidString.prefix(8))"
        private let fd: Int32
        private let received = Mutex<[(time: Date, fields: [String: String])]>([])
        private let running = Atomic<Bool>(true)
        private let done = DispatchSemaphore(value: 0)

        init() throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = [0] + Array(name.utf8.dropFirst())
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
            let rc = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard fd >= 0, rc == 0 else { throw CocoaError(.fileWriteUnknown) }
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while running.load(ordering: .relaxed) {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard n > 0 else { continue }
                    var fields: [String: String] = [:]
                    for line in String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n") {
                        guard let eq = line.firstIndex(of: "=") else { continue }
                        fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
                    }
                    received.withLock { $0.append((Date(), fields)) }
                }
                done.signal()
            }
            thread.start()
        }

        func close() {
            running.store(false, ordering: .relaxed)
            done.wait()
            _ = Glibc.close(fd)
        }

        var messages: [(time: Date, fields: [String: String])] { received.withLock { $0 } }

        /// The index of the first message from `start` on with `key=value`.
        func wait(for key: String, _ value: String, from start: Int = 0, timeout: Double = 20) -> Int? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let all = messages
                if let i = all.indices.first(where: { $0 >= start && all[$0].fields[key] == value }) { return i }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }

        var pings: Int { messages.filter { $0.fields["WATCHDOG"] == "1" }.count }
    }

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
        let receiver = try Receiver()
        defer { receiver.close() }
        let log = dir + "/serve.log"
        let process = try Self.serve(["--model", model], environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "400000"],
                                     stateDir: dir + "/state", log: log)
        defer { if process.isRunning { process.terminate() } }
        func serveLog() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        let ready = try #require(receiver.wait(for: "READY", "1"), "no READY=1: \(serveLog())")
        #expect(receiver.messages[ready].fields["STATUS"]?.hasPrefix("serving toy@") == true)
        Thread.sleep(forTimeInterval: 1.2)
        // WATCHDOG_USEC=400000: a ping every 0.2 s.
        #expect(receiver.pings >= 4, "\(receiver.pings) pings")

        // SIGHUP (systemctl reload): RELOADING=1 with the time, then READY=1 (the file is the same).
        kill(process.processIdentifier, SIGHUP)
        let reloading = try #require(receiver.wait(for: "RELOADING", "1", from: ready + 1), "\(serveLog())")
        #expect(receiver.messages[reloading].fields["MONOTONIC_USEC"].flatMap { UInt64($0) } != nil)
        #expect(receiver.wait(for: "READY", "1", from: reloading + 1) != nil)

        // SIGTERM (systemctl stop): STOPPING=1, exit 0.
        kill(process.processIdentifier, SIGTERM)
        #expect(receiver.wait(for: "STOPPING", "1", from: reloading) != nil)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(serveLog())")
    }

    @Test func anotherProcessesWatchdogIsNotOurs() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try Receiver()
        defer { receiver.close() }
        // WATCHDOG_PID names another process (a parent's variables leaked into ours): no pings.
        let process = try Self.serve([], environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "200000",
                                                       "WATCHDOG_PID": "\(getpid())"],
                                     stateDir: dir + "/state", log: dir + "/serve.log")
        defer { if process.isRunning { process.terminate() } }
        #expect(receiver.wait(for: "READY", "1") != nil)
        Thread.sleep(forTimeInterval: 0.6)
        #expect(receiver.pings == 0)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
