import Foundation
import Testing
import StreamTagClient
import StreamTagCore
@testable import streamtag

/// The `--json` objects of the benchmarks keep their keys: scripts and the tests that run the
/// benchmarks read them, so a renamed or dropped key must show up here. The key lists are the
/// ones `bench e2e`, `bench faults` and `bench soak` printed before the reports became Codable.
@Suite struct BenchJSONTests {
    static let e2eKeys = ["bench", "configs", "cores", "curve", "daemon", "daemon_settings", "duration_s", "idle",
                          "load_average_after", "load_average_before", "lookahead", "model", "paced_generator_priority",
                          "peak_rss_bytes", "raw_state_bytes", "runs", "security", "targets", "verified", "warmup_s"]
    static let e2eConfigKeys = ["messages", "paced", "problems", "projected_tags_per_s_all_cores", "saturated_cpu",
                                "saturated_latency_ms", "saturated_runs_tags_per_s", "saturated_tags_per_s", "streams",
                                "tokens", "tokens_per_message", "verified", "window"]
    static let latencyKeys = ["max_ms", "mean_ms", "p50_ms", "p90_ms", "p999_ms", "p99_ms"]
    static let e2ePacedKeys = (latencyKeys + ["cpu", "runs", "samples", "send_lateness_p99_ms", "skipped_sends", "tags_per_s",
                                              "target_tokens_per_s"]).sorted()
    static let e2eCPUKeys = ["daemon_by_thread", "daemon_cores", "daemon_cpu_us_per_tag", "daemon_run_queue_wait_ms_per_s",
                             "generator_cores"]
    static let e2eIdleKeys = ["bytes_per_idle_stream", "open_seconds", "open_streams_reported", "overhead_bytes_per_stream",
                              "peak_rss_bytes", "problems", "raw_state_bytes", "rss_after_bytes", "rss_before_bytes", "streams",
                              "verified"]
    static let drillCheckKeys = ["answers_again", "answers_missing", "answers_out_of_order", "end_count_mismatches",
                                 "ends_missing", "ends_repeated", "expected_events", "foreign", "positions_lost",
                                 "positions_missing", "positions_repeated", "positions_skipped", "problems",
                                 "redelivered_other_tag", "redelivered_same_tag", "restore_inconsistent", "streams_completed",
                                 "token_mismatches", "unexpected_events", "unreadable", "verified"]

