import Foundation

/// Notices when a key directory changes, as ``ModelWatcher`` does for the model file: inotify
/// on each directory (a file written and closed, moved in or out, deleted, its mode changed),
/// and a stat check of the directories every `interval` as the fallback (it also notices a
/// directory that was replaced or created, and watches it again). I/O thread; `fd` joins the
/// poller.
final class KeyDirectoryWatcher {
    let directories: [String]
    private let events = InotifyWatch(mask: IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB
                                          | IN_DELETE_SELF | IN_MOVE_SELF)
    private var lastSeen: [ModelWatcher.FileIdentity?] = []

    /// The inotify descriptor to poll, or -1 without inotify.
    var fd: Int32 { events.fd }

    init(directories: [String]) {
        self.directories = directories
        rewatch()
    }

    /// (Re-)adds the inotify watches and remembers the directories as seen now.
    private func rewatch() {
        for directory in directories { events.watch(directory) }
        lastSeen = directories.map { ModelWatcher.identity(of: $0) }
    }

    /// Reads pending inotify events; true if there was any (every event in these directories
    /// concerns keys).
    func drainEvents() -> Bool { events.drainEvents() }

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
