#if canImport(Glibc)
import Glibc
#endif

/// Names the calling OS thread, as `top -H`, `perf` and `/proc/PID/task/*/comm` show it (Linux
/// keeps at most 15 bytes). `Thread.name` does not do it on Linux: Foundation names the OS thread
/// only when the name is set on the running thread *and* after `start()` has returned in the
/// thread that started it (a race), and the kernel refuses names over 15 bytes outright.
package func nameCurrentThread(_ name: String) {
    #if os(Linux)
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    #endif
}
