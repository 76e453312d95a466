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
    var fd: Int32 { events?.fd ?? -1 }
    /// Watches the file's directory; nil where that cannot be watched.
    private let events: InotifyWatch?
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
        let inotify = InotifyWatch(mask: IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB)
        events = inotify.watch(url.deletingLastPathComponent().path) ? inotify : nil
        lastSeen = Self.identity(of: path)
    }

    /// Reads pending inotify events; true if one concerns the model file's name.
    func drainEvents() -> Bool {
        events?.drainEvents(concerning: name) ?? false
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
