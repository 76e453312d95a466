import CZeroMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error reported by libzmq (or by a system call the transport layer makes, such as `eventfd`).
///
/// `code` is the `errno` value, `call` names the failing function (`"zmq_bind"`, `"zmq_msg_send"`,
/// ...) and `message` is `zmq_strerror(code)`, which covers both system and ZeroMQ-specific codes.
public struct ZMQError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `errno` value, e.g. `EAGAIN`, `EADDRINUSE` or ZeroMQ's `ETERM`.
    public let code: Int32
    /// The name of the C function that failed, e.g. `"zmq_bind"`.
    public let call: String
    /// The human-readable text for `code`, from `zmq_strerror`.
    public let message: String

    /// Creates an error for `code`, filling `message` from `zmq_strerror`.
    public init(code: Int32, call: String) {
        self.code = code
        self.call = call
        self.message = String(cString: zmq_strerror(code))
    }

    /// The error for the current `zmq_errno()`, which is the thread's `errno`.
    static func last(_ call: String) -> ZMQError {
        ZMQError(code: zmq_errno(), call: call)
    }

    /// `EAGAIN`: a non-blocking call would block, or a send/receive timeout expired.
    public var isAgain: Bool { code == EAGAIN }

    /// `EINTR`: a signal interrupted the call. Blocking calls in this wrapper retry on it themselves.
    public var isInterrupted: Bool { code == EINTR }

    /// `ETERM`: the socket's context is being terminated; the socket should be closed.
    public var isTerminated: Bool { code == ETERM }

    public var description: String { "\(call): \(message) (errno \(code))" }
}
