import Foundation
import Testing
@testable import StreamTagTraining

/// A CoNLL-U line with 10 tab-separated fields; the unused columns hold plausible values.
func conlluLine(_ id: String, _ form: String, _ upos: String, _ xpos: String = "_") -> String {
    [id, form, form.lowercased(), upos, xpos, "_", "0", "dep", "_", "_"].joined(separator: "\t")
}

/// Runs `body` and returns the CorpusError it threw, or nil (also for any other error).
func corpusError(_ body: () throws -> Void) -> CorpusError? {
    do {
        try body()
        return nil
    } catch let error as CorpusError {
        return error
    } catch {
        return nil
    }
}

/// Two documents, three sentences, with a multiword token, an empty node and comments.
let sampleCoNLLU = [
    "# newdoc id = doc1",
    "# sent_id = 1",
    "# text = I don't know",
    conlluLine("1", "I", "PRON", "PRP"),
    conlluLine("2-3", "don't", "_"),
    conlluLine("2", "do", "AUX", "VBP"),
    conlluLine("3", "n't", "PART", "RB"),
    conlluLine("4", "know", "VERB", "VB"),
    "",
    "# sent_id = 2",
    conlluLine("1", "Go", "VERB", "VB"),
    conlluLine("1.1", "go", "VERB", "VB"),
    conlluLine("2", "!", "PUNCT", "."),
    "",
    "# newdoc",
    conlluLine("1", "Hi", "INTJ", "UH"),
    "",
].joined(separator: "\n") + "\n"

@Test func conlluReadsTokensTagsAndDocuments() throws {
    let doc = try CoNLLUDocument.parse(sampleCoNLLU, file: "s.conllu")
    #expect(doc.sentences.map(\.tokens) == [["I", "do", "n't", "know"], ["Go", "!"], ["Hi"]])
    #expect(doc.sentences.map(\.tags) == [["PRON", "AUX", "PART", "VERB"], ["VERB", "PUNCT"], ["INTJ"]])
    #expect(doc.sentences.map(\.startsDocument) == [true, false, true])
    #expect(doc.sentenceLines == [4, 11, 16])
    #expect(doc.tokenCount == 7)
    let xpos = try CoNLLUDocument.parse(sampleCoNLLU, column: .xpos)
    #expect(xpos.sentences[0].tags == ["PRP", "VBP", "RB", "VB"])
}

@Test func conlluRewriteIdentityIsByteExact() throws {
    // CRLF endings, a BOM, several blank lines, comments mid-file and no final newline.
    let text = "\u{FEFF}# newdoc id = a\r\n" + conlluLine("1", "Ünï", "NOUN") + "\r\n"
        + conlluLine("2", "x", "SYM") + "\r\n\r\n\r\n# c\r\n" + conlluLine("1", "y", "X") + "\r\n"
        + conlluLine("2", "z", "ADJ")
    let doc = try CoNLLUDocument.parse(text)
    #expect(doc.sentences.map(\.tokens) == [["Ünï", "x"], ["y", "z"]])
    #expect(doc.sentences[0].startsDocument)
    #expect(try doc.rewrite(replacingTagsWith: doc.sentences.map(\.tags)) == text)
    #expect(try doc.rewrittenBytes(replacingTagsWith: doc.sentences.map(\.tags)) == Array(text.utf8))
}

@Test func conlluRewriteReplacesOnlyTheTagColumn() throws {
    let doc = try CoNLLUDocument.parse(sampleCoNLLU)
    let newTags = [["A", "B", "C", "D"], ["E", "F"], ["LONGER-TAG"]]
    let out = try doc.rewrite(replacingTagsWith: newTags)
    let expected = sampleCoNLLU
        .replacingOccurrences(of: "\tPRON\tPRP", with: "\tA\tPRP")
        .replacingOccurrences(of: "\tAUX\tVBP", with: "\tB\tVBP")
        .replacingOccurrences(of: "\tPART\tRB", with: "\tC\tRB")
        .replacingOccurrences(of: "know\tVERB\tVB", with: "know\tD\tVB")
        .replacingOccurrences(of: "Go\tgo\tVERB", with: "Go\tgo\tE")
        .replacingOccurrences(of: "\tPUNCT\t.", with: "\tF\t.")
        .replacingOccurrences(of: "\tINTJ\tUH", with: "\tLONGER-TAG\tUH")
    #expect(out == expected)
    // The empty node "1.1 go VERB" keeps its tag: it is not a token.
    #expect(out.contains("1.1\tgo\tgo\tVERB\tVB"))
    let reread = try CoNLLUDocument.parse(out)
    #expect(reread.sentences.map(\.tags) == newTags)
}

@Test func conlluRewriteCanFillTheOtherColumn() throws {
    let doc = try CoNLLUDocument.parse(sampleCoNLLU)
    let out = try doc.rewrite(replacingTagsWith: [["p", "q", "r", "s"], ["t", "u"], ["v"]], column: .xpos)
    let reread = try CoNLLUDocument.parse(out, column: .xpos)
    #expect(reread.sentences.map(\.tags) == [["p", "q", "r", "s"], ["t", "u"], ["v"]])
    #expect(try CoNLLUDocument.parse(out).sentences == doc.sentences)
}

@Test func conlluRewriteRejectsWrongShapesAndBadTags() throws {
    let doc = try CoNLLUDocument.parse(sampleCoNLLU, file: "s.conllu")
    let count = corpusError { _ = try doc.rewrite(replacingTagsWith: [["A", "B", "C", "D"]]) }
    #expect(count?.code == .shapeMismatch)
    let length = corpusError { _ = try doc.rewrite(replacingTagsWith: [["A", "B", "C", "D"], ["E"], ["F"]]) }
    #expect(length?.code == .shapeMismatch)
    #expect(length?.line == 11)
    let tab = corpusError { _ = try doc.rewrite(replacingTagsWith: [["A", "B", "C", "D"], ["E", "F"], ["G\tH"]]) }
    #expect(tab?.code == .badOutput)
    let empty = corpusError { _ = try doc.rewrite(replacingTagsWith: [["A", "B", "C", ""], ["E", "F"], ["G"]]) }
    #expect(empty?.code == .badOutput)
}

@Test func conlluLastSentenceWithoutBlankLineCounts() throws {
    let text = conlluLine("1", "a", "X") + "\n" + conlluLine("2", "b", "Y")
    let doc = try CoNLLUDocument.parse(text)
    #expect(doc.sentences.map(\.tokens) == [["a", "b"]])
    #expect(try doc.rewrite(replacingTagsWith: [["P", "Q"]]) == text.replacingOccurrences(of: "\tX\t", with: "\tP\t")
        .replacingOccurrences(of: "\tY\t", with: "\tQ\t"))
}
