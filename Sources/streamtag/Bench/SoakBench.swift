import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagDaemon
import StreamTagClient
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// `streamtag bench soak`: a daemon child under changing load for a long time, its RSS and open
/// file descriptors sampled every second (docs/reliability.md#fault-drills-and-soak).
struct SoakBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Long run: streams opening, ending and evicted, model reloads, SIGHUPs, scrapes; RSS and fds sampled.",
        discussion: """
        Starts `streamtag serve` (this binary) with a model file and the watcher on, a short \
        streams.idle_timeout and periodic snapshots, and drives --streams concurrent streams at --rate \
        tokens/s. Each stream sends 5–60 messages; most end with `end: true`, one in five falls silent \
        and is evicted (idle). Every --reload-every the model file is replaced (two valid files in \
        turn: the built-in model and a copy with another hash, renamed into place) and `ctl reload` \
        asked; every --sighup-every a SIGHUP; /metrics is scraped every second. VmRSS and the entries \
        of /proc/PID/fd are sampled every second.
        Pass: RSS grows less than --rss-limit % from the warm-up's end (the first 5 minutes, or the \
        first 10 % of a shorter run) to the run's end (medians of the first and last windows of \
        10 s or 5 % of the run); open fds vary by at most --fd-tolerance after the warm-up; every \
        stream's answers are complete and in order (see DrillCheck); the daemon stops with exit 0.
        """
    )

    @Flag(name: .long, help: "Print one JSON object on the last line.") var json = false
    @Option(name: .long, help: "Run length: 60s, 15m, 1h.") var duration = "60s"
    @Option(name: .long, help: "Concurrent streams.") var streams = 50
    @Option(name: .long, help: "Tokens per message.") var tokensPerMessage = 4
    @Option(name: .long, help: "Tokens per second offered in total.") var rate = 2000.0
    @Option(name: .long, help: "streams.idle_timeout of the daemon.") var idleTimeout = "2s"
    @Option(name: .long, help: "snapshot_interval of the daemon.") var snapshotInterval = "10s"
    @Option(name: .long, help: "Model file replaced and reloaded this often.") var reloadEvery = "30s"
    @Option(name: .long, help: "SIGHUP this often.") var sighupEvery = "45s"
    @Option(name: .long, help: "Most RSS growth after the warm-up, in %.") var rssLimit = 2.0
    @Option(name: .long, help: "Most difference between the largest and smallest fd count after the warm-up.") var fdTolerance = 8
    @Option(name: .long, help: "Seed of the stream plans.") var seed: UInt64 = 1

    func run() throws {
        guard let seconds = durationSeconds(duration), seconds >= 5 else { throw ValidationError("--duration: \(duration) is not a duration of 5 s or more") }
        guard let reloadSeconds = durationSeconds(reloadEvery), let sighupSeconds = durationSeconds(sighupEvery) else {
            throw ValidationError("--reload-every / --sighup-every take durations (30s, 1m)")
        }
        let model = try BuiltinModel.load()
        let words = drillWords(model)
        let (a, b) = try alternateModelFiles()
        let modelDir = NSTemporaryDirectory() + "streamtag-soak-\(getpid())-model"
        try? FileManager.default.removeItem(atPath: modelDir)
        try FileManager.default.createDirectory(atPath: modelDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: modelDir) }
        let modelPath = modelDir + "/model.safetensors"
        try writeAtomically(a, to: modelPath)
        let daemon = try DaemonProcess(tag: "soak", yaml: """
            snapshot_interval: \(snapshotInterval)
            model:
              path: "\(modelPath)"
              watch: true
            streams:
              idle_timeout: \(idleTimeout)
            """)
        defer {
            daemon.kill9()
            daemon.removeFiles()
        }
        let startSeconds = try daemon.start()
        printError("soak: daemon pid \(daemon.pid) ready in \(String(format: "%.2f", startSeconds)) s; \(duration), \(streams) streams, \(Int(rate)) tokens/s")
        let client = try StreamClient(input: daemon.input, output: daemon.output)
        defer { client.close() }
        let driver = try DrillStreams(client: client, prefix: "soak-\(getpid())-", words: words,
                                      tokensPerMessage: tokensPerMessage, lookahead: model.k)
        driver.allowedEvents = ["model", "evicted"]
        guard try driver.waitForHeartbeat(timeout: 30), try driver.probe(timeout: 30) else {
            throw BenchError("no heartbeat or probe answer from the daemon within 30 s")
        }

        let monitor = SoakMonitor(pid: daemon.pid, control: daemon.control, metrics: daemon.metricsAddress,
                                  modelPath: modelPath, files: [a, b], reloadEvery: reloadSeconds, sighupEvery: sighupSeconds)
        monitor.start()
        var random = SplitMix64(seed: seed)
        let started = monotonicSeconds()
        var pacer = DrillPacer(perSecond: rate / Double(tokensPerMessage), burst: 0.05)
        var lastReport = monotonicSeconds()
        while monotonicSeconds() - started < seconds {
            while driver.sendingCount < streams {
                driver.addStream(planned: random.int(5...60), fate: random.int(0...4) == 0 ? .idle : .end)
            }
            try pacer.send(driver, window: 16)
            try driver.pump(timeout: 0.002)
            let t = monotonicSeconds()
            if t - lastReport >= 60 {
                lastReport = t
                let s = monitor.snapshot().samples.last
                printError(String(format: "  %5.0f s: %d streams done, RSS %.1f MiB, %d fds, %@", t - started, driver.check.streamsCompleted,
                                  Double(s?.rss ?? 0) / 1048576, s?.fds ?? -1, driver.check.summary))
            }
        }
        // Wind down: every open stream ends; silent ones are evicted.
        driver.endAll()
        _ = try driver.drive(timeout: 60, count: 1000, window: 16, pump: 0.01) { driver.openCount == 0 }
        monitor.stop()
        driver.close()
        let finalScrape = httpGet(daemon.metricsAddress, path: "/metrics", timeout: 5)?.body ?? ""
        let exit = daemon.terminate(timeout: 60)

        let settings = SoakReport.Settings(streams: streams, tokensPerMessage: tokensPerMessage, rate: rate, idleTimeout: idleTimeout,
                                           snapshotInterval: snapshotInterval, reloadEvery: reloadEvery, sighupEvery: sighupEvery,
                                           model: model.id, cpus: ProcessInfo.processInfo.activeProcessorCount)
        var report = SoakReport(duration: seconds, monitor: monitor.snapshot(), check: driver.check, exitStatus: exit,
                                rssLimit: rssLimit, fdTolerance: fdTolerance, settings: settings)
        report.streamsOpened = driver.streams.count
        report.messagesSent = driver.messagesSent
        report.answers = driver.answers
        report.systemEvents = driver.system
        for (key, name, label) in [("streams_open_at_end", "streamtag_streams", nil as String?),
                                   ("evictions_idle", "streamtag_evictions_total", "idle"),
                                   ("reloads_loaded", "streamtag_reloads_total", "loaded"),
                                   ("reloads_unchanged", "streamtag_reloads_total", "unchanged"),
                                   ("reloads_rejected", "streamtag_reloads_total", "rejected"),
                                   ("output_dropped", "streamtag_output_dropped_total", nil),
                                   ("errors", "streamtag_errors_total", nil)] {
            report.daemonMetrics[key] = metricValue(finalScrape, name, label: label).map { Int($0) } ?? -1
        }
        report.printSummary()
        if json { print(try jsonLine(report)) }
        if !report.passed { throw ExitCode(1) }
    }
}
