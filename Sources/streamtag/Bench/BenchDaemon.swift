import Foundation
import StreamTagZMQ
import StreamTagWire
import StreamTagClient
#if canImport(Glibc)
import Glibc
#endif

/// The daemon under test: `streamtag serve` of this very binary, as a child process with a
/// temporary config on free loopback ports. A separate process keeps the measurement honest:
/// its RSS, CPU time and threads are the daemon's alone (the load generator runs in the
/// parent), and a profiler can attach to its pid. The ports and the state directory are fixed
/// for the object's life, so a fault drill can kill the daemon and start it again on them.
final class DaemonProcess {
    let directory: String
    let configPath: String
    let logPath: String
    let input: String
    let output: String
    let control: String
    /// `HOST:PORT` of the metrics listener; empty (as in the config) when the daemon serves none.
    let metricsAddress: String
    /// The keys of a client allowed on every socket, when the daemon runs CURVE.
    let clientSecurity: ClientSecurity?
    /// `--set KEY=VALUE` settings passed on every start.
    private let settings: [String]
    private(set) var process: Process?

    var pid: Int32 { process?.processIdentifier ?? -1 }

    /// The daemon of `bench e2e` and `bench gateway`, started at once: snapshots only at
    /// shutdown (a periodic one would write every stream's state mid-run), no metrics listener,
    /// no model watching: nothing but the data path. With `curve`, see `init(tag:stateDir:yaml:…)`.
    convenience init(settings: [String], tag: String, curve: Bool = false) throws {
        try self.init(tag: "e2e-\(tag)", yaml: "snapshot_interval: 0\nmodel:\n  watch: false", settings: settings,
                      metrics: false, logLevel: "warning", curve: curve)
        try start()
    }

    /// Writes the configuration; `start` runs the daemon. `yaml` holds extra top-level lines
    /// (`snapshot_interval: 1s`, `model:` blocks, …); `settings` go on the command line. The
    /// state directory is `stateDir`, or `DIRECTORY/state`. With `curve`, the daemon gets a
    /// fresh server key and one allowed client key (in `security.control_clients`, so the same
    /// key works on every socket): `clientSecurity`.
    init(tag: String, stateDir: String? = nil, yaml: String, settings: [String] = [], metrics: Bool = true,
         logLevel: String = "info", curve: Bool = false) throws {
        directory = NSTemporaryDirectory() + "streamtag-\(getpid())-\(tag)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try (0..<(metrics ? 4 : 3)).map { _ in try freeLoopbackPort() }
        input = "tcp://127.0.0.1:\(ports[0])"
        output = "tcp://127.0.0.1:\(ports[1])"
        control = "tcp://127.0.0.1:\(ports[2])"
        metricsAddress = metrics ? "127.0.0.1:\(ports[3])" : ""
        self.settings = settings
        let security = try curve ? Self.writeKeys(directory + "/keys") : nil
        clientSecurity = security?.client
        let config = """
        input:
          bind: "\(input)"
        output:
          bind: "\(output)"
        control:
          bind: "\(control)"
        metrics:
          listen: "\(metricsAddress)"
        state_dir: "\(stateDir ?? directory + "/state")"
        log_level: \(logLevel)
        \(yaml)

        """
        configPath = directory + "/streamtag.yaml"
        try (config + (security?.yaml ?? "")).write(toFile: configPath, atomically: true, encoding: .utf8)
        logPath = directory + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    /// Starts the daemon and waits until its control socket answers `status`; returns the
    /// seconds that took. Throws if it exits first or does not answer within `timeout`.
    @discardableResult
    func start(timeout: Double = 60) throws -> Double {
        let started = monotonicSeconds()
        let process = try launch()
        while true {
            if !process.isRunning {
                throw BenchError("the daemon exited (status \(Self.reap(process))) before it was ready:\n\(logTail())")
            }
            if let answer = ctl([("cmd", .string("status"))], timeout: 1), case .bool(true)? = answer["ok"] {
                return monotonicSeconds() - started
            }
            if monotonicSeconds() - started > timeout {
                kill9()
                throw BenchError("the daemon did not answer on \(control) within \(Int(timeout)) s:\n\(logTail())")
            }
            usleep(20_000)
        }
    }

    /// Starts the daemon without waiting; for starts that are expected to fail.
    /// Returns the exit status if it exits within `timeout`, else nil (it is still running).
    func startExpectingExit(timeout: Double) throws -> Int32? {
        let process = try launch()
        let deadline = monotonicSeconds() + timeout
        while process.isRunning && monotonicSeconds() < deadline { usleep(20_000) }
        return process.isRunning ? nil : Self.reap(process)
    }

    /// Runs `streamtag serve`; every start's log is appended to the same file.
    private func launch() throws -> Process {
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: currentExecutable())
        process.arguments = ["serve", "--config", configPath] + settings.flatMap { ["--set", $0] }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        return process
    }

