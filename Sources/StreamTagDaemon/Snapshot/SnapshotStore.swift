import Foundation
import Logging
import StreamTagCore

/// Where snapshots live and how they are read and replaced. A damaged snapshot is renamed
/// aside (never deleted) and the daemon starts empty.
struct SnapshotStore: Sendable {
    let directory: String
    var path: String { directory + "/snapshot.bin" }

    /// The snapshot, or nil when there is none or it is damaged (then set aside and logged).
    func load(logger: Logger) -> SnapshotFile? {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path: path)
        } catch {
            if error.errno != ENOENT {
                logger.error("cannot read snapshot", metadata: ["path": "\(path)", "error": "\(error.message)"])
            }
            return nil
        }
        do {
            return try SnapshotFile.decode(bytes)
        } catch {
            let aside = path + ".damaged-" + timestamp()
            let renamed = rename(path, aside) == 0
            logger.error("snapshot is damaged; starting empty", metadata: [
                "path": "\(path)", "reason": "\(error.message)",
                "kept_as": "\(renamed ? aside : "(rename failed: \(String(cString: strerror(errno))))")",
            ])
            return nil
        }
    }

    /// Replaces the snapshot atomically, creating the directory if needed.
    func save(_ snapshot: SnapshotFile) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes = try snapshot.encode()
        try AtomicFile.write(bytes, to: path, permissions: 0o600)
    }

    private func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
