import Foundation
import ServiceLifecycle
import StreamTagZMQ
import Synchronization

/// The daemon as a swift-service-lifecycle `Service`: ``run()`` starts it, serves until a
/// graceful shutdown or the task's cancellation, and returns once it has stopped. Embedders
/// that run it beside their own work use ``RunningDaemon``; ``ready()`` says when it serves.
extension Daemon: Service {
    /// Starts the daemon (sockets bound, snapshot restored, threads started), serves until the
    /// group shuts down gracefully or the task is cancelled, then stops: no more input, the
    /// messages in progress are finished and published, the rest of what was accepted is
    /// snapshotted as input, `stopping` goes out. Returns once stopped.
    ///
    /// Throws the start's error (``ready()`` throws the same), or ``ShutdownSnapshotFailed``
    /// when the shutdown snapshot could not be written: a daemon that could not save its
    /// streams must not end as if it had. A daemon runs once.
    package func run() async throws {
        try await start()
        // Cancellation stops the same way as a graceful shutdown: the streams are saved
        // either way. Waiting for the stop is not cancellable, so the snapshot is waited for.
        await withTaskCancellationOrGracefulShutdownHandler {
            await stoppedAsync()
        } onCancelOrGracefulShutdown: { [self] in
            requestStop()
        }
        if case .failure(let error)? = shutdownSnapshot.withLock({ $0 }) {
            throw ShutdownSnapshotFailed(reason: "\(error)")
        }
    }

    /// Returns once the daemon serves (its endpoints are bound and readable, the snapshot is
    /// restored, `/readyz` answers 200), at once if it already does. Throws the error its start
    /// failed with, or ``DaemonLifecycleError/stopped`` once it has stopped. Waits for
    /// ``run()`` to be called, and is not cancellable: a start's outcome comes soon.
    package func ready() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = phase.withLock { phase -> Result<Void, any Error>? in
                guard case .starting(var waiters) = phase else { return phase.readiness }
                waiters.append(continuation)
                phase = .starting(waiters)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Binds the sockets, restores the snapshot and starts the threads; when it returns the
    /// daemon serves. Nothing blocks: the I/O thread resumes the task once its loop is built.
    private func start() async throws {
        guard !hasRun.exchange(true, ordering: .acquiringAndReleasing) else { throw DaemonLifecycleError.alreadyRun }
        do {
            try startMetrics()
            do {
                try snapshots.checkWritable()
                try await startIOThread()
            } catch {
                // The listener would otherwise answer 503 for a daemon that never serves.
                stopMetrics(lastSummary: false)
                throw error
            }
        } catch {
            enter(.failed(error))
            throw error
        }
        logger.info("started", metadata: [
            "model": "\(model.id)", "input": "\(inputEndpoint)", "output": "\(outputEndpoint)",
            "control": "\(controlEndpoint)", "workers": "\(pool.workers.count)", "streams": "\(pool.streams)",
        ])
        await metricsReady()
        notifyStarted()
        enter(.serving)
    }

    /// Starts the I/O thread and waits, suspended, until its loop is built (or why not).
    private func startIOThread() async throws {
        try await withCheckedThrowingContinuation { (opened: CheckedContinuation<Void, any Error>) in
            // The I/O loop is made on the I/O thread and never leaves it: its sockets are opened
            // there, and it is not Sendable, so no other thread can reach them.
            let thread = Thread { [self] in
                nameCurrentThread("streamtag-io")
                let loop: IOLoop
                do {
                    loop = try IOLoop(daemon: self)
                } catch {
                    opened.resume(throwing: error)
                    return
                }
                loop.restoreSnapshot()
                pool.start()
                opened.resume()
                loop.run()
            }
            thread.name = "streamtag-io"
            thread.start()
        }
    }

    /// Begins a graceful stop (any thread): no more input; the messages in progress are
    /// finished and published, the rest of what was accepted is snapshotted as input, then
    /// `stopping` goes out. ``run()`` calls it on graceful shutdown or cancellation.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        notifyStopping()
        try? wake.signal()
    }

    /// Waits for the stop, suspended: no thread waits (the stop resumes the task).
    func stoppedAsync() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stoppedAlready = stopWaiters.withLock { waiters in
                guard waiters != nil else { return true }
                waiters?.append(continuation)
                return false
            }
            if stoppedAlready { continuation.resume() }
        }
    }

    /// The I/O loop, last thing: the daemon has stopped.
    func markStopped() {
        // Taking the waiters marks the stop; a second call finds nil and does nothing.
        guard let waiters = stopWaiters.withLock({ waiters in defer { waiters = nil }; return waiters }) else { return }
        notifyStopped()
        stopMetrics()
        enter(.stopped)
        for waiter in waiters { waiter.resume() }
    }

    /// Moves the daemon to `next` and answers the tasks waiting in ``ready()``.
    private func enter(_ next: LifecyclePhase) {
        let waiters = phase.withLock { phase -> [CheckedContinuation<Void, any Error>] in
            defer { phase = next }
            if case .starting(let waiters) = phase { return waiters }
            return []
        }
        guard let outcome = next.readiness else { return }
        for waiter in waiters { waiter.resume(with: outcome) }
    }

    /// Where the daemon is in its life, for ``ready()``.
    enum LifecyclePhase {
        /// Not serving yet: the tasks waiting in ``ready()``.
        case starting([CheckedContinuation<Void, any Error>])
        case serving
        case failed(any Error)
        case stopped

        /// What ``ready()`` answers in this phase; nil while it waits.
        var readiness: Result<Void, any Error>? {
            switch self {
            case .starting: nil
            case .serving: .success(())
            case .failed(let error): .failure(error)
            case .stopped: .failure(DaemonLifecycleError.stopped)
            }
        }
    }
}

/// The shutdown snapshot could not be written: ``Daemon/run()`` throws it once stopped, and
/// `serve` exits with status 1 and this message.
struct ShutdownSnapshotFailed: Error, CustomStringConvertible {
    /// Why, in words (with the path).
    let reason: String
    var description: String { "the shutdown snapshot failed, streams were not saved: \(reason)" }
}

/// A ``Daemon`` used out of turn.
enum DaemonLifecycleError: Error, CustomStringConvertible {
    /// ``Daemon/run()`` was called a second time: a daemon runs once.
    case alreadyRun
    /// ``Daemon/ready()`` was asked after the daemon had stopped.
    case stopped

    var description: String {
        switch self {
        case .alreadyRun: "the daemon has already run; make a new one to start again"
        case .stopped: "the daemon has stopped"
        }
    }
}
