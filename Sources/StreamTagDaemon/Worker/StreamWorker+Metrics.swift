extension StreamWorker {
    /// Once per worker loop iteration: the gauges a scrape sums over the workers.
    func publishMetricGauges() {
        var bytes = 0
        for case let r? in runtimes { bytes += r.streams * r.layout.bytes }
        metrics.gauges.stateBytes.store(bytes, ordering: .relaxed)
        metrics.gauges.pendingTokens.store(table.pendingTokens, ordering: .relaxed)
    }
}
