import Foundation

/// What `bench soak` found, and whether it passes: RSS growth after the warm-up, fds flat,
/// answers complete and in order, every reload served, a clean stop.
struct SoakReport {
    let duration: Double
    let monitor: SoakMonitor.State
    let check: DrillCheck
    let exitStatus: Int32?
    let rssLimit: Double
    let fdTolerance: Int
    let settings: Settings
    var streamsOpened = 0
    var messagesSent = 0
    var answers = 0
    var systemEvents: [String: Int] = [:]
    var daemonMetrics: [String: Int] = [:]

    /// The warm-up: the first 5 minutes, or the first 10 % of a shorter run, but at least 90 s
    /// (the daemon fills up for its first `streams.end_grace`, 60 s: tombstones of ended streams).
    var warmup: Double { min(300, max(90, duration * 0.1)) }
    /// Whether the run is long enough to judge RSS growth (a warm-up and two windows).
    var rssJudged: Bool { duration >= warmup + 2 * window }
    /// The windows whose median RSS is compared: 10 s, or 5 % of the run if longer.
    var window: Double { max(10, duration * 0.05) }

    private var afterWarmup: [SoakMonitor.Sample] { monitor.samples.filter { $0.t >= warmup } }

    var rssBaseline: Double {
        Double(median(afterWarmup.filter { $0.t < warmup + window }.map { Double($0.rss) }))
    }

    var rssFinal: Double {
        let end = monitor.samples.last?.t ?? 0
        return median(afterWarmup.filter { $0.t > end - window }.map { Double($0.rss) })
    }

    var rssGrowthPercent: Double { rssBaseline > 0 ? (rssFinal - rssBaseline) / rssBaseline * 100 : 0 }

    /// Least-squares slope of RSS after the warm-up, MiB per hour.
    var rssSlopeMiBPerHour: Double {
        let s = afterWarmup
        guard s.count >= 2 else { return 0 }
        let n = Double(s.count)
        let mt = s.reduce(0) { $0 + $1.t } / n, mr = s.reduce(0) { $0 + Double($1.rss) } / n
        let cov = s.reduce(0) { $0 + ($1.t - mt) * (Double($1.rss) - mr) }
        let vt = s.reduce(0) { $0 + ($1.t - mt) * ($1.t - mt) }
        return vt > 0 ? cov / vt * 3600 / 1048576 : 0
    }

    var fdRange: (min: Int, max: Int) {
        // A short run: fds after its first 10 % (they settle within seconds).
        let from = rssJudged ? warmup : duration * 0.1
        let f = monitor.samples.filter { $0.t >= from }.map(\.fds).filter { $0 >= 0 }
        return (f.min() ?? -1, f.max() ?? -1)
    }

    var reloadsServed: Int { monitor.reloads.filter { $0.ok && $0.served }.count }

    var failures: [String] {
        var out: [String] = []
        if rssJudged && afterWarmup.count < 2 { out.append("too few samples after the warm-up") }
        if rssJudged && rssGrowthPercent >= rssLimit { out.append(String(format: "RSS grew %.2f %% (limit %.1f %%)", rssGrowthPercent, rssLimit)) }
        let fds = fdRange
        if fds.min < 0 || fds.max - fds.min > fdTolerance { out.append("open fds ranged \(fds.min)–\(fds.max) (tolerance \(fdTolerance))") }
        if !check.isClean { out.append("answers: \(check.summary)") }
        if reloadsServed != monitor.reloads.count { out.append("\(monitor.reloads.count - reloadsServed) of \(monitor.reloads.count) reloads not served") }
        if monitor.scrapeFailures > 0 { out.append("\(monitor.scrapeFailures) metrics scrapes failed") }
        if exitStatus != 0 { out.append("stop: exit status \(exitStatus.map(String.init) ?? "none")") }
        return out
    }

    var passed: Bool { failures.isEmpty }

    func printSummary() {
        let fds = fdRange
        print(String(format: "soak: %.0f s, %d streams opened (%d completed), %d messages, %d answers", duration, streamsOpened,
                     check.streamsCompleted, messagesSent, answers))
        if rssJudged {
            print(String(format: "  RSS after the %.0f s warm-up: %.1f → %.1f MiB (%+.2f %%, slope %+.1f MiB/h); open fds %d–%d",
                         warmup, rssBaseline / 1048576, rssFinal / 1048576, rssGrowthPercent, rssSlopeMiBPerHour, fds.min, fds.max))
        } else {
            let rss = monitor.samples.map(\.rss)
            print(String(format: "  RSS %.1f → %.1f MiB, max %.1f (not judged: the run is shorter than the %.0f s warm-up and two %.0f s windows); open fds %d–%d",
                         Double(rss.first ?? 0) / 1048576, Double(rss.last ?? 0) / 1048576, Double(rss.max() ?? 0) / 1048576,
                         warmup, window, fds.min, fds.max))
        }
        print("  reloads \(reloadsServed)/\(monitor.reloads.count) served, \(monitor.sighups) SIGHUPs, \(monitor.scrapes) scrapes (\(monitor.scrapeFailures) failed); evicted idle: \(check.allowed["evicted", default: 0]), model events: \(check.allowed["model", default: 0])")
        print("  answers: \(check.summary); stop exit \(exitStatus.map(String.init) ?? "none")")
        print(passed ? "soak: passed" : "soak: FAILED: " + failures.joined(separator: "; "))
    }
}

