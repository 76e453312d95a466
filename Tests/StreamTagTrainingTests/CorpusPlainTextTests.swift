import Testing
@testable import StreamTagTraining

@Test func plainTextSplitsOnSpacesAndTabsOnly() {
    #expect(PlainTextDocument.tokenize("  The\tcat  sat.\t") == ["The", "cat", "sat."])
    // A no-break space is not a separator (the daemon's send does not split on it either).
    #expect(PlainTextDocument.tokenize("10\u{00A0}km away") == ["10\u{00A0}km", "away"])
    #expect(PlainTextDocument.tokenize(" \t ").isEmpty)
}

@Test func plainTextKeepsEmptyLinesWhenWritingBack() throws {
    let doc = try PlainTextDocument.parse("The cat\r\n\n  \nIt ran .\n", file: "p.txt")
    #expect(doc.sentences.map(\.tokens) == [["The", "cat"], ["It", "ran", "."]])
    #expect(doc.sentences.allSatisfy { $0.tags.isEmpty })
    #expect(doc.lineSentences == [0, nil, nil, 1])
    let tags = [["DET", "NOUN"], ["PRON", "VERB", "PUNCT"]]
    #expect(try doc.slashTagged(tags) == "The/DET cat/NOUN\n\n\nIt/PRON ran/VERB ./PUNCT\n")
    #expect(try doc.columns(tags) == "The\tDET\ncat\tNOUN\n\nIt\tPRON\nran\tVERB\n.\tPUNCT\n\n")
    #expect(doc.corpus.format == .plainText)
}

@Test func plainTextWithoutFinalNewlineHasNoExtraLine() throws {
    let doc = try PlainTextDocument.parse("a b\nc")
    #expect(doc.lineSentences == [0, 1])
    #expect(try doc.slashTagged([["X", "Y"], ["Z"]]) == "a/X b/Y\nc/Z\n")
}

@Test func plainTextWritersCheckTheTags() throws {
    let doc = try PlainTextDocument.parse("a b\n\nc\n", file: "p.txt")
    let count = try #require(corpusError { _ = try doc.slashTagged([["X", "Y"]]) })
    #expect(count.code == .shapeMismatch)
    let length = try #require(corpusError { _ = try doc.columns([["X", "Y"], ["Z", "W"]]) })
    #expect(length.code == .shapeMismatch)
    #expect(length.description.hasPrefix("p.txt:3: "))
    #expect(corpusError { _ = try doc.slashTagged([["X", "Y Z"], ["W"]]) }?.code == .badOutput)
}

@Test func plainTextInvalidUTF8NamesTheLine() throws {
    let error = try #require(corpusError { _ = try PlainTextDocument.parse(bytes: Array("ok\nfine\n".utf8) + [0xE2, 0x82], file: "p.txt") })
    #expect(error.code == .invalidUTF8)
    #expect(error.description == "p.txt:3: line is not valid UTF-8")
}
