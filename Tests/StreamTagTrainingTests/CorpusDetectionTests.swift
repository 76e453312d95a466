import Foundation
import Testing
@testable import StreamTagTraining

@Test func detectionUsesExtensionThenContent() {
    let conllu = Array(sampleCoNLLU.utf8)
    #expect(Corpus.detectFormat(path: "x.conllu", bytes: Array("just words\n".utf8)) == .conllu)
    #expect(Corpus.detectFormat(path: "x.txt", bytes: conllu) == .conllu)
    #expect(Corpus.detectFormat(path: "x.conll", bytes: Array("#tag\tO\n\t\nb\tB-X\n".utf8)) == .iob)
    #expect(Corpus.detectFormat(path: "x", bytes: Array("-DOCSTART- -X- -X- O\n\na\tO\n".utf8)) == .iob)
    #expect(Corpus.detectFormat(path: "x", bytes: Array("The cat sat .\nIt ran\n".utf8)) == .plainText)
    // Space-separated columns are not recognised: the format must be given for those.
    #expect(Corpus.detectFormat(path: "x", bytes: Array("a O\nb O\n".utf8)) == .plainText)
    // One line with another column count makes it plain text.
    #expect(Corpus.detectFormat(path: "x", bytes: Array("a\tO\nb\tO\tO\n".utf8)) == .plainText)
    #expect(Corpus.detectFormat(path: "x", bytes: []) == .plainText)
}

@Test func corpusReadDetectsAndAppliesOptions() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streamtag-corpus-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let conllu = dir.appendingPathComponent("a.conllu").path
    let iob = dir.appendingPathComponent("b.conll").path
    let text = dir.appendingPathComponent("c.txt").path
    try sampleCoNLLU.write(toFile: conllu, atomically: true, encoding: .utf8)
    try "a\tB-X\nb\tI-X\n\nc\tO\n".write(toFile: iob, atomically: true, encoding: .utf8)
    try "one two\n\nthree\n".write(toFile: text, atomically: true, encoding: .utf8)

    let a = try Corpus.read(path: conllu, options: CorpusReadOptions(column: .xpos))
    #expect(a.format == .conllu)
    #expect(a.sentences[1].tags == ["VB", "."])
    #expect(a.tokenCount == 7)
    let b = try Corpus.read(path: iob)
    #expect(b.format == .iob)
    #expect(b.sentences.count == 2)
    #expect(b.isIOB)
    #expect(!a.isIOB)
    let noTags = try #require(corpusError { _ = try Corpus.read(path: text) })
    #expect(noTags.code == .noTags)
    let c = try Corpus.read(path: text, options: CorpusReadOptions(tags: .optional))
    #expect(c.format == .plainText)
    #expect(c.sentences.map(\.tokens) == [["one", "two"], ["three"]])
    // An explicit format wins over detection.
    let forced = try Corpus.read(path: iob, format: .plainText, options: CorpusReadOptions(tags: .optional))
    #expect(forced.sentences.first?.tokens == ["a", "B-X"])
}
