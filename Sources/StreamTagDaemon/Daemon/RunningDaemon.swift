import Logging
import ServiceLifecycle

/// A ``Daemon`` run in a `ServiceGroup` of its own, for programs that use it beside their own
/// work: `demo` and the tests. `serve` puts the daemon in its group with the SIGHUP service
/// instead.
///
/// ```swift
/// let running = try await RunningDaemon.start(daemon)
/// // … daemon.inputEndpoint, daemon.controlEndpoint …
/// try await running.stop()
/// ```
///
/// The group traps no signals. Every daemon started must be stopped: until then its threads
/// run and keep it alive.
package final class RunningDaemon: Sendable {
    let daemon: Daemon
    private let group: ServiceGroup
    /// The task running the group: its value is ``Daemon/run()``'s outcome.
    private let task: Task<Void, any Error>

    private init(daemon: Daemon, group: ServiceGroup, task: Task<Void, any Error>) {
        self.daemon = daemon
        self.group = group
        self.task = task
    }

    /// Runs `daemon` and returns once it serves (``Daemon/ready()``). A failed start throws
    /// the start's error (the one ``Daemon/run()`` threw) once the group has ended: nothing
    /// is left running. `logger` gets the group's lines (debug); the daemon's own by default.
    package static func start(_ daemon: Daemon, logger: Logger? = nil) async throws -> RunningDaemon {
        // A daemon that stops without being asked is a group of one that has finished, not
        // a failure.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup,
                             serviceName: "streamtag daemon")],
            logger: logger ?? daemon.logger))
        let task = Task { try await group.run() }
        do {
            try await daemon.ready()
        } catch {
            _ = await task.result
            throw error
        }
        return RunningDaemon(daemon: daemon, group: group, task: task)
    }

    /// Begins the graceful stop and returns at once; ``stop()`` waits for it. For callers that
    /// read the last answers while the daemon stops.
    func beginStop() async {
        // At once, on this thread: the stop does not wait for the group's task to be
        // scheduled. The group's graceful shutdown then finds the daemon stopping.
        daemon.requestStop()
        await group.triggerGracefulShutdown()
    }

    /// Stops the daemon gracefully (no more input; the messages in progress are finished, the
    /// rest saved in the snapshot; `stopping` goes out) and returns once it has stopped.
    /// Throws what ``Daemon/run()`` threw: ``ShutdownSnapshotFailed`` when the streams could
    /// not be saved. Calling it again returns the same outcome.
    package func stop() async throws {
        await beginStop()
        try await task.value
    }
}
