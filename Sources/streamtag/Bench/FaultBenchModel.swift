import Foundation
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// `model.path` replaced by something that is not a model file, under load, with the watcher
/// on. Expected (docs/concepts.md#reload-policies-retrain-and-roll-out): a clear rejection (`ctl reload` answers `ok: false`
/// naming the path within its deadline, `model_rejected` on `$sys`), the old model keeps
/// serving, `ctl` keeps answering, RSS stays bounded, a valid model put there afterwards is
/// loaded, and the daemon stops cleanly. A valid model written slowly in place is never
/// served half-written and is served once complete.
struct ModelPathDrill {
    var words: [String]
    var lookahead: Int
    /// RSS growth at which the drill kills the daemon to protect the machine.
    static let rssLimit = 512 << 20

    func run(cases: [String]) -> [DrillCase] {
        cases.map { name in
            var c = DrillCase(name)
            do {
                try drill(name, &c)
            } catch {
                c.expect("runs", false, "\(error)")
            }
            return c
        }
    }

    private func drill(_ name: String, _ c: inout DrillCase) throws {
        guard ["directory", "fifo", "dev-zero", "growing-garbage", "slow-write"].contains(name) else {
            throw BenchError("unknown model drill \(name)")
        }
        printError("faults: model path \(name)")
        let (a, b) = try alternateModelFiles()
        let tag = "model-\(name)"
        let path = NSTemporaryDirectory() + "streamtag-drill-\(getpid())-\(tag)-model/model.safetensors"
        let modelDir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.removeItem(atPath: modelDir)
        try FileManager.default.createDirectory(atPath: modelDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: modelDir) }
        try writeAtomically(a, to: path)
        let daemon = try DaemonProcess(tag: tag, yaml: """
            snapshot_interval: 0
            model:
              path: "\(path)"
              watch: true
              watch_interval: 1s
            """)
        defer {
            daemon.kill9()
            daemon.removeFiles()
        }
        try daemon.start()
        let session = try DrillSession(daemon, prefix: "md", words: words, lookahead: lookahead)
        // Streams move to the valid model loaded at the end (`model` events).
        session.driver.allowedEvents = ["model"]
        for _ in 0..<4 { session.driver.addStream(planned: Int.max / 2, fate: .end) }
        try session.load(seconds: 1)
        let rssBefore = processMemory(daemon.pid).rss
        let rejectedBefore = session.driver.system["model_rejected", default: 0]
        let answersBefore = session.driver.answers

