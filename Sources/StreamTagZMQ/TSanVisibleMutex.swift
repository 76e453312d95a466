#if STREAMTAG_TSAN
import Glibc

/// The stand-in for `Synchronization.Mutex` in ThreadSanitizer builds (`make test-tsan` passes
/// `-DSTREAMTAG_TSAN`); ordinary builds never compile it.
///
/// On Linux a contended `Mutex` hands the lock over inside the kernel (a priority-inheritance
/// futex), where ThreadSanitizer cannot see it, so it reports every value guarded by a
/// contended `Mutex` as a race (docs/reliability.md#sanitizers has the short program
/// that proves it). A pthread mutex is intercepted by ThreadSanitizer, so with this in place
/// the reports that remain are real. Same call shape as `Mutex`: `init(_:)` and `withLock`.
package final class TSanVisibleMutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init(_ value: Value) {
        self.value = value
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    package func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}

/// Declared in each module that uses `Mutex`, this name wins over the imported one.
typealias Mutex<Value> = TSanVisibleMutex<Value>
#endif
