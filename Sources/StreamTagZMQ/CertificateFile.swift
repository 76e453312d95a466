import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reading and writing certificate files (see ``Certificate``), with the checks a secret key
/// needs: it must not be readable by anyone but its owner.
public enum CertificateFile {
    /// The largest certificate file read (real ones are about 400 bytes).
    static let maxBytes = 64 << 10

    /// Reads a public certificate (`NAME.key`), or the public half of a secret one.
    public static func loadPublic(_ path: String) throws(SecurityError) -> Certificate {
        try Certificate.parse(read(path).text, path: path)
    }

    /// Reads a secret certificate (`NAME.key_secret`): it must hold a secret key and be
    /// accessible by its owner only (mode 0600 or 0400).
    public static func loadSecret(_ path: String) throws(SecurityError) -> Certificate {
        let (text, mode) = try read(path)
        let certificate = try Certificate.parse(text, path: path)
        guard certificate.secretKey != nil else {
            throw SecurityError(path: path, message: "holds no secret-key: this is a public certificate (NAME.key); give the NAME.key_secret file")
        }
        if mode & 0o077 != 0 {
            throw SecurityError(path: path, message: "the secret key file is accessible by group or others (mode \(String(mode, radix: 8))); anyone who reads it can pose as its owner: run chmod 600 \(path)")
        }
        return certificate
    }

    /// The file's text and permission bits, both through one descriptor: the mode checked is
    /// that of the file read, and a failure says why (`errno`), not a guess.
    private static func read(_ path: String) throws(SecurityError) -> (text: String, mode: mode_t) {
        func failure(_ what: String) -> SecurityError {
            SecurityError(path: path, message: "cannot read the key file: \(what)\(String(cString: strerror(errno)))")
        }
        // O_NONBLOCK: a FIFO dropped into a key directory must not stall the re-read.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure("") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("fstat: ") }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: errno = EISDIR; throw failure("")
        default: throw SecurityError(path: path, message: "cannot read the key file: not a regular file (a FIFO, socket or device)")
        }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 1)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("") }
            if n == 0 { break }
            filled += n
        }
        guard filled <= maxBytes else {
            throw SecurityError.malformed(path, "larger than \(maxBytes / 1024) KiB")
        }
        guard let text = String(validating: bytes[..<filled], as: UTF8.self) else {
            throw SecurityError.malformed(path, "not UTF-8 text")
        }
        return (text, info.st_mode & 0o777)
    }

    /// Writes `NAME.key` (0644) and `NAME.key_secret` (0600, created so: never readable by
    /// others, not even for a moment) into `directory`; refuses to overwrite either.
    /// Returns the two paths.
    @discardableResult
    public static func write(_ certificate: Certificate, name: String, directory: String) throws(SecurityError) -> (public: String, secret: String) {
        let base = (directory as NSString).appendingPathComponent(name)
        let publicPath = base + ".key", secretPath = base + ".key_secret"
        for path in [publicPath, secretPath] where FileManager.default.fileExists(atPath: path) {
            throw SecurityError(path: path, message: "exists already; remove it first or choose another name (keys are never overwritten)")
        }
        let stamp = Certificate.timestamp()
        try create(secretPath, certificate.text(includingSecret: true, generated: stamp), mode: 0o600)
        try create(publicPath, certificate.text(includingSecret: false, generated: stamp), mode: 0o644)
        return (publicPath, secretPath)
    }

    private static func create(_ path: String, _ text: String, mode: mode_t) throws(SecurityError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw SecurityError(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have taken bits away from the public file; never adds any.
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw SecurityError(path: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