        // The fault.
        try? FileManager.default.removeItem(atPath: path)
        let writer = SlowWriter()
        switch name {
        case "directory": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case "fifo": guard mkfifo(path, 0o644) == 0 else { throw BenchError("mkfifo \(path): errno \(errno)") }
        case "dev-zero": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        case "growing-garbage": writer.start(path: path, bytes: nil, chunk: 1 << 20, pause: 0.02, limit: 256 << 20)
        default: writer.start(path: path, bytes: b, chunk: b.count / 40 + 1, pause: 0.05, limit: b.count)
        }
        if name == "growing-garbage" {
            // The reload should meet a file that is large and still growing.
            let deadline = monotonicSeconds() + 10
            while monotonicSeconds() < deadline && ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) < 32 << 20 {
                try session.load(seconds: 0.05)
            }
        }
        let reload = controlInBackground([("cmd", .string("reload"))], endpoint: daemon.control, timeout: 10)
        var rssMax = rssBefore, killed = false
        let waitStart = monotonicSeconds()
        while monotonicSeconds() - waitStart < 11 && !(reload.isDone && (name != "slow-write" || writer.isDone)) {
            try session.load(seconds: 0.05)
            let rss = processMemory(daemon.pid).rss
            rssMax = max(rssMax, rss)
            if rss - rssBefore > Self.rssLimit {
                daemon.kill9()
                killed = true
                break
            }
        }
        let answerSeconds = monotonicSeconds() - waitStart
        writer.stop()
        c.figures.rssBeforeMiB = rssBefore >> 20
        c.figures.rssMaxMiB = rssMax >> 20
        c.expect("rss_bounded", !killed && rssMax - rssBefore < 256 << 20,
                 killed ? "RSS grew by more than \(Self.rssLimit >> 20) MiB: the drill killed the daemon"
                        : "RSS \(rssBefore >> 20) → max \(rssMax >> 20) MiB")
        if killed { return }
        let answer = reload.value
        if name == "slow-write" {
            // Let the watcher see the closed file, then ask once more.
            try session.load(seconds: 2.5)
            let final = daemon.ctl([("cmd", .string("reload"))], timeout: 10)
            let status = daemon.ctl([("cmd", .string("status"))], timeout: 3)
            try session.load(seconds: 0.5)
            c.expect("complete_file_served", describe(status?["model"]).contains(modelHash(b)),
                     "after the writer closed the file: ctl reload \(describe(final)); serving \(describe(status?["model"]))")
            let loaded = session.driver.loadedModels
            c.expect("never_half_written", !loaded.isEmpty && loaded.allSatisfy { $0.contains(modelHash(b)) },
                     "model_loaded events: \(loaded) (only the complete file's hash \(modelHash(b)) may appear); reload during the write: \(describe(answer))")
        } else {
            c.expect("reload_answered", reload.isDone && answer != nil,
                     reload.isDone ? String(format: "answered in %.2f s", answerSeconds) : "no answer within 10 s")
            let text = describe(answer)
            c.expect("reload_rejected_naming_the_path", answer != nil && text.contains("\"ok\":false") && text.contains("model.safetensors"),
                     "ctl reload: \(text)")
            c.expect("model_rejected_event", session.driver.system["model_rejected", default: 0] > rejectedBefore,
                     "model_rejected events on $sys: \(session.driver.system["model_rejected", default: 0] - rejectedBefore)")
        }
        let status = daemon.ctl([("cmd", .string("status"))], timeout: 3)
        c.expect("ctl_answers", status != nil, "ctl status: \(describe(status))")
        try session.load(seconds: 1)
        c.expect("keeps_serving", session.driver.answers > answersBefore + 20,
                 "\(session.driver.answers - answersBefore) answers since the fault")
        let health = httpGet(daemon.metricsAddress, path: "/healthz", timeout: 3)
        c.figures.healthz = health.map { "\($0.status) \($0.body.trimmingCharacters(in: .whitespacesAndNewlines))" } ?? "no answer"
        if name != "slow-write" {
            // A valid (different) model put in place afterwards is loaded.
            try? FileManager.default.removeItem(atPath: path)
            try writeAtomically(b, to: path)
            let recovered = daemon.ctl([("cmd", .string("reload"))], timeout: 10)
            c.expect("later_valid_model_loads", describe(recovered).contains(modelHash(b)), "ctl reload: \(describe(recovered))")
        }
        c.expect("answers_verified", try session.finish() && session.driver.check.isClean, session.driver.check.summary)
        let exit = daemon.terminate(timeout: 20)
        c.expect("stops_cleanly", exit == 0, "SIGTERM → exit status \(exit.map(String.init) ?? "none (killed after 20 s)")")
        c.figures.logTail = lastLines(daemon.log, 4)
    }
}

/// Writes a file in place, chunk by chunk (a slow copy, or garbage that keeps growing), on a
/// thread of its own.
final class SlowWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var finished = true

    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return finished }

    /// `bytes` nil: pseudo-random garbage up to `limit` bytes.
    func start(path: String, bytes: [UInt8]?, chunk: Int, pause: Double, limit: Int) {
        lock.lock()
        finished = false
        lock.unlock()
        let thread = Thread { [self] in
            defer { lock.lock(); finished = true; lock.unlock() }
            guard let file = fopen(path, "w") else { return }
            defer { fclose(file) }
            var written = 0
            var garbage = [UInt8](repeating: 0, count: chunk)
            var state: UInt32 = 12345
            while written < limit && !isStopped {
                let n = min(chunk, limit - written)
                if let bytes {
                    bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress! + written, 1, n, file) }
                } else {
                    for i in 0..<n { state = state &* 1_103_515_245 &+ 12345; garbage[i] = UInt8(truncatingIfNeeded: state >> 16) }
                    _ = fwrite(garbage, 1, n, file)
                }
                fflush(file)
                written += n
                usleep(UInt32(pause * 1e6))
            }
        }
        thread.start()
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        while !isDone { usleep(1000) }
    }
}