extension SoakReport: Encodable {
    /// The run's settings as given on the command line, for the record.
    struct Settings: Encodable {
        let streams: Int
        let tokensPerMessage: Int
        let rate: Double
        let idleTimeout: String
        let snapshotInterval: String
        let reloadEvery: String
        let sighupEvery: String
        let model: String
        let cpus: Int

        enum CodingKeys: String, CodingKey {
            case streams, tokensPerMessage = "tokens_per_message", rate = "rate_tokens_per_s", idleTimeout = "idle_timeout"
            case snapshotInterval = "snapshot_interval", reloadEvery = "reload_every", sighupEvery = "sighup_every", model, cpus
        }
    }

    /// The daemon's RSS in MiB, three decimals: the first sample, the medians of the windows
    /// compared, and the most after the warm-up.
    struct RSSFigures: Encodable {
        let start: Double
        let baseline: Double
        let final: Double
        let maxAfterWarmup: Double

        enum CodingKeys: String, CodingKey {
            case start, baseline, final, maxAfterWarmup = "max_after_warmup"
        }
    }

    /// Open file descriptors: the range judged, and the first and last samples (-1: none).
    struct FDFigures: Encodable {
        let min: Int
        let max: Int
        let first: Int
        let last: Int
    }

    enum CodingKeys: String, CodingKey {
        case duration = "duration_s", warmup = "warmup_s", window = "window_s", settings, samples
        case rss = "rss_mib", rssGrowthPercent = "rss_growth_percent", rssJudged = "rss_judged"
        case rssSlope = "rss_slope_mib_per_hour", fds, streamsOpened = "streams_opened", messagesSent = "messages_sent"
        case answers, reloads, reloadsServed = "reloads_served", reloadSeconds = "reload_s", sighups, scrapes
        case scrapeFailures = "scrape_failures", scrapeMilliseconds = "scrape_ms", systemEvents = "system_events"
        case daemonMetrics = "daemon_metrics", check, exitStatus = "exit_status", failures, passed
        case rssSeries = "rss_series_mib", reloadTimes = "reload_times_s"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let fds = fdRange
        try container.encode(duration, forKey: .duration)
        try container.encode(warmup, forKey: .warmup)
        try container.encode(window, forKey: .window)
        try container.encode(settings, forKey: .settings)
        try container.encode(monitor.samples.count, forKey: .samples)
        let rssAfterWarmup = afterWarmup.map { Double($0.rss) / 1048576 }
        try container.encode(RSSFigures(start: round3(Double(monitor.samples.first?.rss ?? 0) / 1048576),
                                        baseline: round3(rssBaseline / 1048576), final: round3(rssFinal / 1048576),
                                        maxAfterWarmup: round3(rssAfterWarmup.max() ?? 0)), forKey: .rss)
        try container.encode(round3(rssGrowthPercent), forKey: .rssGrowthPercent)
        try container.encode(rssJudged, forKey: .rssJudged)
        try container.encode(round3(rssSlopeMiBPerHour), forKey: .rssSlope)
        try container.encode(FDFigures(min: fds.min, max: fds.max, first: monitor.samples.first?.fds ?? -1,
                                       last: monitor.samples.last?.fds ?? -1), forKey: .fds)
        try container.encode(streamsOpened, forKey: .streamsOpened)
        try container.encode(messagesSent, forKey: .messagesSent)
        try container.encode(answers, forKey: .answers)
        try container.encode(monitor.reloads.count, forKey: .reloads)
        try container.encode(reloadsServed, forKey: .reloadsServed)
        try container.encode(ValueSummary(monitor.reloads.map(\.seconds)), forKey: .reloadSeconds)
        try container.encode(monitor.sighups, forKey: .sighups)
        try container.encode(monitor.scrapes, forKey: .scrapes)
        try container.encode(monitor.scrapeFailures, forKey: .scrapeFailures)
        try container.encode(ValueSummary(monitor.scrapeSeconds.map { $0 * 1e3 }), forKey: .scrapeMilliseconds)
        try container.encode(systemEvents, forKey: .systemEvents)
        try container.encode(daemonMetrics, forKey: .daemonMetrics)
        try container.encode(check, forKey: .check)
        try container.encode(exitStatus.map { Int($0) } ?? -1, forKey: .exitStatus)
        try container.encode(failures, forKey: .failures)
        try container.encode(passed, forKey: .passed)
        // Every 10th sample (one per 10 s): the shape of the curve, for the record.
        try container.encode(monitor.samples.enumerated().filter { $0.offset % 10 == 0 }
            .map { (Double($0.element.rss) / 104857.6).rounded() / 10 }, forKey: .rssSeries)
        try container.encode(monitor.reloads.map { $0.t.rounded() }, forKey: .reloadTimes)
    }
}
