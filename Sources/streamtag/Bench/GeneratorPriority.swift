import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the load generator of `bench e2e` is scheduled during the paced (latency) runs.
///
/// On one machine the generator shares the cores with the daemon it measures: at normal
/// priority its wake-ups preempt the daemon's threads, which producers and consumers on other
/// machines would not do. `idle` runs it under `SCHED_IDLE` during the paced runs, so it only
/// takes CPU time the daemon leaves; its own delays (a late read of an answer) still count in
/// the latency it measures, so a generator with much to do (one-token messages at tens of
/// thousands a second) reads answers late and the tail grows. Saturated runs and the daemons it
/// starts are always at normal priority.
enum GeneratorPriority: String, ExpressibleByArgument, CaseIterable, Sendable {
    case idle, normal

    /// Applies the priority to every thread of this process (the generator and libzmq's I/O
    /// thread); returns false if the kernel refused it for any thread (leaving `SCHED_IDLE`
    /// takes CAP_SYS_NICE or a raised RLIMIT_NICE when not root).
    @discardableResult
    func apply() -> Bool {
        #if os(Linux)
        // SCHED_IDLE and SCHED_RESET_ON_FORK: <sched.h> defines them only under _GNU_SOURCE.
        // Reset-on-fork keeps a daemon started later at normal priority whatever happens here.
        let schedIdle: Int32 = 5, resetOnFork: Int32 = 0x4000_0000
        let policy = (self == .idle ? schedIdle : SCHED_OTHER) | resetOnFork
        var param = sched_param()
        param.sched_priority = 0
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return false }
        var applied = true
        for tid in tasks.compactMap(Int32.init) where sched_setscheduler(tid, policy, &param) != 0 {
            applied = false
        }
        return applied
        #else
        return self == .normal
        #endif
    }
}