    /// A plaintext-and-CURVE run of one configuration with a saturated and a paced run, and
    /// idle streams: every object of the report has its documented keys, numbers their types.
    @Test func e2eReportKeepsItsKeys() throws {
        var report = E2EReport(model: "m@0", lookahead: 2, rawStateBytes: 4096, settings: ["workers=2"], runs: 1,
                               pacedText: "", duration: 0.3, warmup: 0.1, loadBefore: "0.00 0.00 0.00")
        report.configs = [sampleConfig()]
        report.curveConfigs = [sampleConfig()]
        report.security = .both
        report.idle = E2EIdleResult(streams: 20, rawStateBytes: 4096, rssBefore: 1 << 20, rssAfter: 2 << 20, peak: 3 << 20,
                                    openSeconds: 0.0123, openStreamsReported: 20)
        let object = try parsedLine(report)
        #expect(object.keys.sorted() == Self.e2eKeys)
        let config = try #require((object["configs"] as? [[String: Any]])?.first)
        #expect(config.keys.sorted() == Self.e2eConfigKeys)
        #expect((config["saturated_latency_ms"] as? [String: Any])?.keys.sorted() == Self.latencyKeys)
        #expect((config["saturated_cpu"] as? [String: Any])?.keys.sorted() == Self.e2eCPUKeys)
        let paced = try #require(config["paced"] as? [String: Any])
        #expect(paced.keys.sorted() == Self.e2ePacedKeys)
        #expect((paced["runs"] as? [[String: Any]])?.first?.keys.sorted() == Self.latencyKeys)
        #expect((object["idle"] as? [String: Any])?.keys.sorted() == Self.e2eIdleKeys)
        let curve = try #require(object["curve"] as? [String: Any])
        #expect(curve.keys.sorted() == ["configs", "ratios"])
        #expect((curve["ratios"] as? [[String: Any]])?.first?.keys.sorted()
                == ["curve_tags_per_s", "plaintext_tags_per_s", "ratio", "streams", "tokens_per_message"])
        // Counts stay integers; rates are whole numbers written without a fraction.
        let line = try jsonLine(report)
        #expect(line.contains(#""window":16}"#) && line.contains(#""saturated_tags_per_s":1235,"#))
        #expect(config["messages"] as? Int == 200)
    }

    /// Optional parts are absent, not null: no `curve` without `--security both`, no `idle`
    /// without idle streams, no `paced` without paced runs.
    @Test func e2eReportLeavesOutWhatWasNotMeasured() throws {
        var report = E2EReport(model: "m@0", lookahead: 2, rawStateBytes: 4096, settings: [], runs: 1,
                               pacedText: "none", duration: 0.3, warmup: 0.1, loadBefore: "0.00 0.00 0.00")
        var config = sampleConfig()
        config.paced = []
        report.configs = [config]
        let object = try parsedLine(report)
        #expect(object.keys.sorted() == Self.e2eKeys.filter { $0 != "curve" && $0 != "idle" })
        #expect((object["configs"] as? [[String: Any]])?.first?.keys.sorted() == Self.e2eConfigKeys.filter { $0 != "paced" })
    }

    /// The kill drill's result and the drill cases: check counters, summaries, `failure` and
    /// `skip_reason` only when there is one, `figures` an object even when empty.
    @Test func faultDrillReportsKeepTheirKeys() throws {
        var kill = KillDrillResult(kills: 2, snapshotInterval: 0.5, streams: 5, tokensPerMessage: 4, rate: 800)
        kill.restartSeconds = [0.25, 0.5]
        kill.lostAcknowledged = [3, 5]
        let result = try parsedLine(kill)
        #expect(result.keys.sorted() == ["check", "final_exit_status", "kills", "lost_acknowledged_tokens_per_kill",
                                         "lost_seconds_of_input_per_kill", "passed", "rate_tokens_per_s", "resent_tokens_per_kill",
                                         "restart_s", "restarts", "restored_streams", "seconds", "snapshot_interval_s", "streams",
                                         "tokens_per_message", "tokens_sent"])
        #expect((result["check"] as? [String: Any])?.keys.sorted() == Self.drillCheckKeys)
        #expect((result["restart_s"] as? [String: Any])?.keys.sorted() == ["count", "max", "mean", "median", "min"])
        #expect((result["resent_tokens_per_kill"] as? [String: Any])?.keys.sorted() == ["count"])
        kill.failure = "restart 1 failed"
        #expect(try parsedLine(kill)["failure"] as? String == "restart 1 failed")

        var drill = DrillCase("fifo")
        drill.expect("rejected", true, "a FIFO")
        var object = try parsedLine(drill)
        #expect(object.keys.sorted() == ["expectations", "figures", "name", "passed", "skipped"])
        #expect((object["figures"] as? [String: Any])?.isEmpty == true)
        #expect((object["expectations"] as? [[String: Any]])?.first?.keys.sorted() == ["detail", "name", "passed"])
        drill.skip("needs root")
        drill.figures.snapshotBytes = 48387
        object = try parsedLine(drill)
        #expect(object["skip_reason"] as? String == "needs root")
        #expect(object["passed"] as? Bool == false)
        #expect((object["figures"] as? [String: Any])?.keys.sorted() == ["snapshot_bytes"])
    }

    /// The soak report: its top-level keys and the nested settings, RSS and fd objects.
    @Test func soakReportKeepsItsKeys() throws {
        var monitor = SoakMonitor.State()
        monitor.samples = (0..<30).map { SoakMonitor.Sample(t: Double($0), rss: 100 << 20, fds: 35) }
        let settings = SoakReport.Settings(streams: 4, tokensPerMessage: 4, rate: 300, idleTimeout: "1s", snapshotInterval: "3s",
                                           reloadEvery: "3s", sighupEvery: "4s", model: "m@0", cpus: 2)
        let report = SoakReport(duration: 30, monitor: monitor, check: DrillCheck(), exitStatus: 0, rssLimit: 2, fdTolerance: 8,
                                settings: settings)
        let object = try parsedLine(report)
        #expect(object.keys.sorted() == ["answers", "check", "daemon_metrics", "duration_s", "exit_status", "failures", "fds",
                                         "messages_sent", "passed", "reload_s", "reload_times_s", "reloads", "reloads_served",
                                         "rss_growth_percent", "rss_judged", "rss_mib", "rss_series_mib",
                                         "rss_slope_mib_per_hour", "samples", "scrape_failures", "scrape_ms", "scrapes",
                                         "settings", "sighups", "streams_opened", "system_events", "warmup_s", "window_s"])
        #expect((object["settings"] as? [String: Any])?.keys.sorted()
                == ["cpus", "idle_timeout", "model", "rate_tokens_per_s", "reload_every", "sighup_every", "snapshot_interval",
                    "streams", "tokens_per_message"])
        #expect((object["rss_mib"] as? [String: Any])?.keys.sorted() == ["baseline", "final", "max_after_warmup", "start"])
        #expect((object["fds"] as? [String: Any])?.keys.sorted() == ["first", "last", "max", "min"])
        #expect((object["check"] as? [String: Any])?.keys.sorted() == Self.drillCheckKeys)
    }

    /// `bench kernel`: fp32 figures under the plain names, another precision's under its suffix.
    @Test func kernelReportNamesEachPrecision() throws {
        var report = KernelBenchReport(isa: "avx2", shape: .init(V: 1000, E: 16, H: 32, C: 17))
        for precision in [Model.Precision.fp32, .bf16] {
            report.precisions.append(.init(precision: precision, stepMicroseconds: 3.89, tokensPerSecond: ["1": 262721, "8": 587188]))
        }
        let object = try parsedLine(report)
        #expect(object.keys.sorted() == ["isa", "shape", "step_us", "step_us_bf16", "tokens_per_s", "tokens_per_s_bf16"])
        #expect((object["shape"] as? [String: Any])?.keys.sorted() == ["C", "E", "H", "V"])
        #expect(try jsonLine(report).contains(#""tokens_per_s":{"1":262721,"8":587188}"#))
    }

    /// JSON has no NaN or infinity: such a figure (a rate over a zero duration) is written as a
    /// string, and the rest of the report still comes out.
    @Test func nonFiniteFiguresAreWrittenAsStrings() throws {
        var cpu = E2ECPU()
        cpu.daemonCores = .nan
        cpu.daemonMicrosecondsPerTag = .infinity
        let object = try parsedLine(cpu)
        #expect(object["daemon_cores"] as? String == "NaN")
        #expect(object["daemon_cpu_us_per_tag"] as? String == "Infinity")
        #expect(object["generator_cores"] as? Double == 0)
        let summary = try parsedLine(ValueSummary([1, -.infinity]))
        #expect(summary["min"] as? String == "-Infinity")
        #expect(summary["max"] as? Double == 1)
    }

    /// One configuration with one saturated and one paced run.
    private func sampleConfig() -> E2EConfigResult {
        var saturated = LoadResult(phase: LoadPhase(streams: 3, tokensPerMessage: 2, mode: .saturated, window: 16))
        saturated.tagsPerSecond = 1234.6
        saturated.messagesSent = 150
        saturated.drained = true
        var paced = LoadResult(phase: LoadPhase(streams: 3, tokensPerMessage: 2, mode: .paced(tokensPerSecond: 600)))
        paced.tagsPerSecond = 598
        paced.messagesSent = 50
        paced.drained = true
        var cpu = E2ECPU()
        cpu.daemonByGroup = ["io": 0.1234, "workers": 0.5]
        var config = E2EConfigResult(streams: 3, tokensPerMessage: 2)
        config.saturated = [E2ERun(result: saturated, cpu: cpu)]
        config.paced = [E2ERun(result: paced, cpu: cpu)]
        return config
    }

    /// The object `jsonLine` writes for `report`, read back.
    private func parsedLine(_ report: some Encodable) throws -> [String: Any] {
        let line = try jsonLine(report)
        #expect(!line.contains("\n"))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}
