import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The receiving end of sd_notify, as systemd has it: an AF_UNIX SOCK_DGRAM socket bound to a
/// path or an abstract name, read on its own thread. Every datagram is kept with its arrival
/// time (monotonic seconds).
public final class NotifyReceiver: @unchecked Sendable {
    public struct Message: Sendable {
        public var time: Double
        public var fields: [String: String]
        public var text: String
    }

    /// The value for NOTIFY_SOCKET.
    public let name: String
    private let fd: Int32
    private let received = Mutex<[Message]>([])
    private let done = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let path: String?

    /// `abstract`: an abstract name (`@...`), else a socket file in a fresh temporary directory.
    public init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NotifyReceiverError("socket: errno \(errno)") }
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
        guard rc == 0 else { _ = Glibc.close(fd); throw NotifyReceiverError("bind \(name): errno \(errno)") }
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
                let message = Message(time: NotifyReceiver.now(), fields: fields, text: text)
                received.withLock { $0.append(message) }
            }
            done.signal()
        }
        thread.start()
    }

    public func close() {
        running.store(false, ordering: .relaxed)
        done.wait()
        _ = Glibc.close(fd)
        if let path { unlink(path) }
    }

    public var messages: [Message] { received.withLock { $0 } }

    /// Waits until some message has `key` (with `value` if given); returns it.
    @discardableResult
    public func wait(for key: String, value: String? = nil, after: Double = -.infinity, timeout: Double = 10) -> Message? {
        let deadline = NotifyReceiver.now() + timeout
        while NotifyReceiver.now() < deadline {
            if let m = messages.first(where: { $0.time > after && $0.fields[key] != nil && (value == nil || $0.fields[key] == value) }) {
                return m
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// Arrival times of `WATCHDOG=1`.
    public var pings: [Double] { messages.filter { $0.fields["WATCHDOG"] == "1" }.map(\.time) }
}

extension NotifyReceiver {
    /// Monotonic seconds, the clock of `Message.time` (the daemon's `monotonicSeconds()`).
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

public struct NotifyReceiverError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
