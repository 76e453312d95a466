import Testing
@testable import StreamTagDaemon
@testable import StreamTagWire

/// The sequence and lifecycle rules of docs/protocol.md#sequence-rules on the pure stream table.
@Suite struct StreamTableTests {
    static func table(_ configure: (inout StreamSettings) -> Void = { _ in }) -> StreamTable {
        var settings = StreamSettings()
        configure(&settings)
        return StreamTable(settings: settings, lookahead: 2, stateBytes: 1000)
    }

    static func message(_ stream: String, _ seq: UInt64, _ tokens: [String] = ["a"], reset: Bool = false, end: Bool = false) -> InputMessage {
        InputMessage(streamID: stream, seq: seq, tokens: tokens, reset: reset, end: end)
    }

    /// A readable form of a stream's queued ops.
    static func ops(_ t: StreamTable, _ stream: String) -> [String] {
        guard let slot = t.slot(of: stream) else { return [] }
        return t[slot].ops.map { op in
            switch op {
            case .event(let e): "event \(e)"
            case .clear(let reason, let announce): "clear \(reason.rawValue)\(announce ? "!" : "")"
            case .token(let s): s
            case .replay(let s, let position): "replay \(s)@\(position)"
            case .flush: "flush"
            case .answer(let seq): "answer \(seq)"
            case .end: "end"
            }
        }
    }

    @Test func firstMessageMayCarryAnySeq() {
        var t = Self.table()
        t.accept(Self.message("s", 41, ["The", "cat"]), now: 0)
        #expect(Self.ops(t, "s") == ["The", "cat", "answer 41"])
        t.accept(Self.message("s", 42, ["sat"]), now: 0)
        #expect(Self.ops(t, "s").suffix(2) == ["sat", "answer 42"])
    }

    @Test func gapIsReportedAndTheStreamContinues() {
        var t = Self.table()
        t.accept(Self.message("s", 1), now: 0)
        t.accept(Self.message("s", 5, ["b"]), now: 0)
        #expect(Self.ops(t, "s").suffix(3) == ["event gap(expected: 2, received: 5)", "b", "answer 5"])
    }

    @Test func gapWithResetPolicyClearsOnceEvenWithResetRequested() {
        var t = Self.table { $0.resetOnGap = true }
        t.accept(Self.message("s", 1), now: 0)
        t.accept(Self.message("s", 3, ["b"], reset: true), now: 0)
        #expect(Self.ops(t, "s").suffix(4) == ["event gap(expected: 2, received: 3)", "clear gap!", "b", "answer 3"])
    }

    @Test func duplicatesAreDroppedInOrder() {
        var t = Self.table()
        t.accept(Self.message("s", 7), now: 0)
        t.accept(Self.message("s", 7, ["again"]), now: 0)
        t.accept(Self.message("s", 3), now: 0)
        #expect(Self.ops(t, "s") == ["a", "answer 7", "event duplicate(seq: 7, last: 7)", "event duplicate(seq: 3, last: 7)"])
        #expect(t[t.slot(of: "s")!].queuedTokens == 1)
    }

    @Test func resetOnAnExistingStreamIsAnnounced() {
        var t = Self.table()
        t.accept(Self.message("s", 1, ["x"], reset: true), now: 0)
        #expect(Self.ops(t, "s") == ["x", "answer 1"])            // new stream: nothing to clear
        t.accept(Self.message("s", 2, ["y"], reset: true), now: 0)
        #expect(Self.ops(t, "s").suffix(3) == ["clear request!", "y", "answer 2"])
    }

    @Test func endThenGraceThenNewStream() {
        var t = Self.table { $0.endGrace = 60 }
        t.accept(Self.message("s", 1, ["a"], end: true), now: 0)
        #expect(Self.ops(t, "s") == ["a", "flush", "answer 1", "end"])
        // While `end` is still queued, a later seq starts a new stream behind it.
        t.accept(Self.message("s", 2, ["b"]), now: 0)
        #expect(Self.ops(t, "s").suffix(3) == ["clear request", "b", "answer 2"])

        var u = Self.table { $0.endGrace = 60 }
        u.accept(Self.message("e", 5, [], end: true), now: 0)
        u.remove(u.slot(of: "e")!, tombstone: 10)                 // the worker retires it at t=10
        u.accept(Self.message("e", 5), now: 30)                   // resent within the grace: duplicate
        #expect(u.immediate.map(\.event) == [.duplicate(seq: 5, last: 5)])
        #expect(u.slot(of: "e") == nil)
        u.accept(Self.message("e", 6, ["new"]), now: 40)          // later seq: a new stream
        #expect(Self.ops(u, "e") == ["new", "answer 6"])
        u.remove(u.slot(of: "e")!, tombstone: 50)
        u.expire(now: 200)                                        // grace over: forgotten
        u.accept(Self.message("e", 1), now: 200)
        #expect(Self.ops(u, "e") == ["a", "answer 1"])
    }

    @Test func overloadedLeavesTheStreamAlone() {
        var t = Self.table { $0.maxPendingTokens = 3 }
        t.accept(Self.message("s", 1, ["a", "b"]), now: 0)
        t.accept(Self.message("s", 2, ["c", "d"]), now: 0)
        #expect(Self.ops(t, "s").last?.hasPrefix("event error(code: StreamTagWire.WireErrorCode.overloaded") == true)
        #expect(t[t.slot(of: "s")!].lastSeq == 1)
        t.accept(Self.message("s", 2, ["c"]), now: 0)             // the same seq fits now
        #expect(Self.ops(t, "s").suffix(2) == ["c", "answer 2"])
    }

