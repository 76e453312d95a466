#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file operation: which path, which system call's errno, and a message that names
/// both (`cannot open /x/m.safetensors: No such file or directory`).
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    /// The system's error number (ENOENT, EACCES, ...).
    public let errno: Int32
    public let message: String

    /// `cannot ACTION PATH: <strerror(code)>`.
    public init(_ action: String, _ path: String, errno code: Int32) {
        self.path = path
        errno = code
        message = "cannot \(action) \(path): \(String(cString: strerror(code)))"
    }

    /// `PATH PROBLEM` for what is wrong with a file rather than with a system call.
    public init(path: String, problem: String) {
        self.path = path
        errno = EINVAL
        message = "\(path) \(problem)"
    }

    public var description: String { message }
}

/// Whole-file reads and atomic whole-file writes, for model files (and anything else a watcher
/// may pick up while it is being written, such as snapshots).
public enum AtomicFile {
    /// Replaces `path` with `bytes` so that a concurrent reader sees either the old file or the
    /// new one, never a mixture or a partial file, and the new content survives a crash once this
    /// returns: the bytes go to `.NAME.tmp-PID-RANDOM` in the same directory (rename is only
    /// atomic within one file system), which is fsynced, renamed over `path`, and then the
    /// directory is fsynced so the rename itself is durable. On failure the temporary file is
    /// removed and the old file, if any, is untouched.
    /// The new file's permissions are `permissions` minus the process umask.
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644) throws(FileError) {
        let (directory, base) = split(path)
        guard !base.isEmpty, base != ".", base != ".." else { throw FileError("write", path, errno: EISDIR) }
        let temp = "\(directory)/.\(base).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw FileError("create", temp, errno: errno) }
        var open = true
        do throws(FileError) {
            try writeAll(fd, bytes, temp)
            guard fsync(fd) == 0 else { throw FileError("fsync", temp, errno: errno) }
            // close can report a deferred write error (e.g. on NFS): check it. The descriptor is
            // gone either way, so it must not be closed twice (another thread may reuse it).
            open = false
            guard close(fd) == 0 else { throw FileError("close", temp, errno: errno) }
            guard rename(temp, path) == 0 else { throw FileError("rename \(temp) to", path, errno: errno) }
        } catch {
            if open { _ = close(fd) }
            _ = unlink(temp)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Reads a whole regular file of at most `limit` bytes. Fails with the path and the reason:
    /// the system's (missing file, no permission, ...), or anything but a regular file (a
    /// directory, a FIFO, a device such as `/dev/zero`: opened without blocking and refused
    /// before a byte is read), or a file larger than `limit`.
    public static func read(path: String, limit: Int = .max) throws(FileError) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path, errno: errno) }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError("stat", path, errno: errno) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw FileError("read", path, errno: EISDIR)
        default: throw FileError(path: path, problem: "is not a regular file (a FIFO, socket or device)")
        }
        guard Int(info.st_size) <= limit else {
            throw FileError(path: path, problem: "is \(info.st_size) bytes, more than the \(limit) this file may have")
        }

        // st_size is a hint only (the file may grow): read to end of file, up to the limit.
        let grew = FileError(path: path, problem: "grew past the \(limit) bytes this file may have while it was read")
        var out = [UInt8](repeating: 0, count: max(Int(info.st_size), 0) + 1)
        var filled = 0
        while true {
            if filled == out.count {
                guard filled <= limit else { throw grew }
                out.append(contentsOf: repeatElement(0, count: max(out.count, 4096)))
            }
            let n = out.withUnsafeMutableBytes { buf in systemRead(fd, buf, from: filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", path, errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= limit else { throw grew }
        out.removeSubrange(filled...)
        return out
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(FileError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buf in systemWrite(fd, buf, from: written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("write", path, errno: errno)
            }
            written += n
        }
    }

    private static func syncDirectory(_ directory: String) throws(FileError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open directory", directory, errno: errno) }
        defer { _ = close(fd) }
        // Some file systems cannot fsync a directory (EINVAL); the rename is done, so that is not
        // worth failing a write that otherwise succeeded.
        guard fsync(fd) == 0 || errno == EINVAL else { throw FileError("fsync directory", directory, errno: errno) }
    }

    /// ("dir", "name") of a path; "." for a bare file name.
    static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

// The enum's own `read`/`write` hide the C functions of the same name inside it.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, from offset: Int) -> Int {
    guard let base = buffer.baseAddress, offset < buffer.count else { return 0 }
    return read(fd, base + offset, buffer.count - offset)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, from offset: Int) -> Int {
    guard let base = buffer.baseAddress, offset < buffer.count else { return 0 }
    return write(fd, base + offset, buffer.count - offset)
}
