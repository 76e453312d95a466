import Foundation
import Synchronization
import Testing
@testable import StreamTagDaemon

/// The receiving end of sd_notify, as systemd has it: an AF_UNIX SOCK_DGRAM socket bound to a
/// path or an abstract name, read on its own thread. Every datagram is kept with its arrival
/// time (monotonic seconds).
final class NotifyReceiver: @unchecked Sendable {
    struct Message: Sendable {
        var time: Double
        var fields: [String: String]
        var text: String
    }

    /// The value for NOTIFY_SOCKET.
    let name: String
    private let fd: Int32
    private let received = Mutex<[Message]>([])
    private let done = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let path: String?

    /// `abstract`: an abstract name (`@...`), else a socket file in a fresh temporary directory.
    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket: errno \(errno)") }
        let unique = UUID().uuidString.prefix(8)
        var bytes: [UInt8]
        if abstract {
            name = "@streamtag-test-notify-\(unique)"
            bytes = [0] + Array(name.utf8.dropFirst())
            path = nil
        } else {
            name = NSTemporaryDirectory() + "streamtag-notify-\(unique).sock"
            bytes = Array(name.utf8) + [0]
            path = name
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { _ = Glibc.close(fd); throw ClientError("bind \(name): errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while running.load(ordering: .relaxed) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { continue }
                let text = String(decoding: buffer[..<n], as: UTF8.self)
                var fields: [String: String] = [:]
                for line in text.split(separator: "\n") {
                    guard let eq = line.firstIndex(of: "=") else { continue }
                    fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
                }
                let message = Message(time: monotonicSeconds(), fields: fields, text: text)
                received.withLock { $0.append(message) }
            }
            done.signal()
        }
        thread.start()
    }

    func close() {
        running.store(false, ordering: .relaxed)
        done.wait()
        _ = Glibc.close(fd)
        if let path { unlink(path) }
    }

    var messages: [Message] { received.withLock { $0 } }

    /// Waits until some message has `key` (with `value` if given); returns it.
    @discardableResult
    func wait(for key: String, value: String? = nil, after: Double = -.infinity, timeout: Double = 10) -> Message? {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if let m = messages.first(where: { $0.time > after && $0.fields[key] != nil && (value == nil || $0.fields[key] == value) }) {
                return m
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// Arrival times of `WATCHDOG=1`.
    var pings: [Double] { messages.filter { $0.fields["WATCHDOG"] == "1" }.map(\.time) }
}

/// SDNotify and SystemdSettings on their own.
@Suite struct SDNotifyTests {
    @Test(arguments: [false, true])
    func sendsOneDatagramToAPathOrAnAbstractName(abstract: Bool) throws {
        let receiver = try NotifyReceiver(abstract: abstract)
        defer { receiver.close() }
        let notify = try SDNotify(socket: receiver.name)
        #expect(notify.isEnabled)
        #expect(notify.send("READY=1", "STATUS=serving x") == nil)
        let m = receiver.wait(for: "READY")
        #expect(m?.text == "READY=1\nSTATUS=serving x")
        #expect(m?.fields["STATUS"] == "serving x")
    }

    @Test func noSocketIsANoOp() throws {
        for name in [nil, ""] as [String?] {
            let notify = try SDNotify(socket: name)
            #expect(!notify.isEnabled)
            #expect(notify.send("READY=1") == nil)
        }
    }

    @Test func badNamesAreRefused() {
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "run/notify") }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "vsock:2:1234") }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 200)) }
        // 107 bytes of path plus its NUL fit in sun_path (108); an abstract name may use all 108.
        #expect(throws: Never.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 106)) }
        #expect(throws: SDNotify.SetupError.self) { try SDNotify(socket: "/" + String(repeating: "x", count: 107)) }
        #expect(throws: Never.self) { try SDNotify(socket: "@" + String(repeating: "x", count: 107)) }
    }

    @Test func nobodyListeningIsAnErrorNotACrash() throws {
        let notify = try SDNotify(socket: NSTemporaryDirectory() + "streamtag-nobody-\(UUID().uuidString.prefix(8)).sock")
        #expect(notify.send("READY=1") != nil)
    }

    @Test func settingsFromTheEnvironment() {
        let pid = getpid()
        #expect(SystemdSettings.fromEnvironment([:]) == SystemdSettings())
        #expect(!SystemdSettings.fromEnvironment([:]).isActive)
        let s = SystemdSettings.fromEnvironment(["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "10000000"], pid: pid)
        #expect(s.notifySocket == "/run/systemd/notify")
        #expect(s.watchdogInterval == 10)
        #expect(s.effectiveStallLimit == 10)
        #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid)"], pid: pid).watchdogInterval == 0.5)
        // The watchdog of another process (a parent that did not unset the variables).
        #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid + 1)"], pid: pid).watchdogInterval == nil)
        for bad in ["0", "-5", "ten", ""] {
            #expect(SystemdSettings.fromEnvironment(["WATCHDOG_USEC": bad], pid: pid).watchdogInterval == nil, "\(bad)")
        }
        #expect(SystemdSettings.fromEnvironment(["NOTIFY_SOCKET": ""]).notifySocket == nil)
        // An idle worker turns about once a second: a short watchdog still allows 2 s.
        #expect(SystemdSettings(watchdogInterval: 0.5).effectiveStallLimit == 2)
        #expect(SystemdSettings(watchdogInterval: 0.5, stallLimit: 1).effectiveStallLimit == 1)
    }

    @Test func monotonicMicrosecondsIsClockMonotonic() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let reference = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        let ours = monotonicMicroseconds()
        #expect(ours >= reference && ours - reference < 1_000_000)
    }
}
