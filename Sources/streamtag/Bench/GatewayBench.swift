import ArgumentParser
import CStreamTagKernels
import Foundation
import StreamTagCore
import StreamTagDaemon
import StreamTagClient

/// The WebSocket gateway next to the ZeroMQ path, in one run against one daemon
/// (docs/websocket.md): the same phases, figures and checks as `bench e2e`,
/// once over ZeroMQ and once over one WebSocket connection per stream.
struct GatewayBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "WebSocket gateway throughput and latency next to the ZeroMQ path, one daemon, same run.",
        discussion: """
        Starts `streamtag serve` as a child process with `websocket.listen` on a free loopback port and \
        drives it with N streams of K tokens per message, first over ZeroMQ (`bench e2e`'s load \
        generator), then over WebSockets (one connection per stream, all on one event-loop thread): \
        saturated runs (median of --runs) for throughput, then one paced run at --paced-fraction of the \
        median rate for latency. Every run checks every stream (one answer per message in seq order, \
        final positions 0,1,2,… once each, tokens echoed, one end event).
        """
    )

    @OptionGroup var bench: BenchOptions
    @Option(name: .long, help: "Concurrent streams (= WebSocket connections).") var streams = 1000
    @Option(name: .long, help: "Tokens per message.") var tokensPerMessage = 8
    @Option(name: .long, help: "Seconds measured per run (after the warm-up).") var duration = 3.0
    @Option(name: .long, help: "Seconds of warm-up per run, not measured.") var warmup = 1.0
    @Option(name: .long, help: "Paced runs send at this fraction of the path's median saturated rate.") var pacedFraction = 0.5
    @Option(name: .long, parsing: .singleValue, help: "Daemon setting KEY=VALUE for the child daemon (repeatable).")
    var set: [String] = []

    func run() throws {
        let model = try loadServedModel(ConfigSource(file: nil, model: nil, sets: set).loadForStart())
        let words = Array(model.vocabulary.words.dropFirst().prefix(2000))
        let isa = String(cString: st_isa_name(st_active_isa()))
        raiseOpenFileLimit()    // one socket per stream here and in the child
        let port = try freeLoopbackPort()
        let daemon = try DaemonProcess(settings: set + ["websocket.listen=127.0.0.1:\(port)",
                                                        "websocket.max_connections=\(max(4096, streams + 16))"], tag: "gateway")
        defer { daemon.removeFiles() }
        printError("gateway: daemon pid \(daemon.pid), model \(model.id), ISA \(isa), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var rows: [(path: String, saturated: [LoadResult], paced: LoadResult?)] = []
        do {
            let zmq = try LoadGenerator(input: daemon.input, output: daemon.output, words: words, prefix: "bz-\(getpid())-")
            try zmq.waitForHeartbeat(timeout: 30)
            let ws = GatewayLoadGenerator(address: "127.0.0.1:\(port)", words: words, prefix: "bw-\(getpid())-")
            // The two paths take turns, run by run, so that a change in the machine's load
            // (other processes) weighs on both alike.
            let paths: [(String, (LoadPhase) throws -> LoadResult)] = [("zeromq", { try zmq.run($0) }), ("websocket", { try ws.run($0) })]
            var saturated: [[LoadResult]] = [[], []]
            for i in 0..<max(1, bench.runs) {
                for (p, path) in paths.enumerated() {
                    saturated[p].append(try run(path.0, "saturated run \(i + 1)", path.1, .saturated))
                }
            }
            for (p, path) in paths.enumerated() {
                let rate = median(saturated[p].map(\.tagsPerSecond)) * pacedFraction
                let paced = rate > 0 ? try run(path.0, "paced at \(Int(rate)) tokens/s", path.1, .paced(tokensPerSecond: rate)) : nil
                rows.append((path.0, saturated[p], paced))
            }
            zmq.close()
            ws.close()
            daemon.stop(graceful: true)
        } catch {
            daemon.stop(graceful: false)
            throw error
        }
        print("gateway vs ZeroMQ: \(streams) streams × \(tokensPerMessage) tokens/message, model \(model.id), ISA \(isa), "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, median of \(bench.runs) saturated runs (the paths alternating), paced at \(pacedFraction) × median")
        print("path        tags/s (saturated)   paced tags/s   p50 ms   p99 ms   verified")
        var paths: [Report.Path] = []
        var clean = true
        for row in rows {
            let rate = median(row.saturated.map(\.tagsPerSecond))
            let ok = row.saturated.allSatisfy { $0.verification.isClean } && (row.paced?.verification.isClean ?? true)
            clean = clean && ok
            let p = row.paced
            let figures = String(format: "%18.0f   %12.0f   %6.2f   %6.2f", rate, p?.tagsPerSecond ?? 0,
                                 (p?.latency.p50 ?? 0) * 1e3, (p?.latency.p99 ?? 0) * 1e3)
            print(row.path.padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + figures + "   " + (ok ? "yes" : "NO"))
            paths.append(Report.Path(path: row.path, tagsPerSecond: rate, pacedTagsPerSecond: p?.tagsPerSecond ?? 0,
                                     p50Milliseconds: (p?.latency.p50 ?? 0) * 1e3, p99Milliseconds: (p?.latency.p99 ?? 0) * 1e3,
                                     verified: ok))
        }
        if bench.json {
            print(try jsonLine(Report(streams: streams, tokensPerMessage: tokensPerMessage, isa: isa, model: model.id, paths: paths)))
        }
        if !clean { throw ExitCode(1) }
    }

    private func run(_ path: String, _ what: String, _ body: (LoadPhase) throws -> LoadResult, _ mode: LoadPhase.Mode) throws -> LoadResult {
        let result = try body(LoadPhase(streams: streams, tokensPerMessage: tokensPerMessage, mode: mode, warmup: warmup, duration: duration))
        let latency = mode == .saturated ? "" : String(format: ", p50 %.2f ms, p99 %.2f ms", result.latency.p50 * 1e3, result.latency.p99 * 1e3)
        printError("  \(path) \(what): \(Int(result.tagsPerSecond)) tags/s\(latency)"
                   + (result.verification.isClean ? "" : " — VERIFICATION FAILED: \(result.verification.nonZero)"))
        return result
    }

    /// The `bench gateway --json` object: the run's shape and one entry per path.
    struct Report: Encodable {
        /// One path's figures (`zeromq`, `websocket`); the paced ones are 0 when it had no paced run.
        struct Path: Encodable {
            let path: String
            /// Median of the saturated runs.
            let tagsPerSecond: Double
            let pacedTagsPerSecond: Double
            let p50Milliseconds: Double
            let p99Milliseconds: Double
            let verified: Bool

            enum CodingKeys: String, CodingKey {
                case path, tagsPerSecond = "tags_per_second", pacedTagsPerSecond = "paced_tags_per_second"
                case p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms", verified
            }
        }

        let streams: Int
        let tokensPerMessage: Int
        let isa: String
        let model: String
        let paths: [Path]

        enum CodingKeys: String, CodingKey {
            case streams, tokensPerMessage = "tokens_per_message", isa, model, paths
        }
    }
}

/// Raises the soft limit on open files to the hard one (1,000 connections need 1,000 sockets on
/// each side; the child daemon inherits the limit).
private func raiseOpenFileLimit() {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}
