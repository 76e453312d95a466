import Crypto
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a model file from disk with bounded work, whatever is at the path:
///
/// - only a regular file is read: the path is opened with `O_NONBLOCK` (a FIFO cannot block the
///   open) and `fstat` on the open descriptor refuses anything else (a FIFO, a device such as
///   `/dev/zero`, a directory, a socket) by name;
/// - the 8-byte header length is checked against the limit and the file's size first, then the
///   header alone is read and checked completely (metadata, config, every tensor's dtype and
///   shape, and that the tensors tile exactly the rest of the file) before any tensor byte is
///   read, so a file whose size disagrees with its header costs one small read;
/// - the data section is read once, in chunks of at most 1 MiB into a buffer of exactly the size
///   the header declares, and hashed on the way (the SHA-256 of the whole file, the model id's
///   hash, in the same pass);
/// - a file that changes while it is read is refused: the read must end exactly where `fstat`
///   said, and `fstat` afterwards must show the same size and modification time;
/// - with a `timeLimit`, the read gives up between two chunks once it is spent.
public struct ModelFileReader: Sendable {
    /// A file read and hashed, its header checked; `bundle()` decodes the tensors.
    public struct Loaded: Sendable {
        /// Hex SHA-256 of the whole file.
        public let sha256: String
        /// What identifies this version of the file (device, inode, size, modification time).
        public let identity: FileIdentity
        public let header: ModelFile.Header
        let data: [UInt8]

        /// Decodes and checks the tensors (non-finite values and the rest of `ModelFile.decode`).
        public func bundle() throws(ModelError) -> ModelBundle {
            try ModelFile.decodeTensors(header, try SafeTensors(header: header.file, data: data))
        }
    }

    /// A version of a file as `fstat` sees it.
    public struct FileIdentity: Sendable, Equatable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        /// Modification time, nanoseconds since the epoch.
        public var modified: Int64

        /// The identity `stat`/`fstat` reported.
        public init(_ s: stat) {
            device = UInt64(s.st_dev)
            inode = UInt64(s.st_ino)
            size = Int64(s.st_size)
            modified = Int64(s.st_mtim.tv_sec) * 1_000_000_000 + Int64(s.st_mtim.tv_nsec)
        }
    }

    /// Largest single `read`.
    public static let chunkBytes = 1 << 20

    public let path: String
    /// Seconds the whole read may take (nil: no limit).
    public var timeLimit: Double?

    /// Tests: runs once the data section is read, before the file is checked for changes (so a
    /// test can change the file at exactly that moment).
    var afterReading: (@Sendable () -> Void)?

    public init(path: String, timeLimit: Double? = nil) {
        self.path = path
        self.timeLimit = timeLimit
    }

    /// Opens, checks and reads the file (see the type's description). Errors name the path.
    public func load() throws(ModelError) -> Loaded {
        let started = DispatchTime.now().uptimeNanoseconds
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError(.io, FileError("open", path, errno: errno).message) }
        defer { _ = close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0 else { throw ModelError(.io, FileError("stat", path, errno: errno).message) }
        guard before.st_mode & S_IFMT == S_IFREG else {
            throw ModelError(.io, "\(path) is \(Self.kind(before.st_mode)), not a regular file; a model must be a regular file")
        }
        let size = Int(before.st_size)
        var hasher = SHA256()
        do throws(ModelError) {
            let prefix = try readExactly(fd, min(8, size), started: started, what: "the header length", hashing: &hasher)
            let n = try SafeTensors.headerLength(prefix: prefix, fileSize: size)
            let headerBytes = try readExactly(fd, n, started: started, what: "the header", hashing: &hasher)
            let file = try SafeTensors.parseHeader(headerBytes[...], dataLength: size - 8 - n)
            let header = try ModelFile.decodeHeader(file)
            // A sparse file can declare tensors of any size: refuse what could not fit before
            // allocating (the tensors are held once as read and once as Float).
            let memory = Self.physicalMemory
            guard file.dataLength <= memory / 2 else {
                throw ModelError(.badShape, "the tensors take \(file.dataLength) bytes, more than half of this machine's memory (\(memory) bytes)")
            }
            let data = try readExactly(fd, file.dataLength, started: started, what: "the tensors", hashing: &hasher)
            afterReading?()
            try checkUnchanged(fd, before)
            return Loaded(sha256: Self.hex(hasher.finalize()), identity: FileIdentity(before), header: header, data: data)
        } catch {
            throw ModelError(error.code, "\(path): \(error.message)")
        }
    }

    /// Reads exactly `count` bytes (in chunks), hashing them.
    private func readExactly(_ fd: Int32, _ count: Int, started: UInt64, what: String,
                             hashing hasher: inout SHA256) throws(ModelError) -> [UInt8] {
        var failure: ModelError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var filled = 0
            while filled < count {
                if let problem = overTime(started) { failure = problem; break }
                let n = read(fd, buffer.baseAddress! + filled, min(Self.chunkBytes, count - filled))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = ModelError(.io, "cannot read: \(String(cString: strerror(errno)))")
                    break
                }
                if n == 0 {
                    failure = ModelError(.truncated, "the file ended after \(filled) of the \(count) bytes of \(what): it shrank while being read")
                    break
                }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer.baseAddress! + filled, count: n))
                filled += n
            }
            initialized = filled
        }
        if let failure { throw failure }
        return bytes
    }

    /// The file must end where it ended at open, with the same size and modification time.
    private func checkUnchanged(_ fd: Int32, _ before: stat) throws(ModelError) {
        var extra: UInt8 = 0
        var n: Int
        repeat { n = read(fd, &extra, 1) } while n < 0 && errno == EINTR
        var after = stat()
        guard fstat(fd, &after) == 0 else { throw ModelError(.io, "cannot stat: \(String(cString: strerror(errno)))") }
        if n > 0 || after.st_size != before.st_size {
            throw ModelError(.truncated, "the file grew from \(before.st_size) to \(after.st_size) bytes while being read; it is read again when the writer is done")
        }
        if FileIdentity(after) != FileIdentity(before) {
            throw ModelError(.io, "the file was modified while being read; it is read again when the writer is done")
        }
    }

    private func overTime(_ started: UInt64) -> ModelError? {
        guard let timeLimit else { return nil }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
        guard elapsed > timeLimit else { return nil }
        return ModelError(.io, "reading the file timed out after \(Self.seconds(timeLimit))")
    }

    /// Bytes of physical memory (`sysconf`), or Int.max when unknown.
    static var physicalMemory: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: size)
        return overflow ? Int.max : bytes
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }

    /// "a FIFO", "a character device", ... for a refused file type.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFDIR: "a directory"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
