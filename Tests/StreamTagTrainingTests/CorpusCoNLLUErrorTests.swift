import Foundation
import Testing
@testable import StreamTagTraining

@Test func conlluWrongColumnCountNamesFileAndLine() throws {
    let text = "# c\n" + conlluLine("1", "a", "X") + "\n1\tb\tb\tX\n"
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(text, file: "bad.conllu") })
    #expect(error.code == .columnCount)
    #expect(error.line == 3)
    #expect(error.description == "bad.conllu:3: expected 10 tab-separated columns, found 4")
}

@Test func conlluEmptyFormIsAnError() throws {
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(conlluLine("1", "", "X")) })
    #expect(error.code == .emptyField)
    #expect(error.line == 1)
}

@Test func conlluNonNumericIDIsAnError() throws {
    let text = conlluLine("1", "a", "X") + "\n" + conlluLine("two", "b", "X") + "\n"
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(text) })
    #expect(error.code == .badID)
    #expect(error.line == 2)
    let zero = try #require(corpusError { _ = try CoNLLUDocument.parse(conlluLine("0", "a", "X")) })
    #expect(zero.code == .badID)
}

@Test func conlluIDsMustRunOneTwoThree() throws {
    let skip = conlluLine("1", "a", "X") + "\n" + conlluLine("3", "b", "X") + "\n"
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(skip) })
    #expect(error.code == .idSequence)
    #expect(error.line == 2)
    // A new sentence without a blank line in between continues the numbering: an error.
    let restart = conlluLine("1", "a", "X") + "\n" + conlluLine("1", "b", "X") + "\n"
    #expect(corpusError { _ = try CoNLLUDocument.parse(restart) }?.code == .idSequence)
    // After a blank line numbering restarts at 1.
    let fine = conlluLine("1", "a", "X") + "\n\n" + conlluLine("1", "b", "X") + "\n"
    #expect(try CoNLLUDocument.parse(fine).sentences.count == 2)
}

@Test func conlluMultiwordAndEmptyNodeIDsAreChecked() throws {
    let badRange = conlluLine("1", "a", "X") + "\n" + conlluLine("3-4", "bc", "_") + "\n"
    #expect(corpusError { _ = try CoNLLUDocument.parse(badRange) }?.code == .idSequence)
    let dangling = conlluLine("1-2", "ab", "_") + "\n" + conlluLine("1", "a", "X") + "\n\n"
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(dangling) })
    #expect(error.code == .idSequence)
    #expect(error.line == 1)
    let badEmpty = conlluLine("1", "a", "X") + "\n" + conlluLine("2.1", "e", "X") + "\n"
    #expect(corpusError { _ = try CoNLLUDocument.parse(badEmpty) }?.code == .idSequence)
    let emptyFirst = conlluLine("0.1", "e", "X") + "\n" + conlluLine("1", "a", "X") + "\n"
    #expect(try CoNLLUDocument.parse(emptyFirst).sentences.map(\.tokens) == [["a"]])
}

@Test func conlluUnderscoreTagFollowsThePolicy() throws {
    let text = conlluLine("1", "a", "NOUN") + "\n" + conlluLine("2", "b", "_") + "\n\n" + conlluLine("1", "c", "VERB") + "\n"
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(text, file: "t.conllu") })
    #expect(error.code == .missingTag)
    #expect(error.description.hasPrefix("t.conllu:2: "))
    let optional = try CoNLLUDocument.parse(text, tags: .optional)
    #expect(optional.sentences.map(\.tags) == [[], ["VERB"]])
    #expect(optional.sentences[0].tokens == ["a", "b"])
    let substituted = try CoNLLUDocument.parse(text, tags: .substitute("X"))
    #expect(substituted.sentences.map(\.tags) == [["NOUN", "X"], ["VERB"]])
    // Tagging a file without gold tags still rewrites it exactly.
    let out = try optional.rewrite(replacingTagsWith: [["N", "V"], ["W"]])
    #expect(try CoNLLUDocument.parse(out).sentences.map(\.tags) == [["N", "V"], ["W"]])
}

@Test func conlluInvalidUTF8NamesTheLine() throws {
    var bytes = Array((conlluLine("1", "a", "X") + "\n").utf8)
    bytes += Array("2\tb".utf8) + [0xC3, 0x28] + Array("\tb\tX\t_\t_\t0\tdep\t_\t_\n".utf8)
    let error = try #require(corpusError { _ = try CoNLLUDocument.parse(bytes: bytes, file: "u.conllu") })
    #expect(error.code == .invalidUTF8)
    #expect(error.line == 2)
}

@Test func conlluReadsFilesAndReportsMissingOnes() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("streamtag-\(UInt64.random(in: 0...UInt64.max)).conllu").path
    try sampleCoNLLU.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let doc = try CoNLLUDocument.read(path: path)
    #expect(doc.file == path)
    #expect(doc.sentences.count == 3)
    let missing = try #require(corpusError { _ = try CoNLLUDocument.read(path: path + ".nope") })
    #expect(missing.code == .io)
    #expect(missing.line == 0)
    #expect(missing.description.hasPrefix(path + ".nope: "))
}
