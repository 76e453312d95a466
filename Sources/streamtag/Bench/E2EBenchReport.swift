import Foundation
import StreamTagDaemon
import StreamTagClient

/// CPU use during a run's measurement interval, in cores (CPU seconds per second).
struct E2ECPU {
    var daemonCores = 0.0
    /// By daemon thread group: io, workers, zmq_io, other.
    var daemonByGroup: [String: Double] = [:]
    var generatorCores = 0.0
    /// Seconds per second the daemon's threads were runnable but waiting for a CPU (summed
    /// over threads): how much other processes (and the generator) delayed it.
    var daemonRunQueueWait = 0.0
    /// Daemon CPU time per final tag.
    var daemonMicrosecondsPerTag = 0.0
}

struct E2ERun {
    var result: LoadResult
    var cpu: E2ECPU
}

struct E2EConfigResult {
    let streams: Int
    let tokensPerMessage: Int
    var saturated: [E2ERun] = []
    var paced: [E2ERun] = []

    var medianTagsPerSecond: Double { median(saturated.map(\.result.tagsPerSecond)) }
    /// What the saturated rate would be if the daemon had every core but the generator's
    /// share: the machine's cores minus the generator's CPU, divided by the daemon's CPU time
    /// per tag (a CPU-bound projection; it assumes the daemon's threads could use them all).
    var projectedTagsPerSecond: Double {
        let cpu = medianCPU(saturated.map(\.cpu))
        guard cpu.daemonMicrosecondsPerTag > 0 else { return 0 }
        return (Double(ProcessInfo.processInfo.activeProcessorCount) - cpu.generatorCores) / (cpu.daemonMicrosecondsPerTag * 1e-6)
    }
    /// Per-percentile medians over the paced runs.
    var pacedLatency: LatencySummary { medianLatency(paced.map(\.result.latency)) }
    var verified: Bool { (saturated + paced).allSatisfy { $0.result.verification.isClean && $0.result.drained } }

    /// Problems of every run, summed by name.
    var problems: [String: Int] {
        var out: [String: Int] = [:]
        for run in saturated + paced {
            for (name, value) in run.result.verification.nonZero { out[name, default: 0] += value }
            if !run.result.drained { out["not_drained", default: 0] += 1 }
        }
        return out
    }
}

struct E2EIdleResult {
    let streams: Int
    let rawStateBytes: Int
    let rssBefore: Int
    let rssAfter: Int
    let peak: Int
    let openSeconds: Double
    let openStreamsReported: Int
    var verification = LoadVerification()

    var bytesPerStream: Double { Double(rssAfter - rssBefore) / Double(streams) }
    var overheadPerStream: Double { bytesPerStream - Double(rawStateBytes) }
}

/// A target of the brief and what the run measured against it.
struct E2ETarget: Encodable {
    let name: String
    let value: String
    let pass: Bool
}

struct E2EReport {
    var model: String
    /// `--connect`: the endpoints of the external daemon driven (no child, no daemon CPU figures).
    var connected: String?
    let lookahead: Int
    let rawStateBytes: Int
    let settings: [String]
    let runs: Int
    /// How the paced rate was chosen, for the table's header.
    let pacedText: String
    /// The generator's scheduling during the paced runs (`--generator-priority`).
    var generatorPriority = GeneratorPriority.normal
    let duration: Double
    let warmup: Double
    let loadBefore: String
    var loadAfter = ""
    var daemonPID = 0
    var configs: [E2EConfigResult] = []
    var peakRSS = 0
    var idle: E2EIdleResult?
    /// `--security`: plaintext, curve, or both (then `curveConfigs` holds the CURVE daemon's).
    var security = E2ESecurity.plaintext
    var curveConfigs: [E2EConfigResult] = []

    var allVerified: Bool {
        (configs + curveConfigs).allSatisfy(\.verified) && (idle?.verification.isClean ?? true)
    }

    /// The targets of the brief, where the matrix measured them.
    var targets: [E2ETarget] {
        var out: [E2ETarget] = []
        if let c = configs.first(where: { $0.streams == 1000 && $0.tokensPerMessage == 8 && !$0.saturated.isEmpty }) {
            out.append(E2ETarget(name: "1000×8 saturated ≥ 150,000 tags/s",
                                 value: "\(grouped(c.medianTagsPerSecond)) (all-cores projection \(grouped(c.projectedTagsPerSecond)))",
                                 pass: c.medianTagsPerSecond >= 150_000))
        }
        if let c = configs.first(where: { $0.streams == 1000 && $0.tokensPerMessage == 1 && !$0.saturated.isEmpty }) {
            out.append(E2ETarget(name: "1000×1 saturated ≥ 40,000 tags/s",
                                 value: "\(grouped(c.medianTagsPerSecond)) (all-cores projection \(grouped(c.projectedTagsPerSecond)))",
                                 pass: c.medianTagsPerSecond >= 40_000))
        }
        for c in configs where c.streams == 1000 && !c.paced.isEmpty {
            let p99 = c.pacedLatency.p99
            out.append(E2ETarget(name: "1000×\(c.tokensPerMessage) paced p99 ≤ 2 ms", value: millisecondsText(p99), pass: p99 <= 0.002))
        }
        if let idle {
            out.append(E2ETarget(name: "idle stream overhead ≤ 4 KiB beyond raw state", value: String(format: "%.0f B", idle.overheadPerStream),
                                 pass: idle.overheadPerStream <= 4096))
        }
        return out
    }

