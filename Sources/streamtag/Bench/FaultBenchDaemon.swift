import Foundation
import StreamTagDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The daemon of a fault drill or soak: `streamtag serve` of this binary as a child process,
/// on free loopback ports fixed for its whole life, so that it can be killed and started again
/// on the same ports and the same state directory (`DaemonProcess` of `bench e2e` makes a
/// fresh directory per daemon). Metrics are served too (soak scrapes, health checks).
final class DrillDaemon {
    let directory: String
    let configPath: String
    let logPath: String
    let input: String
    let output: String
    let control: String
    let metricsAddress: String
    private(set) var process: Process?
    /// Restarts so far (the log of each start is appended to the same file).
    private(set) var starts = 0

    var pid: Int32 { process?.processIdentifier ?? -1 }
    var isRunning: Bool { process?.isRunning ?? false }

    /// Writes the configuration: `settings` are extra YAML lines at the top level
    /// (`snapshot_interval: 1s`, `model:` blocks, …). The state directory is `stateDir`, or
    /// `DIRECTORY/state`.
    init(tag: String, stateDir: String? = nil, yaml: String = "") throws {
        directory = NSTemporaryDirectory() + "streamtag-drill-\(getpid())-\(tag)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try (0..<4).map { _ in try freeLoopbackPort() }
        input = "tcp://127.0.0.1:\(ports[0])"
        output = "tcp://127.0.0.1:\(ports[1])"
        control = "tcp://127.0.0.1:\(ports[2])"
        metricsAddress = "127.0.0.1:\(ports[3])"
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
        log_level: info
        \(yaml)

        """
        configPath = directory + "/streamtag.yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        logPath = directory + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    /// Starts the daemon and waits until its control socket answers `status`; returns the
    /// seconds that took. Throws if it exits first or does not answer within `timeout`.
    @discardableResult
    func start(timeout: Double = 60) throws -> Double {
        let started = monotonicSeconds()
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: currentExecutable())
        process.arguments = ["serve", "--config", configPath]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        starts += 1
        while true {
            if !process.isRunning {
                throw BenchError("the daemon exited (status \(process.terminationStatus)) before it was ready:\n\(logTail())")
            }
            if let answer = try? controlRequest(.object([("cmd", .string("status"))]), endpoint: control, timeout: 1),
               case .bool(true)? = answer["ok"] {
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
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: currentExecutable())
        process.arguments = ["serve", "--config", configPath]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        starts += 1
        let deadline = monotonicSeconds() + timeout
        while process.isRunning && monotonicSeconds() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
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
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = monotonicSeconds() + timeout
        while process.isRunning && monotonicSeconds() < deadline { usleep(20_000) }
        if process.isRunning {
            kill9()
            return nil
        }
        return process.terminationStatus
    }

    func signal(_ number: Int32) {
        if let process, process.isRunning { kill(process.processIdentifier, number) }
    }

    /// A control request; nil when the daemon does not answer within `timeout`.
    func ctl(_ fields: [(key: String, value: JSONValue)], timeout: Double = 5) -> JSONValue? {
        try? controlRequest(.object(fields), endpoint: control, timeout: timeout)
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

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    var log: String {
        String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
    }

    func logTail(_ bytes: Int = 2000) -> String {
        String(log.suffix(bytes))
    }
}

/// Open file descriptors of a process (`/proc/PID/fd` entries), -1 if unreadable.
func openFileDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}

/// One HTTP/1.0 GET on 127.0.0.1: the status code and body, or nil (no answer within `timeout`).
func httpGet(_ address: String, path: String, timeout: Double = 5) -> (status: Int, body: String)? {
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { return nil }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = port.bigEndian
    sa.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &sa) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        data.append(contentsOf: buffer[0..<n])
    }
    let text = String(decoding: data, as: UTF8.self)
    let parts = text.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

/// A Prometheus sample's value from a scrape (`name{labels} value`), summed over matching lines.
func metricValue(_ scrape: String, _ name: String, label: String? = nil) -> Double? {
    var total: Double?
    for line in scrape.split(separator: "\n") where line.hasPrefix(name) && !line.hasPrefix("#") {
        let rest = line.dropFirst(name.count)
        guard rest.first == " " || rest.first == "{" else { continue }
        if let label, !rest.contains(label) { continue }
        if let value = rest.split(separator: " ").last.flatMap({ Double($0) }) { total = (total ?? 0) + value }
    }
    return total
}
