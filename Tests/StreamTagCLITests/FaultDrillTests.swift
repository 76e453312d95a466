import Foundation
import Testing

/// `streamtag bench faults`, short: a real daemon child killed with SIGKILL under load and
/// started again; every answer checked (see `DrillCheck` in Sources/streamtag/Bench).
@Suite(.serialized) struct FaultDrillTests {
    /// Three kills at random moments: the daemon restarts each time, every stream resumes from
    /// the restored position, redelivered positions carry the same tags, nothing is skipped,
    /// repeated within a lifetime or out of order, and the final stop exits 0.
    @Test func killDrillRestartsAndResumes() throws {
        let result = try CLI.run(["bench", "faults", "--drills", "kill", "--kills", "3", "--snapshot-interval", "500ms",
                                  "--streams", "5", "--rate", "800", "--json"])
        let object = lastJSON(result.stdout)
        let kill = (object["kill"] as? [[String: Any]])?.first ?? [:]
        #expect(result.status == 0, "\(result.stdout.suffix(1500))\n\(result.stderr.suffix(1500))")
        #expect(kill["restarts"] as? Int == 3)
        #expect(kill["passed"] as? Bool == true)
        let check = kill["check"] as? [String: Any] ?? [:]
        #expect(check["problems"] as? Int == 0, "\(check)")
        #expect(check["streams_completed"] as? Int == 5)
        // A kill loses at most what came after the last snapshot: never more than was sent.
        let lost = kill["lost_acknowledged_tokens_per_kill"] as? [String: Any] ?? [:]
        #expect((lost["max"] as? Double ?? -1) >= 0)
        #expect((lost["max"] as? Double ?? .infinity) <= Double(kill["tokens_sent"] as? Int ?? 0))
    }

    /// The same at a rate a debug build cannot keep up with: periodic snapshots catch input
    /// still queued, and the restarted daemon answers it again (same seq, same tags) right
    /// after its first heartbeat, before the client has read `ctl streams`. Those answers open
    /// the new lifetime; nothing is out of order, repeated or changed.
    @Test func killDrillAcceptsReplayedQueuedInput() throws {
        let result = try CLI.run(["bench", "faults", "--drills", "kill", "--kills", "3", "--snapshot-interval", "500ms",
                                  "--streams", "5", "--rate", "12000", "--seed", "2", "--json"])
        let kill = (lastJSON(result.stdout)["kill"] as? [[String: Any]])?.first ?? [:]
        let check = kill["check"] as? [String: Any] ?? [:]
        #expect(result.status == 0, "\(result.stdout.suffix(1500))\n\(result.stderr.suffix(1500))")
        #expect(kill["restarts"] as? Int == 3)
        #expect(check["problems"] as? Int == 0, "\(check)")
        #expect(check["redelivered_other_tag"] as? Int == 0)
        #expect(check["streams_completed"] as? Int == 5)
    }

    /// Model paths the daemon already rejects cleanly: a directory (rejected at once, naming
    /// the path; a valid model put there afterwards loads), and a valid model written slowly in
    /// place (never served half-written; served once complete).
    @Test(arguments: ["directory", "slow-write"])
    func modelPathDrillHolds(drill: String) throws {
        try expectDrillPasses(["--drills", "model", "--model-cases", drill], key: "model_path")
    }

    /// The state directory full (a 64 KiB tmpfs), made read-only while running, read-only at
    /// start, or under a regular file: refused at start, or the failed snapshot exits non-zero
    /// with the reason and leaves the previous one intact. The mounts need root (a drill that
    /// cannot mount reports itself skipped, and that is accepted only when not root).
    @Test(arguments: ["full", "read-only-while-running", "read-only-at-start", "under-a-regular-file"])
    func stateDirectoryDrillHolds(drill: String) throws {
        try expectDrillPasses(["--drills", "state-dir", "--state-dir-cases", drill], key: "state_dir")
    }

    /// The model path replaced by a FIFO, a symlink to /dev/zero, or a file of garbage that grows
    /// while read: rejected with a reason, control keeps answering, RSS stays bounded.
    @Test(arguments: ["fifo", "dev-zero", "growing-garbage"])
    func hostileModelPathIsRejected(drill: String) throws {
        try expectDrillPasses(["--drills", "model", "--model-cases", drill], key: "model_path")
    }

    /// An unknown drill is refused, naming it.
    @Test func unknownDrillIsRefused() throws {
        let result = try CLI.run(["bench", "faults", "--drills", "explode"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown drill explode"))
    }
}

/// Runs one drill case and expects every expectation met (or the case skipped for lack of root).
func expectDrillPasses(_ arguments: [String], key: String) throws {
    let result = try CLI.run(["bench", "faults"] + arguments + ["--json"])
    let cases = lastJSON(result.stdout)[key] as? [[String: Any]] ?? []
    #expect(cases.count == 1, "\(result.stderr.suffix(2000))")
    for c in cases {
        if c["skipped"] as? Bool == true {
            #expect(getuid() != 0, "skipped as root: \(c["skip_reason"] ?? "")")
            continue
        }
        let failed = (c["expectations"] as? [[String: Any]] ?? []).filter { $0["passed"] as? Bool != true }
        // The daemon's last log lines say why (e.g. a sanitizer's report in a sanitized build).
        let log = (c["figures"] as? [String: Any])?["log_tail"] as? String ?? ""
        #expect(failed.isEmpty, "\(c["name"] ?? ""): \(failed)\nlog: \(log)")
        #expect(c["passed"] as? Bool == true)
    }
}
