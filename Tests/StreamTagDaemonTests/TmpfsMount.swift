import Foundation

/// A size-limited tmpfs mounted for a test (nil when mounting is not allowed here).
struct TmpfsMount {
    let path: String

    /// Whether a tmpfs can be mounted here (tried once).
    static let available: Bool = {
        guard let probe = TmpfsMount(bytes: 4096) else { return false }
        probe.remove()
        return true
    }()

    init?(bytes: Int) {
        path = NSTemporaryDirectory() + "streamtag-tmpfs-" + UUID().uuidString
        guard getuid() == 0, (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil else { return nil }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path]
        guard (try? mount.run()) != nil else { return nil }
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
    }

    func remove() {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [path]
        try? umount.run()
        umount.waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }
}
