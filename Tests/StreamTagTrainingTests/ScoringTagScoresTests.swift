import Foundation
import Testing
@testable import StreamTagTraining

// gold A A B | C, predicted A B B | A: hand-computed figures below.
let goldTags = [["A", "A", "B"], ["C"]]
let predictedTags = [["A", "B", "B"], ["A"]]

func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

@Test func tagScoresPerTagFigures() throws {
    let s = try TagScores(gold: goldTags, predicted: predictedTags)
    #expect(s.tokens == 4)
    #expect(s.correct == 2)
    #expect(s.accuracy == 0.5)
    // Sorted by support, then by predicted count.
    #expect(s.tags.map(\.tag) == ["A", "B", "C"])
    let a = try #require(s["A"]), b = try #require(s["B"]), c = try #require(s["C"])
    #expect((a.support, a.predicted, a.correct) == (2, 2, 1))
    #expect(close(a.precision, 0.5) && close(a.recall, 0.5) && close(a.f1, 0.5))
    #expect(close(b.precision, 0.5) && close(b.recall, 1) && close(b.f1, 2.0 / 3))
    #expect((c.support, c.predicted, c.precision, c.recall, c.f1) == (1, 0, 0, 0, 0))
}

@Test func tagScoresAverages() throws {
    let s = try TagScores(gold: goldTags, predicted: predictedTags)
    #expect(close(s.macro.precision, 1.0 / 3))
    #expect(close(s.macro.recall, 0.5))
    #expect(close(s.macro.f1, (0.5 + 2.0 / 3) / 3))
    #expect(close(s.weighted.precision, 0.375))
    #expect(close(s.weighted.recall, 0.5))
    #expect(close(s.weighted.f1, (0.5 * 2 + 2.0 / 3) / 4))
    #expect(close(s.micro.precision, 0.5) && close(s.micro.f1, 0.5))
}

@Test func tagScoresConfusionsAndTopErrors() throws {
    var counts = TagCounts()
    try counts.add(gold: ["N", "N", "N", "V", "V", "A"], predicted: ["V", "V", "A", "N", "V", "N"])
    let s = counts.scores
    #expect(s.confusions.map { "\($0.gold)>\($0.predicted):\($0.count)" } == ["N>V:2", "A>N:1", "N>A:1", "V>N:1"])
    #expect(s.topErrors(1).first?.count == 2)
    #expect(s.topErrors(2).map(\.gold) == ["N", "A"])
    #expect(s.topErrors(0).isEmpty)
    #expect(counts.count(gold: "N", predicted: "V") == 2)
    #expect(counts.count(gold: "V", predicted: "V") == 1)
}

@Test func tagCountsMergeEqualsCountingTogether() throws {
    var left = TagCounts(), right = TagCounts(), both = TagCounts()
    try left.add(gold: goldTags[0], predicted: predictedTags[0])
    try right.add(gold: goldTags[1], predicted: predictedTags[1])
    try both.add(gold: goldTags, predicted: predictedTags)
    left.merge(right)
    #expect(left == both)
    #expect(left.scores == both.scores)
}

@Test func tagScoresTableIsAligned() throws {
    let s = try TagScores(gold: [["NOUN", "VERB", "NOUN", "PUNCT"]], predicted: [["NOUN", "NOUN", "NOUN", "PUNCT"]])
    let table = s.table(errors: 3)
    let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0].hasPrefix("tag "))
    // Header, rule, 3 tags and 3 averages all have the same width; numbers are right-aligned.
    #expect(Set(lines[0..<8].map(\.count)).count == 1)
    #expect(lines[2].hasPrefix("NOUN "))
    #expect(lines[2].hasSuffix("  2          3"))
    #expect(table.contains("accuracy 75.00% (3/4)"))
    #expect(table.contains("\nVERB  NOUN           1\n"))
    #expect(!s.table().contains("count"), "no confusion table unless asked")
}

@Test func tagScoresJSONRoundTrips() throws {
    let s = try TagScores(gold: goldTags, predicted: predictedTags)
    let json = s.json()
    let decoded = try JSONDecoder().decode(TagScores.self, from: Data(json.utf8))
    #expect(decoded == s)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(s.json(pretty: false).utf8)) as? [String: Any])
    #expect(object["accuracy"] as? Double == 0.5)
    #expect((object["tags"] as? [Any])?.count == 3)
}

@Test func tagScoresRejectMismatchedLengths() {
    #expect(throws: ScoringError.self) { try TagScores(gold: [["A"]], predicted: [["A", "B"]]) }
    #expect(throws: ScoringError.self) { try TagScores(gold: [["A"]], predicted: []) }
}

@Test func tagScoresOfNothing() throws {
    let s = try TagScores(gold: [], predicted: [])
    #expect(s.tokens == 0)
    #expect(s.accuracy == 0)
    #expect(s.tags.isEmpty)
    #expect(s.macro.f1 == 0)
}
