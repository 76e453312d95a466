import Foundation
import Logging
import Synchronization
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire

/// The counting behind the metrics, without sockets: the worker's hooks, the arrival queue,
/// the log summary, the listen address.
@Suite struct MetricsCountingTests {
    @Test func eventCountIndicesAreDistinctAndMatchTheirEnums() {
        #expect(EventCount.checkLayout())
        var all = WireErrorCode.allCases.map { EventCount.error($0) }
        all += OutputEvent.EvictionReason.allCases.map { EventCount.eviction($0) }
        all += OutputEvent.ResetReason.allCases.map { EventCount.reset($0) }
        all += [EventCount.gaps, EventCount.duplicates, EventCount.messagesOut, EventCount.answers,
                EventCount.messagesIn, EventCount.outputDropped, EventCount.httpRefused, EventCount.httpIdleClosed,
                EventCount.fdExhaustedHTTP, EventCount.fdExhaustedZMQ, EventCount.inputDisconnects]
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { (0..<EventCount.total).contains($0) })
        #expect(all.count == EventCount.total)
    }

    /// The queue against an array, over random pushes and pops (enough to pass the compaction).
    @Test func arrivalQueueIsFIFO() {
        var queue = ArrivalQueue()
        var reference: [UInt64] = []
        var rng = SplitMix64(seed: 11)
        var next: UInt64 = 1
        for round in 0..<20_000 {
            // Phases of growth and of draining.
            let pushBias: UInt64 = (round / 2_000) % 2 == 0 ? 7 : 3
            if rng.next() % 10 < pushBias {
                queue.push(next)
                reference.append(next)
                next += 1
            } else {
                let expected = reference.isEmpty ? 0 : reference.removeFirst()
                #expect(queue.pop() == expected)
            }
            #expect(queue.count == reference.count)
        }
        while !reference.isEmpty { #expect(queue.pop() == reference.removeFirst()) }
        #expect(queue.pop() == 0)
        #expect(queue.count == 0)
    }

    @Test func arrivalTimeIsNotPartOfAMessagesIdentity() {
        var a = InputMessage(streamID: "s", seq: 1, tokens: ["x"])
        a.arrival = ArrivalTime(nanoseconds: 5)
        var b = a
        b.arrival = ArrivalTime(nanoseconds: 99)
        #expect(a == b)
        #expect(b.arrival.nanoseconds == 99)
        #expect(InputMessage(streamID: "s", seq: 1).arrival.nanoseconds > 0, "stamped when built")
    }

    /// A worker driven directly counts what it publishes: gap, duplicate, resets, overloaded,
    /// evictions of every reason; one batch-size and one step-time record per step; the state
    /// gauge; and the answers carry their messages' arrival times.
    @Test func workerCountsItsEventsAndSteps() throws {
        let model = try testModel(lookahead: 1)
        let bytes = StateLayout(config: model.config).bytes
        var settings = StreamSettings()
        settings.maxPendingTokens = 4
        settings.idleTimeout = 10
        settings.maxStateBytes = 3 * bytes
        let h = WorkerHarness(model: model, settings: settings)
        let counts = h.worker.metrics.daemon.counts
        func count(_ index: Int) -> Int { counts.load(index) }

        h.send("a", 1, ["the", "cat"])
        h.send("a", 3, ["sat"])                      // gap
        h.send("a", 3, ["sat"])                      // duplicate
        h.send("a", 4, ["on"], reset: true)          // reset (request)
        h.send("b", 1, ["a", "b", "c", "d", "e"])    // overloaded (limit 4), no stream
        h.send("c", 1, ["dog"])
        h.worker.runUntilIdle()
        #expect(count(EventCount.gaps) == 1)
        #expect(count(EventCount.duplicates) == 1)
        #expect(count(EventCount.reset(.request)) == 1)
        #expect(count(EventCount.error(.overloaded)) == 1)
        #expect(count(EventCount.error(.badJSON)) == 0, "parse errors are the I/O thread's to count")
        #expect(h.published.filter { $0.json["event"] as? String == "gap" }.count == 1)

        // Memory: a fourth stream evicts the least recently fed one (cap: three).
        h.now = 1
        h.send("d", 1, ["x"])
        h.send("e", 1, ["y"])
        h.worker.runUntilIdle()
        #expect(count(EventCount.eviction(.memory)) == 1)
        #expect(h.worker.drop("c") || h.worker.drop("d"))
        #expect(count(EventCount.eviction(.dropped)) == 1)
        h.now = 100
        h.worker.expire()
        #expect(count(EventCount.eviction(.idle)) == 2)
        #expect(h.worker.streamCount == 0)
        #expect(h.published.filter { $0.json["event"] as? String == "evicted" }.count == 4)

        // Steps: one record each in both histograms per step.
        let text = String(decoding: h.worker.metrics.daemon.render(), as: UTF8.self)
        let e = try Exposition(text)
        #expect(e.value("streamtag_batch_size_count") == Double(h.worker.steps))
        #expect(e.value("streamtag_step_duration_seconds_count") == Double(h.worker.steps))
        #expect(e.value("streamtag_batch_size_sum") == 7, "the, cat, sat, on, dog, x, y (not the duplicate, not the overloaded)")
        #expect(e.value("streamtag_gaps_total") == 1)
        #expect(e.value("streamtag_evictions_total", ["reason": "idle"]) == 2)

        // The state gauge follows the open streams.
        h.send("f", 1, ["the"])
        h.worker.runUntilIdle()
        h.worker.publishMetricGauges()
        #expect(h.worker.metrics.gauges.stateBytes.load(ordering: .relaxed) == bytes)
    }

    /// The answer's arrival reaches the outbox, events carry none.
    @Test func answersCarryTheirArrivalToThePublisher() throws {
        let model = try testModel(lookahead: 0)
        let worker = StreamWorker(model: model, settings: StreamSettings(), clock: { 0 })
        var m1 = InputMessage(streamID: "s", seq: 1, tokens: ["the"])
        m1.arrival = ArrivalTime(nanoseconds: 111)
        var m2 = InputMessage(streamID: "s", seq: 3, tokens: ["cat"])   // a gap event first
        m2.arrival = ArrivalTime(nanoseconds: 222)
        worker.accept(m1)
        worker.accept(m2)
        worker.runUntilIdle()
        #expect(worker.outbox.map(\.arrival) == [111, 0, 222])
    }

    @Test func summaryLinesNameEachKind() {
        var delta = [Int](repeating: 0, count: EventCount.total)
        #expect(EventLogSummary.lines(delta: delta, seconds: 10).isEmpty, "quiet when nothing happened")
        delta[EventCount.error(.badJSON)] = 40
        delta[EventCount.error(.tooLarge)] = 5
        delta[EventCount.eviction(.idle)] = 120
        delta[EventCount.eviction(.memory)] = 3
        delta[EventCount.gaps] = 2
        delta[EventCount.outputDropped] = 7
        delta[EventCount.messagesIn] = 1000      // routine: no line
        let lines = EventLogSummary.lines(delta: delta, seconds: 10.02)
        #expect(lines.map(\.message) == [
            "rejected 45 messages in the last 10 s (bad_json 40, too_large 5)",
            "evicted 123 streams in the last 10 s (idle 120, memory 3)",
            "input seq in the last 10 s: 2 gaps (messages lost upstream), 0 duplicates dropped",
            "output socket dropped 7 messages in the last 10 s (high-water mark reached or send errors)",
        ])
        #expect(lines.map(\.level) == [.warning, .warning, .warning, .warning])
        var idle = [Int](repeating: 0, count: EventCount.total)
        idle[EventCount.eviction(.idle)] = 1
        let quiet = EventLogSummary.lines(delta: idle, seconds: 2.5)
        #expect(quiet.map(\.message) == ["evicted 1 stream in the last 2.5 s (idle 1)"])
        #expect(quiet.map(\.level) == [.info], "idle evictions are routine")
    }

    /// The summary logs the increase since its last run, once.
    @Test func summaryLogsOncePerIncrease() {
        let metrics = DaemonMetrics()
        let captured = LogLines()
        let logger = captured.logger()
        let summary = EventLogSummary(counts: metrics.counts, logger: logger, interval: 3600)
        metrics.rejected(.badSeq)
        metrics.rejected(.badSeq)
        metrics.count(.evicted(reason: .dropped))
        summary.summarize()
        #expect(captured.texts.count == 2)
        #expect(captured.texts.first?.hasPrefix("rejected 2 messages in the last") == true)
        summary.summarize()
        #expect(captured.texts.count == 2, "nothing new, nothing logged")
        metrics.counts.add(EventCount.outputDropped, 3)
        summary.stop()
        #expect(captured.texts.last?.hasPrefix("output socket dropped 3 messages") == true)
    }

    @Test func listenAddresses() {
        #expect(MetricsRoutes.parseListen("127.0.0.1:5563")! == ("127.0.0.1", 5563))
        #expect(MetricsRoutes.parseListen("localhost:0")! == ("localhost", 0))
        #expect(MetricsRoutes.parseListen("[::1]:9100")! == ("::1", 9100))
        #expect(MetricsRoutes.parseListen("127.0.0.1") == nil)
        #expect(MetricsRoutes.parseListen("127.0.0.1:70000") == nil)
        #expect(MetricsRoutes.parseListen(":80") == nil)
    }
}