    func printTable() {
        let settingsText = settings.isEmpty ? "defaults" : settings.joined(separator: " ")
        if let connected {
            print("e2e against a running daemon at \(connected), model \(model); daemon CPU and memory not measured (not our child)")
        } else {
            print("e2e over loopback TCP: daemon = `streamtag serve` child process (\(settingsText)), model \(model) (k=\(lookahead)), load generator in the parent")
        }
        print("  saturated: median of \(runs) runs × \(wholeOrDecimalText(duration)) s after \(wholeOrDecimalText(warmup)) s warm-up; paced: \(pacedText); load average \(loadBefore) → \(loadAfter)")
        if security != .both {
            if security == .curve { print("  CURVE on every socket (the generator is an allowed client)") }
            printConfigTable(configs)
        } else {
            print("  plaintext daemon:")
            printConfigTable(configs)
            print("  CURVE daemon (the same configurations, each measured right after its plaintext run):")
            printConfigTable(curveConfigs)
            printCurveRatios()
        }
        print("  all-cores proj. = (cores − generator CPU) / daemon CPU per tag: the saturated rate if the daemon had the machine to itself")
        print("  rq wait = time the daemon's threads spent runnable but waiting for a CPU during the paced runs (schedstat), per second")
        if connected == nil { print(String(format: "  daemon peak RSS (VmHWM) over the matrix: %.1f MiB", Double(peakRSS) / 1048576)) }
        if let idle {
            print(String(format: "  idle streams: %@ opened in %.1f s (daemon reports %@ open); RSS %.1f → %.1f MiB = %.0f B/stream; raw state %d B → overhead %.0f B/stream",
                         grouped(Double(idle.streams)), idle.openSeconds, grouped(Double(idle.openStreamsReported)),
                         Double(idle.rssBefore) / 1048576, Double(idle.rssAfter) / 1048576, idle.bytesPerStream,
                         idle.rawStateBytes, idle.overheadPerStream) + (idle.verification.isClean ? "" : " — VERIFICATION FAILED"))
        }
        for t in targets { print("  target \(t.name): \(t.value) \(t.pass ? "PASS" : "MISS")") }
    }

    /// One row per configuration: saturated throughput and CPU, paced latency, verification.
    func printConfigTable(_ configs: [E2EConfigResult]) {
        let header = ["streams×K", "window", "saturated tags/s", "(min–max)", "daemon cores io/wrk/zmq", "µs CPU/tag", "all-cores proj.",
                      "paced tags/s", "p50", "p99", "p99.9", "rq wait", "verified"]
        var rows: [[String]] = [header]
        for c in configs {
            let rates = c.saturated.map(\.result.tagsPerSecond)
            let cpu = medianCPU(c.saturated.map(\.cpu))
            let g = cpu.daemonByGroup
            var row = [
                "\(grouped(Double(c.streams)))×\(c.tokensPerMessage)",
                "\(c.saturated.first?.result.phase.window ?? 0)",
                grouped(c.medianTagsPerSecond),
                "\(grouped(rates.min() ?? 0))–\(grouped(rates.max() ?? 0))",
                connected != nil ? "–" : String(format: "%.2f %.2f/%.2f/%.2f", cpu.daemonCores, g["io"] ?? 0, g["workers"] ?? 0, g["zmq_io"] ?? 0),
                connected != nil ? "–" : String(format: "%.2f", cpu.daemonMicrosecondsPerTag),
                connected != nil ? "–" : grouped(c.projectedTagsPerSecond),
            ]
            if !c.paced.isEmpty {
                let l = c.pacedLatency
                row += [grouped(median(c.paced.map(\.result.tagsPerSecond))), millisecondsText(l.p50), millisecondsText(l.p99), millisecondsText(l.p999),
                        connected != nil ? "–" : String(format: "%.0f ms/s", medianCPU(c.paced.map(\.cpu)).daemonRunQueueWait * 1e3)]
            } else {
                row += ["–", "–", "–", "–", "–"]
            }
            row.append(c.verified ? "ok" : "FAILED " + c.problems.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))
            rows.append(row)
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            print("  " + row.indices.map { i in
                i == 0 || i == row.count - 1 ? row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - row[i].count) + row[i]
            }.joined(separator: "  "))
        }
    }
}

/// Per-field medians of CPU samples.
func medianCPU(_ samples: [E2ECPU]) -> E2ECPU {
    var out = E2ECPU()
    out.daemonCores = median(samples.map(\.daemonCores))
    out.generatorCores = median(samples.map(\.generatorCores))
    out.daemonRunQueueWait = median(samples.map(\.daemonRunQueueWait))
    out.daemonMicrosecondsPerTag = median(samples.map(\.daemonMicrosecondsPerTag))
    for key in Set(samples.flatMap(\.daemonByGroup.keys)) { out.daemonByGroup[key] = median(samples.map { $0.daemonByGroup[key] ?? 0 }) }
    return out
}

func medianLatency(_ samples: [LatencySummary]) -> LatencySummary {
    var out = LatencySummary()
    out.count = samples.reduce(0) { $0 + $1.count }
    out.p50 = median(samples.map(\.p50))
    out.p90 = median(samples.map(\.p90))
    out.p99 = median(samples.map(\.p99))
    out.p999 = median(samples.map(\.p999))
    out.max = samples.map(\.max).max() ?? 0
    out.mean = median(samples.map(\.mean))
    return out
}
