import Foundation
import Testing

/// `streamtag bench e2e` end to end on a tiny load: a real daemon child, real sockets.
@Suite(.serialized) struct BenchE2ETests {
    /// Both generator priorities run, every answer is verified (exit 0), and the JSON says which
    /// priority the paced runs had.
    @Test(arguments: ["normal", "idle"])
    func tinyRunVerifiesAndReportsTheGeneratorPriority(priority: String) throws {
        let result = try CLI.run(["bench", "e2e", "--streams", "3", "--tokens-per-message", "2", "--runs", "1",
                                  "--paced-runs", "1", "--duration", "0.3", "--warmup", "0.1", "--idle-streams", "0",
                                  "--generator-priority", priority, "--json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let json = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        #expect(object["paced_generator_priority"] as? String == priority)
        #expect(object["verified"] as? Bool == true)
        let configs = object["configs"] as? [[String: Any]] ?? []
        #expect(configs.count == 1 && (configs.first?["paced"] as? [String: Any])?["samples"] as? Int ?? 0 > 0)
        // Leaving SCHED_IDLE needs CAP_SYS_NICE (or a nice limit) unless root; as root both work.
        if getuid() == 0 {
            #expect(result.stderr.contains("could not") == false, "the priority was applied and restored")
        }
    }
}
