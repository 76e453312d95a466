import NIOCore
import StreamTagClient

/// One phase of ``GatewayLoadGenerator``, on its event loop (the group's only thread, so every
/// callback that touches it runs there). The bookkeeping and the checks are the ZeroMQ load
/// generator's (``LoadAccounting``): only the transport and the pacing (event-loop timers
/// instead of a polling loop) are the gateway's own.
final class GatewayLoadRun: @unchecked Sendable {
    private let phase: LoadPhase
    private var accounting: LoadAccounting
    private var result: LoadResult
    private var clients: [GatewayClient] = []
    private var done: EventLoopPromise<LoadResult>?
    /// The body being sent (its capacity reused from message to message).
    private var body: [UInt8] = []

    private var start: UInt64 = 0
    private var sending = true
    private var ending = false
    private var pacedTask: RepeatedTask?
    private var pacedSent = 0

    init(phase: LoadPhase, words: LoadWords) {
        self.phase = phase
        accounting = LoadAccounting(streams: phase.streams, window: phase.window, words: words)
        result = LoadResult(phase: phase)
    }

    func start(clients: [GatewayClient], done: EventLoopPromise<LoadResult>) {
        self.clients = clients
        self.done = done
        start = loadClockNanos()
        let measureStart = start + UInt64(phase.warmup * 1e9)
        let measureEnd = measureStart + UInt64(phase.duration * 1e9)
        // As in the ZeroMQ generator, an `open` run measures no interval.
        if phase.mode != .open {
            accounting.measureStart = measureStart
            accounting.measureEnd = measureEnd
        }
        let loop = done.futureResult.eventLoop
        // Relative delays: NIO's deadlines need not be on this clock.
        loop.scheduleTask(in: .nanoseconds(Int64(measureEnd - start))) { [self] in stopSending() }
        switch phase.mode {
        case .saturated, .open:
            for s in 0..<phase.streams {
                for _ in 0..<(phase.mode == .open ? 1 : phase.window) { send(s, end: false) }
            }
            if phase.mode == .open { stopSending() }
        case .paced(let rate):
            pacedTask = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { [self] _ in pace(rate) }
        }
        loop.scheduleTask(in: .nanoseconds(Int64(measureEnd - start) + Int64(phase.drainTimeout * 1e9))) { [self] in finish() }
    }

    /// Sends what is due by now at `rate` tokens per second, round-robin over the streams;
    /// a stream with `window` messages unanswered skips its turn.
    private func pace(_ rate: Double) {
        guard sending else { return }
        let due = Int(Double(loadClockNanos() - start) * 1e-9 * rate) / max(1, phase.tokensPerMessage)
        while pacedSent < due {
            let s = pacedSent % phase.streams
            pacedSent += 1
            if accounting.unanswered(s) >= phase.window { result.skippedSends += 1; continue }
            send(s, end: false)
        }
    }

    private func send(_ s: Int, end: Bool) {
        accounting.writeMessage(stream: s, tokens: end ? 0 : phase.tokensPerMessage, end: end, at: loadClockNanos(), into: &body)
        clients[s].send(bytes: body)
    }

    /// A message on stream `s`'s connection.
    func received(stream s: Int, _ bytes: [UInt8]) {
        let time = loadClockNanos()
        let outcome = bytes.withUnsafeBytes { accounting.receive(stream: s, body: $0, at: time) }
        // Saturated: each in-order answer gives its stream's turn back (the ZeroMQ generator's credits).
        if outcome == .answer && sending && phase.mode == .saturated { send(s, end: false) }
        checkDone()
    }

    private func stopSending() {
        guard sending else { return }
        sending = false
        pacedTask?.cancel()
        checkDone()
    }

    /// After the sends stop and every answer is in: end the streams, then finish.
    private func checkDone() {
        guard !sending, accounting.outstanding == 0 else { return }
        if phase.endStreams && !ending {
            ending = true
            for s in 0..<phase.streams { send(s, end: true) }
            return
        }
        if allEnded { finish() }
    }

    private var allEnded: Bool { !phase.endStreams || accounting.endsReceived >= phase.streams }

    private func finish() {
        guard let done else { return }
        self.done = nil
        result.drained = accounting.outstanding == 0 && allEnded
        accounting.finish(into: &result, start: start, finished: loadClockNanos())
        done.succeed(result)
    }
}
