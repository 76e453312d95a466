import Foundation
import StreamTagTestSupport
import Testing
import StreamTagDaemon
import StreamTagClient
#if canImport(Glibc)
import Glibc
#endif

/// `streamtag serve` under a low descriptor limit (`ulimit -n`), flooded with idle TCP
/// connections: running out of descriptors is logged and counted, for ZeroMQ sockets and the
/// metrics listener, and once the connections go the daemon answers again.
@Suite(.serialized) struct ServeFDLimitTests {
    static func port(of endpoint: Substring) -> Int? {
        endpoint.split(separator: ":").last.flatMap { Int($0) }
    }

    @Test func runningOutOfDescriptorsIsLoggedAndCounted() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // About 33 descriptors are in use once the daemon runs: 48 leaves it a handful.
        process.arguments = ["-c", "ulimit -n 48 && exec \"$0\" \"$@\"", CLI.binary, "serve",
                             "--set", "input.bind=tcp://127.0.0.1:*", "--set", "output.bind=tcp://127.0.0.1:*",
                             "--set", "control.bind=tcp://127.0.0.1:*", "--set", "metrics.listen=127.0.0.1:0",
                             "--set", "batching.workers=1", "--set", "state_dir=\(dir)/state"]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func log() -> String { fileText(logPath) }
        func waitFor(_ text: String, timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while !log().contains(text) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            return log().contains(text)
        }
        try #require(waitFor("] started", timeout: 30), "\(log())")
        let lines = log().split(separator: "\n")
        let started = try #require(lines.first { $0.contains("] started") })
        let listening = try #require(lines.first { $0.contains("metrics listening") })
        func field(_ name: String, _ line: Substring) -> Substring? {
            line.range(of: "\(name)=").map { line[$0.upperBound...].prefix { $0 != " " } }
        }
        let control = String(try #require(field("control", started)))
        let controlPort = try #require(field("control", started).flatMap(Self.port))
        let metricsPort = try #require(field("address", listening).flatMap(Self.port))

        // Idle connections to the control socket until libzmq cannot accept, then to the
        // metrics listener until NIO cannot.
        var held: [Int32] = []
        defer { for fd in held where fd >= 0 { close(fd) } }
        for _ in 0..<40 { held.append(connectLoopbackTCP(port: controlPort)) }
        #expect(waitFor("a ZeroMQ socket cannot accept connections", timeout: 10), "\(log())")
        for _ in 0..<10 { held.append(connectLoopbackTCP(port: metricsPort)) }
        #expect(waitFor("the metrics listener cannot accept connections", timeout: 10), "\(log())")

        // Once they are gone, the daemon answers again, and the metrics say what happened.
        for fd in held where fd >= 0 { close(fd) }
        held.removeAll()
        var scraped: String?
        let deadline = Date().addingTimeInterval(15)
        while scraped == nil && Date() < deadline {
            scraped = try? String(decoding: CLI.httpGet(port: metricsPort, path: "/metrics"), as: UTF8.self)
            if scraped == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        let text = try #require(scraped)
        #expect(text.contains(#"streamtag_fd_exhaustion_total{source="zmq"}"#))
        #expect(text.contains(#"streamtag_fd_exhaustion_total{source="http"}"#))
        #expect(!text.contains(#"streamtag_fd_exhaustion_total{source="zmq"} 0"#), "counted")
        #expect(!text.contains(#"streamtag_fd_exhaustion_total{source="http"} 0"#), "counted")
        let status = try controlRequest(["cmd": "status"], endpoint: control, timeout: 10)
        #expect(status["ok"] == .bool(true))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

extension CLI {
    /// The body of `GET path` on 127.0.0.1:port (HTTP/1.0, read to the end).
    static func httpGet(port: Int, path: String) throws -> [UInt8] {
        let fd = connectLoopbackTCP(port: port)
        guard fd >= 0 else { throw ClientError("connect to \(port) failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw ClientError("send failed")
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        guard response.starts(with: Array("HTTP/1.".utf8)), response.count > 12, response[9] == UInt8(ascii: "2") else {
            throw ClientError("no 2xx answer: \(String(decoding: response.prefix(80), as: UTF8.self))")
        }
        return response
    }
}