    @Test func aMessageAfterAnOverloadedOneIsRefusedTooUntilTheRefusedOneComesAgain() {
        // A producer pipelines 2, 3 and 4; 2 does not fit. Were 3 accepted, it would open a
        // gap that the resend of 2 (then a duplicate) could never fill: 2's tokens lost.
        var t = Self.table { $0.maxPendingTokens = 4 }
        t.accept(Self.message("s", 1, ["a", "b"]), now: 0)
        t.accept(Self.message("s", 2, ["c", "d", "x"]), now: 0)  // 5 > 4: refused
        t.accept(Self.message("s", 3, ["e"]), now: 0)            // would fit, but 2 came first
        #expect(Self.ops(t, "s").last?.contains("seq 3 comes after seq 2, which was refused as overloaded") == true)
        #expect(t[t.slot(of: "s")!].lastSeq == 1)
        t.accept(Self.message("s", 2, ["c"]), now: 0)             // the refused seq, resent, fits
        t.accept(Self.message("s", 3, ["e"]), now: 0)             // and the rest follows in order
        #expect(Self.ops(t, "s").suffix(4) == ["c", "answer 2", "e", "answer 3"])
        #expect(!Self.ops(t, "s").contains { $0.hasPrefix("event gap") })
        #expect(t[t.slot(of: "s")!].refusedSeq == nil)
    }

    @Test func idleStreamsAreEvictedOnlyWhenNothingIsQueued() {
        var t = Self.table { $0.idleTimeout = 10 }
        t.accept(Self.message("busy", 1), now: 0)
        t.accept(Self.message("idle", 1), now: 0)
        t.remove(t.slot(of: "idle")!, tombstone: nil)             // pretend: processed...
        t.accept(Self.message("idle", 1, []), now: 0)
        var idle = t[t.slot(of: "idle")!]
        idle.ops.removeAll()
        t[idle.slot] = idle
        t.expire(now: 11)
        #expect(t.slot(of: "idle") == nil)
        #expect(t.slot(of: "busy") != nil)
        #expect(t.immediate.map(\.stream) == ["idle"])
        #expect(t.immediate.map(\.event) == [.evicted(reason: .idle)])
    }

    /// What the worker does to a stream's queue: runs it all (then the prune makes it idle).
    static func process(_ t: inout StreamTable, _ stream: String) {
        var r = t[t.slot(of: stream)!]
        t.stepped(tokens: r.queuedTokens)
        r.queuedTokens = 0
        r.ops.removeAll()
        t[r.slot] = r
    }

    @Test func memoryCapEvictsLeastRecentlyFed() {
        var t = Self.table { $0.maxStateBytes = 2500 }          // room for two streams of 1000 bytes
        for (i, name) in ["a", "b"].enumerated() {
            t.accept(Self.message(name, 1, []), now: Double(i))
            Self.process(&t, name)
            t.pruneActive()
        }
        t.accept(Self.message("c", 1), now: 5)
        #expect(t.slot(of: "a") == nil)
        #expect(t.slot(of: "b") != nil && t.slot(of: "c") != nil)
        #expect(t.immediate.map(\.stream) == ["a"])
    }

    @Test func dropDiscardsQueuedInput() {
        var t = Self.table()
        t.accept(Self.message("s", 1, ["a", "b", "c"]), now: 0)
        let first = t.drop("s")
        #expect(first)
        #expect(t.slot(of: "s") == nil)
        let second = t.drop("s")
        #expect(!second)
        #expect(t.immediate.map(\.event) == [.evicted(reason: .dropped)])
        t.accept(Self.message("s", 9), now: 0)                   // no tombstone: a fresh stream
        #expect(Self.ops(t, "s") == ["a", "answer 9"])
    }

    /// A removed stream's slot stays on the active list (without a record) until the next
    /// prune frees it, so removal costs no scan of the list and no slot is listed twice.
    @Test func removedActiveSlotsAreFreedAtThePrune() {
        var t = Self.table()
        t.accept(Self.message("a", 1), now: 0)
        t.accept(Self.message("b", 1), now: 0)
        let a = t.slot(of: "a")!, b = t.slot(of: "b")!
        #expect(t.active == [a, b])
        let dropped = t.drop("a")
        #expect(dropped)
        #expect(t.active == [a, b] && t.records[a] == nil, "still listed, record gone")
        t.accept(Self.message("c", 1), now: 0)
        let c = t.slot(of: "c")!
        #expect(c != a, "not reused before the prune")
        t.pruneActive()
        #expect(t.active == [b, c])
        t.accept(Self.message("d", 1), now: 0)
        #expect(t.slot(of: "d") == a, "reused after it")
        #expect(t.active == [b, c, a])
    }

    @Test func errorsKeepTheStreamsOrder() {
        var t = Self.table()
        t.accept(Self.message("s", 1), now: 0)
        t.reject(stream: "s", error: .error(code: .badTokens, message: "bad", seq: 2))
        t.reject(stream: "unknown", error: .error(code: .badJSON, message: "bad", seq: nil))
        #expect(Self.ops(t, "s").count == 3)
        #expect(t.immediate.map(\.stream) == ["unknown"])
    }
}
