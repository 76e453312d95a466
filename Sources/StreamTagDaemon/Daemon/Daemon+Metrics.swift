import Foundation
import StreamTagWire

extension Daemon {
    /// `host:port` the metrics listener is bound to (the real port when `metrics.listen` asked
    /// for port 0); nil when it is disabled or not running.
    var metricsAddress: String? { metrics.services.withLock { $0.server?.address } }

    /// The port of ``metricsAddress``.
    var metricsPort: Int? { metrics.services.withLock { $0.server?.port } }

    /// First thing in `start()`: hands each worker its metrics (before its thread runs
    /// anything else), starts the log summary, and binds the HTTP listener, which answers
    /// `/readyz` with 503 until `start()` has finished.
    func startMetrics() throws {
        var gauges: [WorkerGauges] = []
        for w in pool.workers {
            let workerMetrics = WorkerMetrics(daemon: metrics, gauges: WorkerGauges())
            gauges.append(workerMetrics.gauges)
            w.submit([.run { worker in worker.metrics = workerMetrics }])
        }
        metrics.attach(daemon: self, workers: gauges, model: model.id)
        let summary = EventLogSummary(counts: metrics.counts, logger: logger)
        metrics.services.withLock { $0.summary = summary }
        summary.start()

        let listen = config.metrics.listen
        guard !listen.isEmpty else { return }
        guard let (host, port) = MetricsRoutes.parseListen(listen) else {
            throw MetricsListenError(message: "metrics.listen: \(listen) is not host:port")
        }
        let counts = metrics.counts, logger = self.logger
        let events = MetricsConnectionGuard.Events(
            refused: { counts.add(EventCount.httpRefused) },
            idleClosed: { counts.add(EventCount.httpIdleClosed) },
            acceptFailed: { code in
                // The first one at once; the log summary reports the rest every 10 s.
                if counts.load(EventCount.fdExhaustedHTTP) == 0 {
                    logger.error("out of file descriptors: the metrics listener cannot accept connections",
                                 metadata: ["errno": "\(code)", "error": "\(String(cString: strerror(code)))"])
                }
                counts.add(EventCount.fdExhaustedHTTP)
            })
        let server: MetricsServer
        do {
            server = try MetricsServer(host: host, port: port, connections: MetricsConnectionGuard(limits: .init(config.metrics), events: events)) { [weak metrics] head in
                MetricsRoutes.respond(to: head, metrics: metrics)
            }
        } catch {
            summary.cancel()
            throw MetricsListenError(message: "metrics.listen: cannot listen on \(listen): \(error)")
        }
        metrics.services.withLock { $0.server = server }
        logger.info("metrics listening", metadata: ["address": "\(server.address)", "paths": "/metrics /healthz /readyz"])
    }

    /// Last thing in `start()`: `/readyz` answers 200 from now on. Ready implies healthy: it
    /// first waits (up to 5 s, suspended) until the I/O loop and every worker have ticked, so
    /// `/healthz` never answers "has not started" after `/readyz` said 200. The I/O loop is
    /// woken so that it turns at once rather than at its first timer.
    func metricsReady() async {
        try? wake.signal()
        let deadline = monotonicSeconds() + 5
        while metrics.unhealthyReason() != nil && monotonicSeconds() < deadline {
            // Cancelled: the stop follows at once, no need to wait for the first ticks.
            do { try await Task.sleep(for: .milliseconds(1)) } catch { break }
        }
        if !Task.isCancelled, let reason = metrics.unhealthyReason() {
            logger.warning("ready, but not healthy yet", metadata: ["reason": "\(reason)"])
        }
        metrics.ready.store(true, ordering: .releasing)
    }

    /// Closes the listener and stops the log summary: when the daemon has stopped, with the
    /// summary's last line; after a start that failed past `startMetrics`, without it (the
    /// daemon never served).
    func stopMetrics(lastSummary: Bool = true) {
        let (server, summary) = metrics.services.withLock { services in
            defer { services = (nil, nil) }
            return services
        }
        server?.shutdown()
        if lastSummary { summary?.stop() } else { summary?.cancel() }
    }
}

/// The metrics listener could not start.
struct MetricsListenError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
