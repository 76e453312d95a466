import Foundation

/// One expectation of a drill: what should hold, whether it did, what was seen.
struct DrillExpectation: Encodable {
    var name: String
    var passed: Bool
    var detail: String
}

/// What a drill case measured beside its expectations, for the record. Each drill sets the
/// figures it has; the others stay out of the JSON.
struct DrillFigures: Encodable {
    /// Model drills: the daemon's RSS before the fault and the most while it lasted.
    var rssBeforeMiB: Int?
    var rssMaxMiB: Int?
    /// Model drills: `/healthz` after the fault, status and body.
    var healthz: String?
    /// Model drills: the last lines of the daemon's log.
    var logTail: String?
    /// State directory drills: the snapshot's size after the failed stop (-1: unreadable).
    var snapshotBytes: Int?

    enum CodingKeys: String, CodingKey {
        case rssBeforeMiB = "rss_before_mib", rssMaxMiB = "rss_max_mib", healthz, logTail = "log_tail"
        case snapshotBytes = "snapshot_bytes"
    }
}

/// A drill made of expectations (state directory, model path).
struct DrillCase: Encodable {
    var name: String
    var expectations: [DrillExpectation] = []
    var skipped = false
    var skipReason = ""
    var figures = DrillFigures()

    init(_ name: String) { self.name = name }

    var passed: Bool { expectations.allSatisfy(\.passed) }

    mutating func expect(_ name: String, _ passed: Bool, _ detail: String) {
        expectations.append(DrillExpectation(name: name, passed: passed, detail: detail))
    }

    mutating func skip(_ reason: String) {
        skipped = true
        skipReason = reason
    }

    func printSummary() {
        if skipped {
            print("  \(name): skipped (\(skipReason))")
            return
        }
        print("  \(name): \(passed ? "passed" : "FAILED")")
        for e in expectations { print("    [\(e.passed ? "ok" : "FAIL")] \(e.name): \(e.detail)") }
    }

    enum CodingKeys: String, CodingKey {
        case name, passed, skipped, skipReason = "skip_reason", expectations, figures
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        // A skipped case did not pass (and did not fail: `skipped` says which).
        try container.encode(passed && !skipped, forKey: .passed)
        try container.encode(skipped, forKey: .skipped)
        if skipped { try container.encode(skipReason, forKey: .skipReason) }
        try container.encode(expectations, forKey: .expectations)
        try container.encode(figures, forKey: .figures)
    }
}
