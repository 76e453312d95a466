import StreamTagWire
/// Paced sending for the drills and the soak: credit for `perSecond` messages accrues with
/// time, capped at `burst` seconds of it (plus one message), so that a pause (a restart, a
/// slow pump) is not made up by a flood.
struct DrillPacer {
    let perSecond: Double
    let burst: Double
    private var credit = 0.0
    private var last = monotonicSeconds()

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Sends what the credit allows now, at most `window` unanswered per stream.
    mutating func send(_ driver: DrillStreams, window: Int) throws {
        let t = monotonicSeconds()
        credit = min(credit + (t - last) * perSecond, perSecond * burst + 1)
        last = t
        if credit >= 1 { credit -= Double(try driver.sendSome(Int(credit), window: window)) }
    }
}

extension DrillStreams {
    /// Sends (up to `count` messages a round, `window` unanswered per stream) and receives
    /// until `done()` holds or `timeout` s pass; with `resendAfter`, stalled streams send again
    /// (see `resendStalled`). Returns whether `done()` held.
    func drive(timeout: Double, count: Int, window: Int, pump: Double, resendAfter: Double? = nil,
               until done: () -> Bool) throws -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if done() { return true }
            _ = try sendSome(count, window: window)
            try self.pump(timeout: pump)
            if let resendAfter { _ = try resendStalled(after: resendAfter) }
        }
        return done()
    }

    /// Paced load on the open streams for `seconds`.
    func load(seconds: Double, messagesPerSecond: Double, burst: Double, window: Int, pump: Double,
              resendAfter: Double? = nil) throws {
        var pacer = DrillPacer(perSecond: messagesPerSecond, burst: burst)
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            try pacer.send(self, window: window)
            try self.pump(timeout: pump)
            if let resendAfter { _ = try resendStalled(after: resendAfter) }
        }
    }
}
