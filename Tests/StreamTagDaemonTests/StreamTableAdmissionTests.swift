import Dispatch
import Testing
@testable import StreamTagDaemon

/// The memory cap and the daemon-wide pending budget on the pure stream table: both hold at
/// any arrival rate, at constant cost per new stream.
@Suite struct StreamTableAdmissionTests {
    typealias T = StreamTableTests

    @Test func memoryCapRefusesANewStreamWhenEveryStreamHasInputQueued() {
        var t = T.table { $0.maxStateBytes = 2000 }             // two streams of 1000 bytes
        t.accept(T.message("a", 1), now: 0)
        t.accept(T.message("b", 1), now: 0)
        t.accept(T.message("c", 7), now: 1)
        #expect(t.count == 2 && t.slot(of: "c") == nil)
        guard case .error(.overloaded, let message, 7)? = t.immediate.first?.event else {
            Issue.record("no overloaded error: \(t.immediate)")
            return
        }
        #expect(message.contains("streams.max_state_bytes"))
        // Once a stream has run its queue (and the prune saw it), it makes room.
        T.process(&t, "a")
        t.pruneActive()
        t.immediate.removeAll()
        t.accept(T.message("c", 8), now: 2)
        #expect(t.slot(of: "c") != nil && t.slot(of: "a") == nil)
        #expect(t.immediate.map(\.event) == [.evicted(reason: .memory)])
    }

    @Test func memoryCapEvictsTheLongestIdleFirst() {
        var t = T.table { $0.maxStateBytes = 3000 }
        for name in ["a", "b", "c"] { t.accept(T.message(name, 1), now: 0) }
        for name in ["b", "a", "c"] {                         // idle in this order
            T.process(&t, name)
            t.pruneActive()
        }
        t.accept(T.message("d", 1), now: 1)
        t.accept(T.message("e", 1), now: 1)
        #expect(t.immediate.map(\.stream) == ["b", "a"])
        #expect(t.slot(of: "c") != nil && t.count == 3)
    }

    /// A flood of new ids, one token each, processed in rounds as a worker would: the cap holds
    /// throughout and the cost per new stream does not grow with the number of streams.
    @Test func memoryCapHoldsUnderAFloodOfNewIds() {
        func flood(_ ids: Int) -> (maxOpen: Int, refused: Int, seconds: Double) {
            var t = T.table { $0.maxStateBytes = 1000 * 1000 }  // 1,000 streams
            var maxOpen = 0, refused = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<ids {
                t.accept(T.message("id\(i)", 1), now: Double(i) * 1e-4)
                maxOpen = max(maxOpen, t.count)
                if i % 64 == 63 {                            // a worker round: run and prune
                    for slot in t.active where t.records[slot] != nil { T.process(&t, t[slot].id) }
                    t.pruneActive()
                }
                refused += t.immediate.count { if case .error(.overloaded, _, _) = $0.event { true } else { false } }
                t.immediate.removeAll(keepingCapacity: true)
            }
            return (maxOpen, refused, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let small = flood(25_000), large = flood(100_000)
        #expect(small.maxOpen <= 1000 && large.maxOpen <= 1000)
        #expect(large.refused == 0, "every stream had run its token by the next round: room was always made")
        // Linear: 4x the ids in about 4x the time (quadratic would be 16x); generous for a loaded machine.
        #expect(large.seconds < small.seconds * 8, "25k ids \(small.seconds) s, 100k ids \(large.seconds) s")
    }

    @Test func daemonWidePendingBudgetRefusesBeyondIt() {
        var t = T.table { $0.maxPendingTotal = 5 }
        t.accept(T.message("a", 1, ["x", "y", "z"]), now: 0)
        t.accept(T.message("b", 1, ["x", "y", "z"]), now: 0)          // a new stream over the budget
        t.accept(T.message("a", 2, ["w", "v", "u"]), now: 0)          // an open one over the budget
        #expect(t.pendingTokens == 3 && t.slot(of: "b") == nil)
        guard case .error(.overloaded, let message, 1)? = t.immediate.first?.event else {
            Issue.record("no overloaded error: \(t.immediate)")
            return
        }
        #expect(message.contains("streams.max_pending_total"))
        #expect(T.ops(t, "a").last?.contains("overloaded") == true && t[t.slot(of: "a")!].lastSeq == 1)
        T.process(&t, "a")
        t.accept(T.message("b", 1, ["x", "y", "z"]), now: 0)          // room again
        #expect(t.pendingTokens == 3 && t.slot(of: "b") != nil)
        _ = t.drop("b")
        #expect(t.pendingTokens == 0, "a dropped stream's queue leaves the budget")
    }
}
