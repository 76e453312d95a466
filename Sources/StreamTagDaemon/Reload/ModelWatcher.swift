import CZeroMQ
import Foundation
import StreamTagCore

/// Notices when the model file changes: inotify on its directory (a rename over the file, a
/// symlink switch, a write that closes the file), and a stat check every `interval` as the
/// fallback where inotify is missing or the change happens elsewhere (a symlink's target).
/// Lives on the I/O thread; `fd` joins the poller.
final class ModelWatcher {
    let path: String
    /// The inotify descriptor to poll, or -1 without inotify.
    let fd: Int32
    private let name: String
    private var lastSeen: FileIdentity?

    /// What identifies a version of the file (following symlinks): the same as the loader's.
    typealias FileIdentity = ModelFileReader.FileIdentity

    /// A watcher of the configured model file; nil when `model.watch` is off or the built-in
    /// model serves (no path).
    static func watching(_ model: DaemonConfig.Model) -> ModelWatcher? {
        model.watch && !model.path.isEmpty ? ModelWatcher(path: model.path) : nil
    }

    init(path: String) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        name = url.lastPathComponent
        let directory = url.deletingLastPathComponent().path
        var fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0 {
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB)
            if inotify_add_watch(fd, directory, mask) < 0 {
                close(fd)
                fd = -1
            }
        }
        self.fd = fd
        lastSeen = Self.identity(of: path)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Reads pending inotify events; true if one concerns the model file's name.
    func drainEvents() -> Bool {
        guard fd >= 0 else { return false }
        var concerned = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            var offset = 0
            buffer.withUnsafeBytes { raw in
                while offset + MemoryLayout<inotify_event>.size <= n {
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    if length > 0 {
                        let bytes = raw[nameStart..<min(nameStart + length, n)].prefix { $0 != 0 }
                        if String(decoding: bytes, as: UTF8.self) == name { concerned = true }
                    }
                    offset = nameStart + length
                }
            }
        }
        return concerned
    }

    /// Whether the file (or what the path resolves to) differs from the last version seen;
    /// remembers the new one.
    func changed() -> Bool {
        let now = Self.identity(of: path)
        defer { lastSeen = now }
        return now != nil && now != lastSeen
    }

    /// Remembers the current version as seen (after a load attempt).
    func markSeen() { lastSeen = Self.identity(of: path) }

    static func identity(of path: String) -> FileIdentity? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return FileIdentity(s)
    }
}
