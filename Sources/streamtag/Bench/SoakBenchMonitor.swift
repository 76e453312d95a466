import Foundation
import StreamTagClient
import StreamTagWire
#if canImport(Glibc)
import Glibc
#endif

/// The soak's operator, on threads of its own so that the stream driver never waits for it. One
/// thread samples the daemon's RSS and open fds every second; the other scrapes /metrics every
/// second and, on schedule, replaces the model file (renamed into place, the files taken in
/// turn) and asks `ctl reload`, and sends SIGHUP. Apart, so that a slow scrape or reload (a
/// loaded machine, a sanitizer build) does not thin out the samples the RSS verdict rests on.
final class SoakMonitor: @unchecked Sendable {
    struct Sample {
        var t: Double
        var rss: Int
        var fds: Int
    }

    struct Reload {
        var t: Double
        var ok: Bool
        var seconds: Double
        /// The served model's hash was the file's after the reload.
        var served: Bool
        var answer: String
    }

    struct State {
        var samples: [Sample] = []
        var reloads: [Reload] = []
        var sighups = 0
        var scrapes = 0
        var scrapeFailures = 0
        var scrapeSeconds: [Double] = []
    }

    let pid: Int32
    let control: String
    let metrics: String
    let modelPath: String
    let files: [[UInt8]]
    let reloadEvery: Double
    let sighupEvery: Double
    private let lock = NSLock()
    private var state = State()
    private var stopped = false
    /// Threads still running.
    private var running = 0

    init(pid: Int32, control: String, metrics: String, modelPath: String, files: [[UInt8]], reloadEvery: Double, sighupEvery: Double) {
        self.pid = pid
        self.control = control
        self.metrics = metrics
        self.modelPath = modelPath
        self.files = files
        self.reloadEvery = reloadEvery
        self.sighupEvery = sighupEvery
    }

    func snapshot() -> State {
        lock.lock()
        defer { lock.unlock() }
        return state
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func update(_ body: (inout State) -> Void) {
        lock.lock()
        body(&state)
        lock.unlock()
    }

    func start() {
        lock.lock()
        running = 2
        lock.unlock()
        Thread { [self] in
            sampleLoop()
            finished()
        }.start()
        Thread { [self] in
            operatorLoop()
            finished()
        }.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        while true {
            lock.lock()
            let r = running
            lock.unlock()
            if r == 0 { return }
            usleep(10_000)
        }
    }

    private func finished() {
        lock.lock()
        running -= 1
        lock.unlock()
    }

    /// Every second, from `start` on, until stopped: `body(t)` with the seconds since `start`.
    private func everySecond(from start: Double, _ body: (Double) -> Void) {
        var tick = 0.0
        while !isStopped {
            body(monotonicSeconds() - start)
            tick += 1
            let wait = start + tick - monotonicSeconds()
            if wait > 0 { usleep(UInt32(wait * 1e6)) }
        }
    }

    private func sampleLoop() {
        everySecond(from: monotonicSeconds()) { t in
            let memory = processMemory(pid)
            let sample = Sample(t: t, rss: memory.rss, fds: openFileDescriptors(pid))
            update { $0.samples.append(sample) }
        }
    }

    private func operatorLoop() {
        var nextReload = reloadEvery, nextSighup = sighupEvery
        var fileIndex = 0
        everySecond(from: monotonicSeconds()) { t in
            let scrapeStart = monotonicSeconds()
            let scrape = httpGet(metrics, path: "/metrics", timeout: 5)
            let scrapeSeconds = monotonicSeconds() - scrapeStart
            update {
                $0.scrapes += 1
                if scrape?.status == 200 { $0.scrapeSeconds.append(scrapeSeconds) } else { $0.scrapeFailures += 1 }
            }
            if reloadEvery > 0 && t >= nextReload {
                nextReload += reloadEvery
                fileIndex = (fileIndex + 1) % files.count
                reload(files[fileIndex], at: t)
            }
            if sighupEvery > 0 && t >= nextSighup {
                nextSighup += sighupEvery
                kill(pid, SIGHUP)
                update { $0.sighups += 1 }
            }
        }
    }

    private func reload(_ bytes: [UInt8], at t: Double) {
        let began = monotonicSeconds()
        var ok = false, answerText = ""
        do {
            try writeAtomically(bytes, to: modelPath)
            let answer = try controlRequest(.object([("cmd", .string("reload"))]), endpoint: control, timeout: 30)
            if case .bool(true)? = answer["ok"] { ok = true }
            answerText = describe(answer)
        } catch {
            answerText = "\(error)"
        }
        let seconds = monotonicSeconds() - began
        let status = try? controlRequest(.object([("cmd", .string("status"))]), endpoint: control, timeout: 10)
        let served = describe(status?["model"]).contains(modelHash(bytes))
        update { $0.reloads.append(Reload(t: t, ok: ok, seconds: seconds, served: served, answer: answerText)) }
    }
}