    /// SIGTERM (the daemon finishes, snapshots and exits) or SIGKILL (when the shutdown
    /// snapshot is not worth writing, e.g. 100,000 idle streams); SIGKILL after 20 s anyway.
    func stop(graceful: Bool = true) {
        if graceful { _ = terminate(timeout: 20) } else { kill9() }
    }

    /// `kill -9`, and waits for the process to be gone.
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM; waits up to `timeout` s for the exit and returns its status (nil: it did not
    /// exit in time and was killed).
    func terminate(timeout: Double = 30) -> Int32? {
        guard let process else { return nil }
        guard process.isRunning else { return Self.reap(process) }
        kill(process.processIdentifier, SIGTERM)
        let deadline = monotonicSeconds() + timeout
        while process.isRunning && monotonicSeconds() < deadline { usleep(20_000) }
        if process.isRunning {
            kill9()
            return nil
        }
        return Self.reap(process)
    }

    /// The exit status of a process seen to have exited. `waitUntilExit` returns at once then,
    /// but it also runs this thread's run loop, where Foundation's exit handling lets go of the
    /// `Process` (without it, the process object and its pipes stay held in a cycle, which
    /// LeakSanitizer reports at exit).
    private static func reap(_ process: Process) -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A control request; nil when the daemon does not answer within `timeout`.
    func ctl(_ fields: [(key: String, value: JSONValue)], timeout: Double = 5) -> JSONValue? {
        try? controlRequest(.object(fields), endpoint: control, timeout: timeout, security: clientSecurity)
    }

    /// Streams open, as the control `status` says.
    func openStreams() -> Int? {
        guard case .integer(let n)? = ctl([("cmd", .string("status"))])?["streams"] else { return nil }
        return n
    }

    /// Every open stream's last accepted `seq`, position (tokens run) and tokens queued, not
    /// run yet (control `streams`).
    func streamPositions(limit: Int) -> [String: (seq: Int, position: Int, queued: Int)]? {
        guard let answer = ctl([("cmd", .string("streams")), ("limit", .integer(limit))], timeout: 10),
              case .array(let list)? = answer["streams"] else { return nil }
        var out: [String: (seq: Int, position: Int, queued: Int)] = [:]
        for item in list {
            guard case .string(let id)? = item["id"], case .integer(let seq)? = item["seq"],
                  case .integer(let position)? = item["position"], case .integer(let queued)? = item["queued_tokens"] else { continue }
            out[id] = (seq, position, queued)
        }
        return out
    }

    /// A server key and a client key (allowed on every socket) under `directory`, and the
    /// config section that uses them.
    private static func writeKeys(_ directory: String) throws -> (client: ClientSecurity, yaml: String) {
        let allowed = directory + "/control"
        try FileManager.default.createDirectory(atPath: allowed, withIntermediateDirectories: true)
        func make(_ name: String, _ dir: String) throws -> Certificate {
            let pair = try CurveKey.generatePair()
            let certificate = Certificate(publicKey: pair.public, secretKey: pair.secret)
            try CertificateFile.write(certificate, name: name, directory: dir)
            return certificate
        }
        let server = try make("server", directory)
        let client = try make("bench", allowed)
        // The allowed directory holds public certificates only.
        try FileManager.default.removeItem(atPath: allowed + "/bench.key_secret")
        let yaml = """
        security:
          server_key: "\(directory)/server.key_secret"
          control_clients: "\(allowed)"

        """
        return (ClientSecurity(publicKey: client.publicKey, secretKey: client.secretKey!, serverKey: server.publicKey), yaml)
    }

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Everything the daemon logged so far. Through `FileHandle`: Foundation's whole-file
    /// readers leak 4 KiB on each read of an empty file, and a fresh log is empty.
    var log: String {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    func logTail(_ bytes: Int = 2000) -> String {
        String(log.suffix(bytes))
    }
}
