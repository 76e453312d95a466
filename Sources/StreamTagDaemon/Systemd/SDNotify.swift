#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The systemd notification protocol (`sd_notify(3)`) without libsystemd: newline-separated
/// `KEY=VALUE` assignments in one datagram to the `AF_UNIX` `SOCK_DGRAM` socket that
/// `$NOTIFY_SOCKET` names. A name starting with `@` is in the abstract namespace (the `@` stands
/// for a leading NUL byte).
///
/// With no socket (`NOTIFY_SOCKET` unset: not started by systemd) every `send` is a no-op that
/// succeeds. Safe to use from any thread: one socket, one `sendto` per message.
final class SDNotify: Sendable {
    /// The socket name as given (`/run/systemd/notify`, `@name`), nil when notifications are off.
    let socketName: String?
    private let fd: Int32
    private let address: [UInt8]

    enum SetupError: Error, CustomStringConvertible {
        case unsupportedAddress(String)
        case nameTooLong(String)
        case socket(Int32)

        var description: String {
            switch self {
            case .unsupportedAddress(let name):
                "NOTIFY_SOCKET=\(name): not a socket path (/...) or an abstract name (@...)"
            case .nameTooLong(let name): "NOTIFY_SOCKET=\(name): longer than a socket address can hold"
            case .socket(let code): "cannot create the notification socket: \(notifyErrnoText(code))"
            }
        }
    }

    /// Notifications to `socket` (`$NOTIFY_SOCKET`'s value); nil or empty turns them off.
    init(socket name: String?) throws(SetupError) {
        guard let name, !name.isEmpty else {
            socketName = nil
            fd = -1
            address = []
            return
        }
        var path = Array(name.utf8)
        if path[0] == UInt8(ascii: "@") {
            path[0] = 0
        } else if path[0] != UInt8(ascii: "/") {
            throw .unsupportedAddress(name)
        }
        var addr = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        // A path needs room for its NUL terminator; an abstract name is exactly its bytes.
        guard path.count + (path[0] == 0 ? 0 : 1) <= capacity else { throw .nameTooLong(name) }
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (path[0] == 0 ? 0 : 1)
        address = withUnsafeBytes(of: &addr) { Array($0.prefix(length)) }

        #if canImport(Darwin)
        let type = SOCK_DGRAM
        #else
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #endif
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else { throw .socket(errno) }
        // A receiver that stops reading must not block the caller (the I/O thread) for long.
        var timeout = timeval(tv_sec: 0, tv_usec: 250_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        socketName = name
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Whether notifications go anywhere.
    var isEnabled: Bool { fd >= 0 }

    /// Sends `assignments` (e.g. `["READY=1", "STATUS=serving"]`) as one datagram. Returns nil on
    /// success (or when disabled), else the error text.
    @discardableResult
    func send(_ assignments: [String]) -> String? {
        guard fd >= 0 else { return nil }
        let message = Array(assignments.joined(separator: "\n").utf8)
        let sent = message.withUnsafeBytes { body in
            address.withUnsafeBytes { addr in
                sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL),
                       addr.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(addr.count))
            }
        }
        if sent < 0 { return notifyErrnoText(errno) }
        if sent != message.count { return "short write: \(sent) of \(message.count) bytes" }
        return nil
    }

    /// `send` with one assignment per argument.
    @discardableResult
    func send(_ assignments: String...) -> String? { send(assignments) }
}

/// The settings systemd passes a service for notifications (`sd_notify(3)`,
/// `sd_watchdog_enabled(3)`), read once by `streamtag serve` and handed to the daemon.
package struct SystemdSettings: Sendable, Equatable {
    /// `$NOTIFY_SOCKET`; nil = not under systemd (or `Type=` is not `notify`).
    var notifySocket: String?
    /// `$WATCHDOG_USEC` in seconds when the watchdog applies to this process, else nil.
    var watchdogInterval: Double?
    /// How often `STATUS=` is refreshed.
    var statusInterval: Double
    /// A worker whose loop has not turned for this long stops the watchdog pings; nil = the
    /// watchdog interval, at least 2 s (an idle worker turns about once a second).
    var stallLimit: Double?

    init(notifySocket: String? = nil, watchdogInterval: Double? = nil, statusInterval: Double = 5,
                stallLimit: Double? = nil) {
        self.notifySocket = notifySocket
        self.watchdogInterval = watchdogInterval
        self.statusInterval = statusInterval
        self.stallLimit = stallLimit
    }

    /// From the environment of the process: `NOTIFY_SOCKET`, and `WATCHDOG_USEC` unless
    /// `WATCHDOG_PID` names another process (then the watchdog is someone else's).
    package static func fromEnvironment(_ environment: [String: String], pid: Int32 = getpid()) -> SystemdSettings {
        var settings = SystemdSettings()
        if let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty { settings.notifySocket = socket }
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
            if forUs { settings.watchdogInterval = Double(usec) / 1e6 }
        }
        return settings
    }

    /// Whether there is anything to do.
    var isActive: Bool { notifySocket != nil }

    /// The stall limit in effect.
    var effectiveStallLimit: Double {
        stallLimit ?? max(watchdogInterval ?? 0, 2)
    }
}

/// `CLOCK_MONOTONIC` in microseconds, as `MONOTONIC_USEC=` wants it.
func monotonicMicroseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
}

func notifyErrnoText(_ code: Int32) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}
