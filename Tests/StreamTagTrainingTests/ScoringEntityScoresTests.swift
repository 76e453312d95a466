import Foundation
import Testing
@testable import StreamTagTraining

func entityScores(_ gold: [[String]], _ predicted: [[String]]) throws -> EntityScores {
    try EntityScores(gold: gold, predicted: predicted)
}

@Test func entityIAfterOStartsANewEntity() throws {
    #expect(Entity.extract(from: ["O", "I-PER", "I-PER", "O"]) == [Entity(type: "PER", start: 1, end: 3)])
    // Gold PER spans 0..<2, the prediction's I-PER after O starts a different one at 1..<2.
    let s = try entityScores([["B-PER", "I-PER", "O"]], [["O", "I-PER", "O"]])
    #expect(s.overall.gold == 1)
    #expect(s.overall.predicted == 1)
    #expect(s.overall.correct == 0)
    // conlleval reads a sentence-initial I-PER as the start of an entity: it matches B-PER.
    let same = try entityScores([["I-PER", "O"]], [["B-PER", "O"]])
    #expect(same.overall.correct == 1)
    #expect(same.overall.f1 == 1)
}

@Test func entityTypeChangeMidChunkSplitsIt() throws {
    #expect(Entity.extract(from: ["B-PER", "I-LOC"]) == [Entity(type: "PER", start: 0, end: 1), Entity(type: "LOC", start: 1, end: 2)])
    let s = try entityScores([["B-PER", "I-PER"]], [["B-PER", "I-LOC"]])
    #expect((s.overall.gold, s.overall.predicted, s.overall.correct) == (1, 2, 0))
    #expect(s["LOC"]?.predicted == 1)
    #expect(s["PER"]?.recall == 0)
}

@Test func entityAtSentenceEndAndAcrossSentences() throws {
    let s = try entityScores([["O", "B-LOC"]], [["O", "B-LOC"]])
    #expect(s.overall.correct == 1)
    // An I-PER that begins the next sentence is a new entity: the boundary ends the first.
    var counts = EntityCounts()
    try counts.add(gold: ["B-PER", "I-PER"], predicted: ["B-PER", "I-PER"])
    try counts.add(gold: ["I-PER"], predicted: ["I-PER"])
    let two = counts.scores
    #expect((two.overall.gold, two.overall.predicted, two.overall.correct) == (2, 2, 2))
    // A predicted entity that runs one token longer than gold is wrong.
    let longer = try entityScores([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "I-PER"]])
    #expect(longer.overall.correct == 0)
}

@Test func entityAdjacentBeginsAreSeparateEntities() throws {
    #expect(Entity.extract(from: ["B-PER", "B-PER"]).count == 2)
    let merged = try entityScores([["B-PER", "B-PER"]], [["B-PER", "I-PER"]])
    #expect((merged.overall.gold, merged.overall.predicted, merged.overall.correct) == (2, 1, 0))
    #expect(merged.overall.precision == 0)
    let exact = try entityScores([["B-PER", "B-PER"]], [["B-PER", "B-PER"]])
    #expect(exact.overall.correct == 2)
}

@Test func entityScoresMatchHandComputedFigures() throws {
    // Checked against conlleval: 10 tokens, 5 gold, 5 found, 3 correct, accuracy 80%.
    let gold = [["B-PER", "I-PER", "O", "B-LOC"],
                ["O", "B-creative-work", "I-creative-work", "I-creative-work"],
                ["B-PER", "B-PER"]]
    let predicted = [["B-PER", "I-PER", "O", "B-ORG"],
                     ["O", "B-creative-work", "I-creative-work", "O"],
                     ["B-PER", "B-PER"]]
    let s = try entityScores(gold, predicted)
    #expect(s.tokens == 10)
    #expect(abs(s.tokenAccuracy - 0.8) < 1e-12)
    #expect(abs(s.overall.precision - 0.6) < 1e-12)
    #expect(abs(s.overall.recall - 0.6) < 1e-12)
    #expect(abs(s.overall.f1 - 0.6) < 1e-12)
    #expect(s.types.map(\.type) == ["PER", "LOC", "creative-work", "ORG"])
    #expect(s["creative-work"].map { ($0.gold, $0.predicted, $0.correct) } ?? (0, 0, 0) == (1, 1, 0))
    #expect(s["ORG"]?.gold == 0)
    #expect(abs(s.macroF1 - 0.25) < 1e-12)
    let table = s.table()
    let lines = table.split(separator: "\n")
    #expect(lines[0].hasPrefix("type"))
    #expect(lines[2].hasPrefix("PER "))
    #expect(lines[6].hasPrefix("overall "))
    #expect(Set(lines[0...6].map(\.count)).count == 1, "table rows are aligned to one width")
    #expect(lines[6].contains("60.00"))
    let decoded = try JSONDecoder().decode(EntityScores.self, from: Data(s.json().utf8))
    #expect(decoded == s)
    #expect(s.json(pretty: false).contains("\"macroF1\":0.25"))
}

@Test func entityScoresRejectMismatchedLengths() {
    #expect(throws: ScoringError.self) { try EntityScores(gold: [["O"]], predicted: [["O", "O"]]) }
    #expect(throws: ScoringError.self) { try EntityScores(gold: [["O"]], predicted: []) }
}

@Test func entityScoresOfNothingAreZero() throws {
    let s = try entityScores([["O", "O"]], [["O", "O"]])
    #expect(s.overall.f1 == 0)
    #expect(s.types.isEmpty)
    #expect(s.tokenAccuracy == 1)
}

@Test func iobTagSetDetection() {
    #expect(IOBTag.isIOBTagSet(["O", "B-person", "I-person", "B-creative-work"]))
    #expect(IOBTag.isIOBTagSet(["O", "I-PER"]))
    #expect(!IOBTag.isIOBTagSet(["NOUN", "VERB", "O"]))
    #expect(!IOBTag.isIOBTagSet(["O"]))
    #expect(!IOBTag.isIOBTagSet([]))
    #expect(!IOBTag.isIOBTagSet(["O", "B-"]))
    #expect(!IOBTag.isIOBTagSet(["O", "E-PER"]))
    let tag = IOBTag("B-creative-work")
    #expect(tag?.kind == .begin)
    #expect(tag?.type == "creative-work")
    #expect(IOBTag("O")?.kind == .outside)
    #expect(IOBTag("I-x")?.kind == .inside)
}
