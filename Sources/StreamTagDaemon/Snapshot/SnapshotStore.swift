import Foundation
import Logging
import StreamTagCore

/// Where snapshots live and how they are read and replaced. A damaged snapshot is renamed
/// aside (never deleted) and the daemon starts empty.
struct SnapshotStore: Sendable {
    let directory: String
    var path: String { directory + "/snapshot.bin" }

    /// The snapshot, or nil when there is none or it is damaged (then set aside and logged).
    /// Records that fail their checks are in the result's `dropped`.
    func load(logger: Logger, limits: SnapshotLimits) -> SnapshotFile? {
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
            return try SnapshotFile.decode(bytes, limits: limits)
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

    /// Replaces the snapshot atomically (temp file, fsync, rename: a failure leaves the previous
    /// one as it was), creating the directory if needed. Errors name the path and the reason.
    func save(_ snapshot: SnapshotFile) throws {
        try makeDirectory()
        let bytes = try snapshot.encode()
        try AtomicFile.write(bytes, to: path, permissions: 0o600)
    }

    /// Checks at start that snapshots can be written: creates the directory if needed, then
    /// writes a probe file in it the way `save` writes the snapshot (temp file, fsync, rename,
    /// directory fsync) and removes it.
    func checkWritable() throws(StateDirError) {
        do throws(FileError) {
            try makeDirectory()
            let probe = directory + "/.probe-\(getpid())"
            try AtomicFile.write([0], to: probe, permissions: 0o600)
            unlink(probe)
        } catch {
            throw StateDirError(directory: directory, reason: error.message)
        }
    }

    /// `mkdir -p` with the failing path and errno in the error (Foundation's says
    /// `NSCocoaErrorDomain Code=512 "(null)"` for a parent that is a regular file).
    private func makeDirectory() throws(FileError) {
        var built = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/", omittingEmptySubsequences: true) {
            built += "/" + part
            if mkdir(built, 0o700) == 0 { continue }
            let code = errno
            var info = stat()
            if code == EEXIST, stat(built, &info) == 0 {
                guard (info.st_mode & S_IFMT) == S_IFDIR else { throw FileError("use as a directory", built, errno: ENOTDIR) }
                continue
            }
            throw FileError("create directory", built, errno: code)
        }
    }

    private func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

/// `state_dir` cannot hold snapshots: the daemon refuses to start.
struct StateDirError: Error, CustomStringConvertible {
    let directory: String
    let reason: String
    var description: String { "state_dir \(directory) is not writable: \(reason)" }
}
