import Foundation

/// One inotify descriptor (non-blocking, close-on-exec) watching directories: the mechanism
/// under ``ModelWatcher`` (the model file's directory) and ``KeyDirectoryWatcher`` (the key
/// directories). Lives on the I/O thread; `fd` joins its poller.
final class InotifyWatch {
    /// The descriptor to poll, or -1 where inotify is missing.
    let fd: Int32
    private let mask: UInt32

    /// A descriptor for watches of the events in `mask` (`IN_CLOSE_WRITE | IN_MOVED_TO | …`).
    init(mask: Int32) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        self.mask = UInt32(bitPattern: mask)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Watches `directory`; false if it cannot be (no inotify, no such directory). Watching
    /// the same directory again only updates its watch: no duplicates.
    @discardableResult
    func watch(_ directory: String) -> Bool {
        fd >= 0 && inotify_add_watch(fd, directory, mask) >= 0
    }

    /// Reads every pending event; true if one concerns the entry `name`, or with `name` nil,
    /// if there was any event at all.
    func drainEvents(concerning name: String? = nil) -> Bool {
        guard fd >= 0 else { return false }
        var concerned = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            guard let name else { concerned = true; continue }
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
}
