import CZeroMQ
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ZeroMQ context: owns `zmq_ctx_new` and is terminated by `terminate()` or on deinit.
///
/// The context is created with `ZMQ_BLOCKY` set to false, so sockets default to a linger of 0 and
/// termination never waits for unsent messages. Termination still waits until every socket of
/// the context is closed (that is libzmq's rule): close all sockets first. Each `ZMQSocket`
/// holds a strong reference to its context, so deinit only runs once every socket object is gone.
///
/// A context is thread-safe, like libzmq's: sockets may be created on any thread, and
/// `terminate()` may be called from any thread (blocking calls on the context's sockets then fail
/// with `ETERM`, telling their owners to close them).
public final class ZMQContext: @unchecked Sendable {
    // Sendable is sound: `handle` never changes, libzmq contexts are thread-safe, and `state`
    // (behind a mutex) keeps `zmq_socket` from running on a context that termination may free.
    private let handle: UnsafeMutableRawPointer
    private let state = Mutex(State.open)

    private enum State { case open, terminating, terminated }

    /// Creates a context with `ZMQ_BLOCKY` set to false.
    public init() throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        if zmq_ctx_set(handle, ZMQ_BLOCKY, 0) != 0 {
            let error = ZMQError.last("zmq_ctx_set")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        terminate()
    }

    /// Whether `terminate()` has started.
    public var isTerminated: Bool {
        state.withLock { $0 != .open }
    }

    /// Terminates the context (`zmq_ctx_shutdown`, then `zmq_ctx_term`, retried on `EINTR`).
    ///
    /// Blocks until every socket of this context is closed; with all sockets closed it returns
    /// promptly. Idempotent: later calls (and deinit) do nothing.
    public func terminate() {
        let first = state.withLock { state in
            guard state == .open else { return false }
            state = .terminating
            // Makes blocking calls on this context's sockets return ETERM in other threads.
            zmq_ctx_shutdown(handle)
            return true
        }
        guard first else { return }
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
        state.withLock { $0 = .terminated }
    }

    /// Runs `zmq_socket` while the context is known to be alive; throws `ETERM` once terminating.
    func makeSocketHandle(type: Int32) throws(ZMQError) -> UnsafeMutableRawPointer {
        try state.withLock { (state) throws(ZMQError) -> UnsafeMutableRawPointer in
            guard state == .open else { throw ZMQError(code: ETERM, call: "zmq_socket") }
            guard let socket = zmq_socket(handle, type) else { throw ZMQError.last("zmq_socket") }
            return socket
        }
    }
}
