import Foundation
import StreamTagClient

// The `bench e2e --json` object: milliseconds and cores rounded to three decimals, rates to
// whole tags. Scripts and tests read these keys (Tests/StreamTagCLITests/BenchE2ETests.swift;
// BenchJSONTests.swift pins them): renaming one changes the output's contract.

/// Latency percentiles of a run, milliseconds with three decimals.
struct LatencyFigures: Encodable {
    let p50: Double
    let p90: Double
    let p99: Double
    let p999: Double
    let max: Double
    let mean: Double

    init(_ latency: LatencySummary) {
        p50 = round3(latency.p50 * 1e3)
        p90 = round3(latency.p90 * 1e3)
        p99 = round3(latency.p99 * 1e3)
        p999 = round3(latency.p999 * 1e3)
        max = round3(latency.max * 1e3)
        mean = round3(latency.mean * 1e3)
    }

    enum CodingKeys: String, CodingKey {
        case p50 = "p50_ms", p90 = "p90_ms", p99 = "p99_ms", p999 = "p999_ms", max = "max_ms", mean = "mean_ms"
    }
}

/// A configuration's paced runs: the median latency figures, and beside them the rate, the
/// generator's lateness, CPU and every run's own latency.
struct E2EPacedFigures: Encodable {
    let latency: LatencyFigures
    /// Absent when the runs were not paced at a fixed rate.
    let targetTokensPerSecond: Double?
    let tagsPerSecond: Double
    let samples: Int
    let sendLatenessP99Milliseconds: Double
    let skippedSends: Int
    let cpu: E2ECPU
    let runs: [LatencyFigures]

    init(_ config: E2EConfigResult) {
        let paced = config.paced
        latency = LatencyFigures(config.pacedLatency)
        if case .paced(let rate)? = paced.first?.result.phase.mode { targetTokensPerSecond = rate.rounded() } else { targetTokensPerSecond = nil }
        tagsPerSecond = median(paced.map(\.result.tagsPerSecond)).rounded()
        samples = config.pacedLatency.count
        sendLatenessP99Milliseconds = round3(median(paced.map(\.result.lateness.p99)) * 1e3)
        skippedSends = paced.reduce(0) { $0 + $1.result.skippedSends }
        cpu = medianCPU(paced.map(\.cpu))
        runs = paced.map { LatencyFigures($0.result.latency) }
    }

    enum CodingKeys: String, CodingKey {
        case targetTokensPerSecond = "target_tokens_per_s", tagsPerSecond = "tags_per_s", samples
        case sendLatenessP99Milliseconds = "send_lateness_p99_ms", skippedSends = "skipped_sends", cpu, runs
    }

    func encode(to encoder: any Encoder) throws {
        // One object: the latency keys beside the others, not nested under a key of their own.
        try latency.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(targetTokensPerSecond, forKey: .targetTokensPerSecond)
        try container.encode(tagsPerSecond, forKey: .tagsPerSecond)
        try container.encode(samples, forKey: .samples)
        try container.encode(sendLatenessP99Milliseconds, forKey: .sendLatenessP99Milliseconds)
        try container.encode(skippedSends, forKey: .skippedSends)
        try container.encode(cpu, forKey: .cpu)
        try container.encode(runs, forKey: .runs)
    }
}

extension E2ECPU: Encodable {
    enum CodingKeys: String, CodingKey {
        case daemonCores = "daemon_cores", daemonByGroup = "daemon_by_thread", generatorCores = "generator_cores"
        case daemonMicrosecondsPerTag = "daemon_cpu_us_per_tag", daemonRunQueueWait = "daemon_run_queue_wait_ms_per_s"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(round3(daemonCores), forKey: .daemonCores)
        try container.encode(daemonByGroup.mapValues(round3), forKey: .daemonByGroup)
        try container.encode(round3(generatorCores), forKey: .generatorCores)
        try container.encode(round3(daemonMicrosecondsPerTag), forKey: .daemonMicrosecondsPerTag)
        try container.encode(round3(daemonRunQueueWait * 1e3), forKey: .daemonRunQueueWait)
    }
}

