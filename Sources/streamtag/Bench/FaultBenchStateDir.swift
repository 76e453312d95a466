import Foundation
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// `state_dir` full or unwritable. Expected (issue "state directory full or unwritable",
/// docs/concepts.md#streams-batching-persistence): the directory is checked at start (ready only if it is
/// writable, else a refusal naming `state_dir`); a snapshot that cannot be written is refused
/// with the system's reason in words, the daemon keeps serving and answering `ctl`, the
/// previous snapshot stays intact, and a stop whose snapshot failed exits non-zero.
/// The full and read-only cases mount a tmpfs (root only; skipped otherwise).
struct StateDirDrill {
    var words: [String]
    var lookahead: Int

    static let cases = ["full", "read-only-while-running", "read-only-at-start", "under-a-regular-file"]

    func run(cases: [String]) -> [DrillCase] {
        let base = NSTemporaryDirectory() + "streamtag-drill-\(getpid())-statedir"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        return cases.map { name in
            switch name {
            case "full":
                whileRunning(name, base: base, reason: "No space left on device") { dir in
                    // Fill what is left: a snapshot of any size fails from now on.
                    fillFilesystem(dir + "/filler")
                }
            case "read-only-while-running":
                whileRunning(name, base: base, reason: "Read-only file system") { dir in
                    runTool("/bin/mount", ["-o", "remount,ro", dir]).map { "remount read-only failed: \($0)" }
                }
            case "read-only-at-start": atStart(name, base: base, mountOptions: "ro,size=1m")
            case "under-a-regular-file": atStart(name, base: base, mountOptions: nil)
            default:
                {
                    var c = DrillCase(name)
                    c.expect("known", false, "unknown state-dir drill (known: \(Self.cases.joined(separator: ", ")))")
                    return c
                }()
            }
        }
    }

    /// A daemon with a snapshot taken, then the directory breaks (`breakIt`).
    private func whileRunning(_ name: String, base: String, reason: String, breakIt: (String) -> String?) -> DrillCase {
        var c = DrillCase(name)
        printError("faults: state-dir \(name)")
        let dir = base + "/" + name
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let error = runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]) {
            c.skip("mounting a tmpfs failed (root needed): \(error)")
            return c
        }
        defer { _ = runTool("/bin/umount", ["-l", dir]) }
        do {
            let daemon = try DaemonProcess(tag: "statedir-\(name)", stateDir: dir, yaml: "snapshot_interval: 0\nmodel:\n  watch: false")
            defer {
                daemon.kill9()
                daemon.removeFiles()
            }
            try daemon.start()
            var session: DrillSession? = try DrillSession(daemon, prefix: "sd", words: words, lookahead: lookahead)
            c.expect("serves", try session!.openStreams(10), "10 streams opened and answered")
            let first = daemon.ctl([("cmd", .string("snapshot"))], timeout: 10)
            let snapshotPath = dir + "/snapshot.bin"
            let before = fileSHA256(snapshotPath)
            c.expect("snapshot_with_room", isOK(first) && before != nil, "ctl snapshot before the fault: \(describe(first))")
            if let problem = breakIt(dir) {
                c.skip(problem)
                return c
            }
            c.expect("serves_after_the_fault", try session!.openStreams(100), "100 more streams opened and answered")
            let refused = daemon.ctl([("cmd", .string("snapshot"))], timeout: 10)
            let text = describe(refused)
            c.expect("snapshot_refused_with_reason", refused != nil && !isOK(refused) && text.contains(reason),
                     "ctl snapshot: \(text)")
            let status = daemon.ctl([("cmd", .string("status"))], timeout: 3)
            c.expect("ctl_answers", isOK(status), "ctl status: \(describe(status))")
            c.expect("previous_snapshot_intact", fileSHA256(snapshotPath) == before, "snapshot.bin unchanged by the failed write")
            c.expect("answers_verified", session!.driver.check.isClean, session!.driver.check.summary)
            session = nil
            let exit = daemon.terminate(timeout: 30)
            let log = daemon.log
            c.expect("stop_exits_nonzero", exit != nil && exit != 0, "SIGTERM → exit status \(exit.map(String.init) ?? "none (killed after 30 s)")")
            c.expect("stop_says_why", log.contains(reason), "the log names \"\(reason)\"")
            c.expect("previous_snapshot_intact_after_stop", fileSHA256(snapshotPath) == before, "snapshot.bin unchanged by the failed stop")
            c.figures.snapshotBytes = (try? FileManager.default.attributesOfItem(atPath: snapshotPath)[.size] as? Int) ?? -1
        } catch {
            c.expect("runs", false, "\(error)")
        }
        return c
    }

    /// A daemon started on a directory it cannot write: expected to refuse, naming state_dir.
    private func atStart(_ name: String, base: String, mountOptions: String?) -> DrillCase {
        var c = DrillCase(name)
        printError("faults: state-dir \(name)")
        var dir = base + "/" + name
        if let options = mountOptions {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if let error = runTool("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]) {
                c.skip("mounting a tmpfs failed (root needed): \(error)")
                return c
            }
        } else {
            _ = FileManager.default.createFile(atPath: dir, contents: Data("not a directory\n".utf8))
            dir += "/state"
        }
        defer { if mountOptions != nil { _ = runTool("/bin/umount", ["-l", base + "/" + name]) } }
        do {
            let daemon = try DaemonProcess(tag: "statedir-\(name)", stateDir: dir, yaml: "snapshot_interval: 0\nmodel:\n  watch: false")
            defer {
                daemon.kill9()
                daemon.removeFiles()
            }
            let exit = try daemon.startExpectingExit(timeout: 15)
            var ready = false
            if exit == nil { ready = daemon.ctl([("cmd", .string("status"))], timeout: 3) != nil }
            c.expect("refuses_to_start", exit != nil && exit != 0,
                     exit.map { "exit status \($0)" } ?? (ready ? "running and answering ctl: ready although it can never save" : "still running after 15 s"))
            let log = daemon.log
            c.expect("names_state_dir", log.contains("state_dir"), "the log names state_dir: \(lastLines(log, 3))")
        } catch {
            c.expect("runs", false, "\(error)")
        }
        return c
    }

    private func isOK(_ answer: JSONValue?) -> Bool {
        if case .bool(true)? = answer?["ok"] { return true }
        return false
    }
}

/// Writes zeros to `path` until the filesystem is full; nil when it is.
func fillFilesystem(_ path: String) -> String? {
    guard let file = fopen(path, "w") else { return "cannot create \(path): errno \(errno)" }
    defer { fclose(file) }
    let chunk = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<(1 << 20) {
        if fwrite(chunk, 1, chunk.count, file) < chunk.count || fflush(file) != 0 { return nil }
    }
    return "\(path) never filled up"
}

func lastLines(_ text: String, _ n: Int) -> String {
    text.split(separator: "\n").suffix(n).joined(separator: " | ")
}
