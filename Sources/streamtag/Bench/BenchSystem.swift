import Foundation
#if canImport(Glibc)
import Glibc
#endif

// What the benches and drills read of the machine and of a daemon child: its ports, its
// /proc entries, its metrics endpoint.

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
