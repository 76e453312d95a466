import Synchronization

/// The model loads in progress and the ones that overran their deadline (`reload.load_timeout`).
///
/// Every load runs on a thread of its own. When its deadline passes, the reload is answered as
/// rejected at once and the load is marked *stuck*: the daemon stops waiting for it (later
/// reloads start their own thread), `/healthz` names it until it ends, and whatever it ends
/// with is discarded. At most `maxStuck` stuck loads are tolerated; beyond that a reload is
/// refused at once rather than leaving one more thread blocked.
///
/// Written on the I/O thread; read by `/healthz` on the metrics thread.
final class LoadTracker: Sendable {
    struct Load: Sendable, Equatable {
        let generation: Int
        let path: String
        /// Monotonic seconds when it started.
        let started: Double
    }

    private struct State {
        var nextGeneration = 1
        var current: Load?
        var stuck: [Load] = []
    }

    /// Stuck loads tolerated before a new one is refused.
    static let maxStuck = 2
    private let state = Mutex(State())

    #if DEBUG
    /// Tests: the next load sleeps this long before it opens the file, as if `open` or `read`
    /// hung (a FIFO no longer can: see `ModelFileReader`). Debug builds only.
    let debugStallNextLoad = Mutex<Double>(0)
    #endif

    /// A load of `path` begins; its generation identifies it later.
    func begin(path: String, now: Double) -> Load {
        state.withLock { s in
            let load = Load(generation: s.nextGeneration, path: path, started: now)
            s.nextGeneration += 1
            s.current = load
            return load
        }
    }

    /// The load overran its deadline: true if it was still the current one (it is now stuck and
    /// the caller answers the reload), false if it had ended already.
    func markStuck(_ generation: Int) -> Bool {
        state.withLock { s in
            guard let current = s.current, current.generation == generation else { return false }
            s.current = nil
            s.stuck.append(current)
            return true
        }
    }

    /// The load ended: `.current` if its outcome is to be used, `.stuck(since)` if it had been
    /// given up on (its outcome is to be discarded), `.unknown` otherwise.
    enum Ending: Equatable {
        case current
        case stuck(Load)
        case unknown
    }

    func finish(_ generation: Int) -> Ending {
        state.withLock { s in
            if let current = s.current, current.generation == generation {
                s.current = nil
                return .current
            }
            if let i = s.stuck.firstIndex(where: { $0.generation == generation }) {
                return .stuck(s.stuck.remove(at: i))
            }
            return .unknown
        }
    }

    /// Loads given up on that have not ended yet.
    var stuckCount: Int { state.withLock { $0.stuck.count } }

    /// For `/healthz`: the oldest stuck load, or the current one once it has run past
    /// `timeout`, described; nil when the loader is fine.
    func unhealthyReason(now: Double, timeout: Double) -> String? {
        state.withLock { s in
            func stuck(_ load: Load) -> String {
                "the model loader is stuck: a load of \(load.path) has run for \(Self.seconds(now - load.started)) "
                    + "(reload.load_timeout \(Self.seconds(timeout)))"
            }
            if let oldest = s.stuck.first {
                return stuck(oldest) + (s.stuck.count > 1 ? " and \(s.stuck.count - 1) more" : "")
            }
            if let current = s.current, now - current.started > timeout { return stuck(current) }
            return nil
        }
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() && s < 1e9 ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}
