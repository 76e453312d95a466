import CZeroMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if os(Linux)
/// A Linux `eventfd` (non-blocking, close-on-exec) for waking a thread that waits in a
/// `ZMQPoller`: worker threads call `signal()`, the polling thread adds `fd` to its poller and
/// calls `drain()` when it is readable. The descriptor is closed on deinit.
///
/// Thread-safe: `signal()` may be called from any thread; `drain()` belongs to the polling thread.
public final class EventFD: Sendable {
    /// The descriptor to poll for readability.
    public let fd: Int32

    /// Creates the descriptor with `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
    public init() throws {
        // <sys/eventfd.h> comes in through the CZeroMQ shim.
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw ZMQError(code: errno, call: "eventfd") }
        self.fd = fd
    }

    deinit {
        Glibc.close(fd)
    }

    /// Adds 1 to the counter, making `fd` readable. Signals coalesce until the next `drain()`.
    /// If the counter is saturated (never in practice) the descriptor is already readable, so the
    /// resulting `EAGAIN` is ignored.
    public func signal() throws {
        var one: UInt64 = 1
        while write(fd, &one, MemoryLayout<UInt64>.size) < 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN { return }
            throw ZMQError(code: code, call: "write")
        }
    }

    /// Resets the counter and returns how many signals arrived since the last drain (0 if none).
    @discardableResult
    public func drain() throws -> UInt64 {
        var count: UInt64 = 0
        while read(fd, &count, MemoryLayout<UInt64>.size) < 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN { return 0 }
            throw ZMQError(code: code, call: "read")
        }
        return count
    }
}
#endif
