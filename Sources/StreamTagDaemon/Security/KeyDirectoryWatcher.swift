import CZeroMQ
import Foundation

/// Notices when a key directory changes, as ``ModelWatcher`` does for the model file: inotify
/// on each directory (a file written and closed, moved in or out, deleted, its mode changed),
/// and a stat check of the directories every `interval` as the fallback (it also notices a
/// directory that was replaced or created, and watches it again). I/O thread; `fd` joins the
/// poller.
final class KeyDirectoryWatcher {
    let directories: [String]
    /// The inotify descriptor to poll, or -1 without inotify.
    let fd: Int32
    private var watches: [Int32] = []
    private var lastSeen: [ModelWatcher.FileIdentity?]

    init(directories: [String]) {
        self.directories = directories
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        lastSeen = directories.map { _ in nil }
        rewatch()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// (Re-)adds the inotify watches and remembers the directories as seen now.
    private func rewatch() {
        if fd >= 0 {
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
            // Adding a watch again for the same inode only updates it: no duplicates.
            watches = directories.map { inotify_add_watch(fd, $0, mask) }
        }
        lastSeen = directories.map { ModelWatcher.identity(of: $0) }
    }

    /// Reads pending inotify events; true if there was any (every event in these directories
    /// concerns keys).
    func drainEvents() -> Bool {
        guard fd >= 0 else { return false }
        var any = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 { any = true }
        return any
    }

    /// Whether a directory was replaced, created, removed or had entries added or removed
    /// since the last look (its inode or modification time changed); watches again if so.
    func changed() -> Bool {
        let now = directories.map { ModelWatcher.identity(of: $0) }
        guard now != lastSeen else { return false }
        rewatch()
        return true
    }

    /// After a re-read: the directories as they are now, watched.
    func markSeen() { rewatch() }
}