extension E2EConfigResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case streams, tokensPerMessage = "tokens_per_message", saturatedTagsPerSecond = "saturated_tags_per_s"
        case saturatedRuns = "saturated_runs_tags_per_s", projectedTagsPerSecond = "projected_tags_per_s_all_cores"
        case window, saturatedCPU = "saturated_cpu", saturatedLatency = "saturated_latency_ms", verified, problems
        case messages, tokens, paced
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let runs = saturated + paced
        try container.encode(streams, forKey: .streams)
        try container.encode(tokensPerMessage, forKey: .tokensPerMessage)
        try container.encode(medianTagsPerSecond.rounded(), forKey: .saturatedTagsPerSecond)
        try container.encode(saturated.map { $0.result.tagsPerSecond.rounded() }, forKey: .saturatedRuns)
        try container.encode(projectedTagsPerSecond.rounded(), forKey: .projectedTagsPerSecond)
        try container.encode(saturated.first?.result.phase.window ?? 0, forKey: .window)
        try container.encode(medianCPU(saturated.map(\.cpu)), forKey: .saturatedCPU)
        try container.encode(LatencyFigures(medianLatency(saturated.map(\.result.latency))), forKey: .saturatedLatency)
        try container.encode(verified, forKey: .verified)
        try container.encode(problems, forKey: .problems)
        try container.encode(runs.reduce(0) { $0 + $1.result.messagesSent }, forKey: .messages)
        try container.encode(runs.reduce(0) { $0 + $1.result.tokensSent }, forKey: .tokens)
        if !paced.isEmpty { try container.encode(E2EPacedFigures(self), forKey: .paced) }
    }
}

extension E2EIdleResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case streams, openStreamsReported = "open_streams_reported", rssBefore = "rss_before_bytes"
        case rssAfter = "rss_after_bytes", peak = "peak_rss_bytes", bytesPerStream = "bytes_per_idle_stream"
        case rawStateBytes = "raw_state_bytes", overheadPerStream = "overhead_bytes_per_stream"
        case openSeconds = "open_seconds", verified, problems
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(streams, forKey: .streams)
        try container.encode(openStreamsReported, forKey: .openStreamsReported)
        try container.encode(rssBefore, forKey: .rssBefore)
        try container.encode(rssAfter, forKey: .rssAfter)
        try container.encode(peak, forKey: .peak)
        try container.encode(bytesPerStream.rounded(), forKey: .bytesPerStream)
        try container.encode(rawStateBytes, forKey: .rawStateBytes)
        try container.encode(overheadPerStream.rounded(), forKey: .overheadPerStream)
        try container.encode(round3(openSeconds), forKey: .openSeconds)
        try container.encode(verification.isClean, forKey: .verified)
        try container.encode(Dictionary(verification.nonZero, uniquingKeysWith: +), forKey: .problems)
    }
}

extension E2EReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case bench, model, lookahead, rawStateBytes = "raw_state_bytes", daemon, settings = "daemon_settings"
        case runs, duration = "duration_s", warmup = "warmup_s", generatorPriority = "paced_generator_priority"
        case loadBefore = "load_average_before", loadAfter = "load_average_after", cores, configs
        case peakRSS = "peak_rss_bytes", verified, targets, idle, security, curve
    }

    /// `curve` (with `--security both`): the CURVE daemon's configurations and the ratios.
    enum CurveCodingKeys: String, CodingKey {
        case configs, ratios
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("e2e", forKey: .bench)
        try container.encode(model, forKey: .model)
        try container.encode(lookahead, forKey: .lookahead)
        try container.encode(rawStateBytes, forKey: .rawStateBytes)
        try container.encode("streamtag serve (child process)", forKey: .daemon)
        try container.encode(settings, forKey: .settings)
        try container.encode(runs, forKey: .runs)
        try container.encode(duration, forKey: .duration)
        try container.encode(warmup, forKey: .warmup)
        try container.encode(generatorPriority.rawValue, forKey: .generatorPriority)
        try container.encode(loadBefore, forKey: .loadBefore)
        try container.encode(loadAfter, forKey: .loadAfter)
        try container.encode(ProcessInfo.processInfo.activeProcessorCount, forKey: .cores)
        try container.encode(configs, forKey: .configs)
        try container.encode(peakRSS, forKey: .peakRSS)
        try container.encode(allVerified, forKey: .verified)
        try container.encode(targets, forKey: .targets)
        try container.encodeIfPresent(idle, forKey: .idle)
        try container.encode(security.rawValue, forKey: .security)
        if security == .both {
            var curve = container.nestedContainer(keyedBy: CurveCodingKeys.self, forKey: .curve)
            try curve.encode(curveConfigs, forKey: .configs)
            try curve.encode(curveRatios, forKey: .ratios)
        }
    }
}
