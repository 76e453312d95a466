import Foundation
import StreamTagDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The daemon under test: `streamtag serve` of this very binary, as a child process with a
/// temporary config on free loopback ports. A separate process keeps the measurement honest:
/// its RSS, CPU time and threads are the daemon's alone (the load generator runs in the
/// parent), and a profiler can attach to its pid.
final class DaemonProcess {
    let process: Process
    let directory: String
    let logPath: String
    let input: String
    let output: String
    let control: String
    /// The keys of a client allowed on every socket, when the daemon runs CURVE.
    let clientSecurity: ClientSecurity?

    var pid: Int32 { process.processIdentifier }

    /// Starts the daemon and waits until its control socket answers. With `curve`, the daemon
    /// gets a fresh server key and one allowed client key (in `security.control_clients`, so
    /// the same key works on every socket): `clientSecurity`.
    init(settings: [String], tag: String, curve: Bool = false) throws {
        directory = NSTemporaryDirectory() + "streamtag-e2e-\(getpid())-\(tag)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try (0..<3).map { _ in try freeLoopbackPort() }
        input = "tcp://127.0.0.1:\(ports[0])"
        output = "tcp://127.0.0.1:\(ports[1])"
        control = "tcp://127.0.0.1:\(ports[2])"
        // Snapshots only at shutdown (a periodic one would write every stream's state mid-run),
        // no metrics listener, no model watching: nothing but the data path.
        let config = """
        input:
          bind: "\(input)"
        output:
          bind: "\(output)"
        control:
          bind: "\(control)"
        metrics:
          listen: ""
        model:
          watch: false
        snapshot_interval: 0
        state_dir: "\(directory)/state"
        log_level: warning

        """
        let security = try curve ? Self.writeKeys(directory + "/keys") : nil
        clientSecurity = security?.client
        let configPath = directory + "/streamtag.yaml"
        try (config + (security?.yaml ?? "")).write(toFile: configPath, atomically: true, encoding: .utf8)
        logPath = directory + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))

        process = Process()
        process.executableURL = URL(fileURLWithPath: currentExecutable())
        process.arguments = ["serve", "--config", configPath] + settings.flatMap { ["--set", $0] }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let deadline = Date().addingTimeInterval(60)
        while true {
            if !process.isRunning {
                throw BenchError("the daemon exited (status \(process.terminationStatus)) before it was ready:\n\(logTail())")
            }
            if let answer = try? controlRequest(.object([("cmd", .string("status"))]), endpoint: control, timeout: 1,
                                                security: clientSecurity),
               case .bool(true)? = answer["ok"] {
                break
            }
            if Date() > deadline {
                stop(graceful: false)
                throw BenchError("the daemon did not answer on \(control) within 60 s:\n\(logTail())")
            }
            usleep(50_000)
        }
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

    /// Streams open, as the control `status` says.
    func openStreams() -> Int? {
        guard let answer = try? controlRequest(.object([("cmd", .string("status"))]), endpoint: control, timeout: 5,
                                               security: clientSecurity),
              case .integer(let n)? = answer["streams"] else { return nil }
        return n
    }

    /// SIGTERM (the daemon finishes, snapshots and exits) or SIGKILL (when the shutdown
    /// snapshot is not worth writing, e.g. 100,000 idle streams); SIGKILL after 20 s anyway.
    func stop(graceful: Bool = true) {
        guard process.isRunning else { return }
        kill(pid, graceful ? SIGTERM : SIGKILL)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func logTail(_ bytes: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// This executable's path.
func currentExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// A TCP port on 127.0.0.1 that is free right now (the kernel picks it; the socket is closed
/// again, and the daemon binds it a moment later).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BenchError("bind() failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw BenchError("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

// MARK: - /proc

/// `VmRSS` and `VmHWM` of a process, in bytes.
func processMemory(_ pid: Int32) -> (rss: Int, peak: Int) {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
    var rss = 0, peak = 0
    for line in text.split(separator: "\n") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let kib = Int(parts[1]) else { continue }
        if parts[0] == "VmRSS:" { rss = kib * 1024 }
        if parts[0] == "VmHWM:" { peak = kib * 1024 }
    }
    return (rss, peak)
}

/// One thread's scheduler statistics (`/proc/PID/task/TID/schedstat`, nanosecond counters).
struct ThreadSample {
    var name: String
    /// Seconds on a CPU.
    var seconds: Double
    /// Seconds runnable but waiting for a CPU (run-queue delay).
    var waiting: Double
}

/// Every thread of a process, by thread id.
func threadTimes(_ pid: Int32) -> [Int: ThreadSample] {
    var out: [Int: ThreadSample] = [:]
    guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [:] }
    for tid in tids {
        guard let id = Int(tid),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8),
              let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8) else { continue }
        let fields = stat.split(separator: " ")
        guard fields.count >= 2, let run = Double(fields[0]), let wait = Double(fields[1]) else { continue }
        out[id] = ThreadSample(name: comm.trimmingCharacters(in: .whitespacesAndNewlines), seconds: run / 1e9, waiting: wait / 1e9)
    }
    return out
}

/// CPU seconds per thread group between two samples of `threadTimes`, and the run-queue
/// wait of all threads together.
func cpuByGroup(from before: [Int: ThreadSample], to after: [Int: ThreadSample]) -> (cpu: [String: Double], waiting: Double) {
    var groups: [String: Double] = [:]
    var waiting = 0.0
    for (tid, sample) in after {
        let delta = sample.seconds - (before[tid]?.seconds ?? 0)
        waiting += max(0, sample.waiting - (before[tid]?.waiting ?? 0))
        guard delta > 0 else { continue }
        groups[threadGroup(sample.name), default: 0] += delta
    }
    return (groups, waiting)
}

/// Daemon threads by role: the I/O thread, the workers, libzmq's I/O threads, the rest.
func threadGroup(_ name: String) -> String {
    if name.hasPrefix("streamtag-io") { return "io" }
    if name.hasPrefix("streamtag-wk") { return "workers" }
    if name.hasPrefix("ZMQbg/IO") { return "zmq_io" }
    return "other"
}

/// `/proc/loadavg`'s first three numbers.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
