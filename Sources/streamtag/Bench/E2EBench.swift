import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagDaemon
import StreamTagClient
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end daemon benchmark over real loopback TCP (docs/benchmarks.md#end-to-end): the daemon runs as a child
/// process (`streamtag serve`, see `DaemonProcess`), the load generator in this process.
struct E2EBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Daemon throughput, latency and memory per stream over real loopback sockets.",
        discussion: """
        Starts `streamtag serve` as a child process (temporary config, free loopback ports, snapshots \
        only at shutdown) and drives it from this process with N concurrent streams of K tokens per \
        message:
          saturated  each stream keeps a few messages unanswered (--window), so the daemon sets the
                     pace; throughput = final tags received per second after --warmup, median of --runs;
          paced      at half the median saturated rate: send-to-answer latency percentiles.
        Every run checks every stream: one answer per message in seq order, final positions 0,1,2,… \
        with none missing or repeated, tokens echoed, one end event with the right count, no other \
        event. Then a fresh daemon opens --idle-streams streams (one 4-token message each) and the RSS \
        growth per idle stream is compared with the raw recurrent state size.
        """
    )

    @OptionGroup var bench: BenchOptions
    @Option(name: .long, help: "Concurrent streams, comma-separated.") var streams = "1,100,1000,10000"
    @Option(name: .long, help: "Tokens per message, comma-separated.") var tokensPerMessage = "1,8"
    @Option(name: .long, help: "Seconds measured per run (after the warm-up).") var duration = 3.0
    @Option(name: .long, help: "Seconds of warm-up per run, not measured.") var warmup = 1.0
    @Option(name: .long, help: "Unanswered messages per stream in saturated runs (default: about 4,096 in total, 2 to 256 per stream).")
    var window: Int?
    @Option(name: .long, help: "Streams opened for the memory-per-idle-stream measure; 0 skips it.") var idleStreams = 100_000
    @Flag(name: .long, help: "Skip the paced (latency) runs.") var noPaced = false
    @Option(name: .long, help: "Paced runs send at this fraction of the median saturated rate.") var pacedFraction = 0.5
    @Option(name: .long, help: "Paced runs send at this many tokens/s instead (then --runs 0 skips the saturated runs).")
    var pacedRate: Double?
    @Option(name: .long, help: "Paced runs per configuration; the median of each percentile is reported.") var pacedRuns = 1
    @Option(name: .long, help: "Scheduling of this load generator during paced runs: normal, or idle (SCHED_IDLE: it never preempts the daemon, as producers on other machines would not; but starved, it reads answers late when it has much to do).")
    var generatorPriority: GeneratorPriority = .normal
    @Option(name: .long, parsing: .singleValue, help: "Daemon setting KEY=VALUE for the child daemon (repeatable), e.g. model.partial=false.")
    var set: [String] = []
    @Option(name: .long, help: "Drive an already-running daemon at INPUT,OUTPUT[,CONTROL] (its input's and output's endpoints to connect to) instead of starting a child; no daemon CPU figures and no idle-stream measure.")
    var connect: String?
    @Option(name: .long, help: "plaintext; curve (the daemon runs CURVE with fresh keys, the generator is an allowed client); or both: a plaintext and a CURVE daemon, each configuration measured on one then the other, and the ratio.")
    var security: E2ESecurity = .plaintext
    @OptionGroup(title: "With --connect, a daemon that runs CURVE")
    var keys: ClientKeyOptions

    func validate() throws {
        if connect == nil, keys.clientKey != nil || keys.serverKey != nil || keys.clientConfig != nil {
            throw ValidationError("--client-key, --server-key and --client-config go with --connect (a child daemon's keys are made by --security curve)")
        }
    }

    func run() throws {
        guard bench.runs > 0 || pacedRate != nil else { throw ValidationError("--runs 0 needs --paced-rate") }
        let streamCounts = try parseList(streams, "--streams")
        let tokenCounts = try parseList(tokensPerMessage, "--tokens-per-message")
        // The model the child daemon will serve: the same settings reach it (--set, STREAMTAG_*).
        let model = try loadServedModel(ConfigSource(file: nil, model: nil, sets: set).loadForStart())
        let words = Array(model.vocabulary.words.dropFirst().prefix(2000))
        let rawState = StateLayout(config: model.config).bytes
        let loadBefore = loadAverage()
        let pacedText = noPaced ? "none" : (pacedRate.map { "\(grouped($0)) tokens/s" } ?? "\(wholeOrDecimalText(pacedFraction)) × the median")
            + (noPaced ? "" : ", median of \(pacedRuns) run\(pacedRuns == 1 ? "" : "s"), generator at \(generatorPriority.rawValue) priority")
        var report = E2EReport(model: model.id, lookahead: model.k, rawStateBytes: rawState, settings: set,
                               runs: bench.runs, pacedText: pacedText, duration: duration, warmup: warmup, loadBefore: loadBefore)
        report.generatorPriority = generatorPriority
        if let connect {
            // --connect: a daemon that is already running (another host, build or implementation).
            let target = try ConnectTarget(connect)
            let keys = try keys.resolve().security
            report.model = target.model(security: keys) ?? "(unknown: no control endpoint given)"
            report.connected = connect
            printError("e2e: load average \(loadBefore); driving \(target.input) → \(target.output), model \(report.model)")
            let generator = try LoadGenerator(input: target.input, output: target.output, words: words,
                                              prefix: "e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-", security: keys)
            try generator.waitForHeartbeat(timeout: 30)
            for n in streamCounts {
                for k in tokenCounts { report.configs.append(try measure(generator, pid: nil, streams: n, tokens: k)) }
            }
            generator.close()
            return try finish(report)
        }
        report.security = security
        printError("e2e: load average \(loadBefore) on \(ProcessInfo.processInfo.activeProcessorCount) cores; starting the daemon")

        // Throughput and latency: one daemon for the whole matrix.
        // With --security both, a second daemon runs CURVE; each configuration is measured on
        // one daemon and then on the other, so that both see the same machine.
        let daemon = try DaemonProcess(settings: set, tag: "matrix", curve: security == .curve)
        report.daemonPID = Int(daemon.pid)
        defer { daemon.removeFiles() }
        var curveDaemon: DaemonProcess?
        defer { curveDaemon?.removeFiles() }
        do {
            let generator = try LoadGenerator(input: daemon.input, output: daemon.output, words: words, prefix: "e2e-\(getpid())-",
                                              security: daemon.clientSecurity)
            try generator.waitForHeartbeat(timeout: 30)
            printError("e2e: daemon pid \(daemon.pid) ready (\(daemon.input) → \(daemon.output), \(security == .curve ? "CURVE" : "plaintext"))")
            var curveGenerator: LoadGenerator?
            if security == .both {
                let second = try DaemonProcess(settings: set, tag: "curve", curve: true)
                curveDaemon = second
                curveGenerator = try LoadGenerator(input: second.input, output: second.output, words: words,
                                                   prefix: "e2e-curve-\(getpid())-", security: second.clientSecurity)
                try curveGenerator?.waitForHeartbeat(timeout: 30)
                printError("e2e: CURVE daemon pid \(second.pid) ready (\(second.input) → \(second.output))")
            }
            for n in streamCounts {
                for k in tokenCounts {
                    report.configs.append(try measure(generator, pid: daemon.pid, streams: n, tokens: k))
                    if let curveGenerator, let curveDaemon {
                        printError("  (CURVE)")
                        report.curveConfigs.append(try measure(curveGenerator, pid: curveDaemon.pid, streams: n, tokens: k))
                    }
                }
            }
            generator.close()
            curveGenerator?.close()
            report.peakRSS = processMemory(daemon.pid).peak
            daemon.stop(graceful: true)
            curveDaemon?.stop(graceful: true)
        } catch {
            daemon.stop(graceful: false)
            curveDaemon?.stop(graceful: false)
            throw error
        }

        if idleStreams > 0 {
            report.idle = try measureIdle(words: words, rawState: rawState)
        }
        try finish(report)
    }

    private func finish(_ finished: E2EReport) throws {
        var report = finished
        report.loadAfter = loadAverage()
        report.printTable()
        if bench.json { print(try jsonLine(report)) }
        if !report.allVerified {
            throw ExitCode(1)
        }
    }

    /// Saturated runs (median), then paced runs at a fraction of the median rate.
    private func measure(_ generator: LoadGenerator, pid: Int32?, streams n: Int, tokens k: Int) throws -> E2EConfigResult {
        var config = E2EConfigResult(streams: n, tokensPerMessage: k)
        for run in 0..<bench.runs {
            let phase = LoadPhase(streams: n, tokensPerMessage: k, mode: .saturated, warmup: warmup, duration: duration, window: window)
            let (result, cpu) = try runSampled(generator, pid: pid, phase)
            config.saturated.append(E2ERun(result: result, cpu: cpu))
            printError(String(format: "  %6d × %d saturated run %d: %.0f tags/s, daemon %.2f cores%@", n, k, run + 1,
                            result.tagsPerSecond, cpu.daemonCores, result.verification.isClean ? "" : " — VERIFICATION FAILED"))
        }
        let rate = pacedRate ?? config.medianTagsPerSecond * pacedFraction
        if !noPaced && rate > 0 {
            // Normal is how this process runs anyway: only idle needs setting, and undoing.
            let idle = generatorPriority == .idle
            if idle && !GeneratorPriority.idle.apply() {
                printError("e2e: could not set the generator's idle priority; paced runs at normal priority")
            }
            defer {
                if idle && !GeneratorPriority.normal.apply() {
                    printError("e2e: could not restore the generator's normal priority; later saturated runs may read low")
                }
            }
            for _ in 0..<pacedRuns {
                let phase = LoadPhase(streams: n, tokensPerMessage: k, mode: .paced(tokensPerSecond: rate),
                                      warmup: warmup, duration: duration)
                let (result, cpu) = try runSampled(generator, pid: pid, phase)
                config.paced.append(E2ERun(result: result, cpu: cpu))
                printError(String(format: "  %6d × %d paced at %.0f tokens/s: %.0f tags/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms, daemon %.2f cores, %.0f µs CPU/tag, run-queue wait %.0f ms/s%@",
                                n, k, rate, result.tagsPerSecond, result.latency.p50 * 1e3, result.latency.p99 * 1e3,
                                result.latency.max * 1e3, cpu.daemonCores, cpu.daemonMicrosecondsPerTag, cpu.daemonRunQueueWait * 1e3,
                                result.verification.isClean ? "" : " — VERIFICATION FAILED"))
            }
        }
        return config
    }

    /// Runs a phase, sampling the daemon's and this process's thread CPU times at the edges of
    /// the measurement interval.
    private func runSampled(_ generator: LoadGenerator, pid: Int32?, _ phase: LoadPhase) throws -> (LoadResult, E2ECPU) {
        var daemonBefore: [Int: ThreadSample] = [:], selfBefore = daemonBefore
        var daemonGroups: [String: Double] = [:], selfSeconds = 0.0, daemonWaiting = 0.0
        var startTime = 0.0, seconds = 0.0
        let me = getpid()
        let result = try generator.run(phase) { starting in
            if starting {
                daemonBefore = pid.map(threadTimes) ?? [:]
                selfBefore = threadTimes(me)
                startTime = monotonicSeconds()
            } else {
                seconds = monotonicSeconds() - startTime
                if let pid { (daemonGroups, daemonWaiting) = cpuByGroup(from: daemonBefore, to: threadTimes(pid)) }
                selfSeconds = cpuByGroup(from: selfBefore, to: threadTimes(me)).cpu.values.reduce(0, +)
            }
        }
        var cpu = E2ECPU()
        if seconds > 0 {
            cpu.daemonCores = daemonGroups.values.reduce(0, +) / seconds
            cpu.daemonByGroup = daemonGroups.mapValues { $0 / seconds }
            cpu.generatorCores = selfSeconds / seconds
            cpu.daemonRunQueueWait = daemonWaiting / seconds
            if result.tagsPerSecond > 0 { cpu.daemonMicrosecondsPerTag = cpu.daemonCores / result.tagsPerSecond * 1e6 }
        }
        return (result, cpu)
    }

    /// RSS growth of a fresh daemon after opening `idleStreams` streams (one short message
    /// each) and letting them go idle.
    private func measureIdle(words: [String], rawState: Int) throws -> E2EIdleResult {
        printError("e2e: idle streams: fresh daemon, \(idleStreams) streams")
        let daemon = try DaemonProcess(settings: set, tag: "idle", curve: security == .curve)
        defer {
            // 100,000 streams' shutdown snapshot is not what this measures: kill, don't stop.
            daemon.stop(graceful: false)
            daemon.removeFiles()
        }
        let generator = try LoadGenerator(input: daemon.input, output: daemon.output, words: words, prefix: "idle-\(getpid())-",
                                          security: daemon.clientSecurity)
        defer { generator.close() }
        try generator.waitForHeartbeat(timeout: 30)
        printError("e2e: idle-streams daemon pid \(daemon.pid) ready")
        // Warm-up: first-use allocations (batch buffers, arenas) before the baseline.
        let warm = try generator.run(LoadPhase(streams: 1000, tokensPerMessage: 4, mode: .open, endStreams: true))
        usleep(1_000_000)
        let before = processMemory(daemon.pid)
        let open = try generator.run(LoadPhase(streams: idleStreams, tokensPerMessage: 4, mode: .open, endStreams: false))
        usleep(2_000_000)
        let after = processMemory(daemon.pid)
        var idle = E2EIdleResult(streams: idleStreams, rawStateBytes: rawState, rssBefore: before.rss, rssAfter: after.rss,
                                 peak: after.peak, openSeconds: open.totalSeconds, openStreamsReported: daemon.openStreams() ?? -1)
        var verification = open.verification
        for (name, value) in warm.verification.nonZero { verification.events["warmup:" + name, default: 0] += value }
        idle.verification = verification
        printError(String(format: "  %d streams opened in %.1f s; RSS %.1f → %.1f MiB: %.0f B/stream", idleStreams, open.totalSeconds,
                        Double(before.rss) / 1048576, Double(after.rss) / 1048576, idle.bytesPerStream))
        return idle
    }

    private func parseList(_ text: String, _ name: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("\(name) takes positive integers separated by commas, got \(text)")
        }
        return values.map { $0! }
    }
}

/// `--connect INPUT,OUTPUT[,CONTROL]`: the endpoints of a daemon that is already running.
struct ConnectTarget {
    var input: String
    var output: String
    var control: String?

    init(_ text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--connect takes INPUT,OUTPUT[,CONTROL] (e.g. tcp://10.0.0.5:5560,tcp://10.0.0.5:5561,tcp://10.0.0.5:5562), got \(text)")
        }
        input = parts[0]
        output = parts[1]
        control = parts.count > 2 ? parts[2] : nil
    }

    /// The serving model's id, from the control `status` answer (nil without control).
    func model(security: ClientSecurity?) -> String? {
        guard let control,
              let answer = try? controlRequest(.object([("cmd", .string("status"))]), endpoint: control, timeout: 5,
                                               security: security),
              case .string(let id)? = answer["model"] else { return nil }
        return id
    }
}
