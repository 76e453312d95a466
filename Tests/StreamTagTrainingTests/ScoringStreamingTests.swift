import Foundation
import Testing
@testable import StreamTagTraining

@Test func editOverheadCountsChangedProvisionalTags() throws {
    var e = EditOverhead()
    // Token 2's first provisional tag B was corrected to A; token 3 had none.
    try e.add(provisional: [["A"], ["B", "A"], [], ["C", "C"]], final: ["A", "A", "B", "C"])
    #expect(e.tokens == 4)
    #expect(e.provisional == 5)
    #expect(e.changed == 1)
    #expect(e.tokensChanged == 1)
    #expect(e.overhead == 0.2)
    #expect(e.tokensWithProvisional == 3)
    #expect(abs(e.firstGuessAccuracy - 2.0 / 3) < 1e-12)
}

@Test func editOverheadMergesAndEncodes() throws {
    var a = EditOverhead(), b = EditOverhead(), both = EditOverhead()
    a.add(provisional: ["X", "Y"], final: "Y")
    b.add(provisional: ["Z"], final: "W")
    both.add(provisional: ["X", "Y"], final: "Y")
    both.add(provisional: ["Z"], final: "W")
    a.merge(b)
    #expect(a == both)
    #expect(abs(a.overhead - 2.0 / 3) < 1e-12)
    #expect(a.tokensChanged == 2)
    let decoded = try JSONDecoder().decode(EditOverhead.self, from: JSONEncoder().encode(a))
    #expect(decoded == a)
}

@Test func editOverheadEdgeCases() {
    var e = EditOverhead()
    #expect(e.overhead == 0)
    e.add(provisional: [], final: "A")
    #expect(e.overhead == 0)
    #expect(e.tokens == 1)
    #expect(throws: ScoringError.self) { try e.add(provisional: [["A"]], final: []) }
}
