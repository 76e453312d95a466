import Testing
@testable import StreamTagTraining

@Test func iobReadsSentencesWithTabOnlySeparators() throws {
    // WNUT-17's train file separates most sentences with a line holding a single tab.
    let text = "@paul\tO\nEmpire\tB-location\nState\tI-location\n\t\n#tag\tO\nB-word\tB-creative-work\n\n\n"
    let corpus = try IOBFormat.parse(text, file: "w.conll")
    #expect(corpus.format == .iob)
    #expect(corpus.sentences.map(\.tokens) == [["@paul", "Empire", "State"], ["#tag", "B-word"]])
    #expect(corpus.sentences.map(\.tags) == [["O", "B-location", "I-location"], ["O", "B-creative-work"]])
    #expect(corpus.tokenCount == 5)
    #expect(corpus.tagSet == ["B-creative-work", "B-location", "I-location", "O"])
}

@Test func iobSkipsDocstartAndMarksDocuments() throws {
    let text = "-DOCSTART-\tO\n\na\tO\n\nb\tB-X\n-DOCSTART- -X- -X- O\nc\tO\n"
    let corpus = try IOBFormat.parse(text)
    #expect(corpus.sentences.map(\.tokens) == [["a"], ["b"], ["c"]])
    #expect(corpus.sentences.map(\.startsDocument) == [true, false, true])
}

@Test func iobAcceptsOneSpaceWhenALineHasNoTab() throws {
    let corpus = try IOBFormat.parse("New York\tB-LOC\ncity O\r\n")
    #expect(corpus.sentences[0].tokens == ["New York", "city"])
    #expect(corpus.sentences[0].tags == ["B-LOC", "O"])
}

@Test func iobErrorsNameTheLine() throws {
    let columns = try #require(corpusError { _ = try IOBFormat.parse("a\tO\nb\tO\textra\n", file: "x.iob") })
    #expect(columns.code == .columnCount)
    #expect(columns.description == "x.iob:2: expected 2 columns (token<TAB>tag), found 3")
    #expect(corpusError { _ = try IOBFormat.parse("a\tO\nlonely\n") }?.line == 2)
    let tag = try #require(corpusError { _ = try IOBFormat.parse("a\tO\n\nb\tNOUN\n") })
    #expect(tag.code == .badTag)
    #expect(tag.line == 3)
    #expect(corpusError { _ = try IOBFormat.parse("a\tB-\n") }?.code == .badTag)
    #expect(corpusError { _ = try IOBFormat.parse("\tO\n") }?.code == .emptyField)
    #expect(corpusError { _ = try IOBFormat.parse("a\t\n") }?.code == .emptyField)
    #expect(corpusError { _ = try IOBFormat.parse(bytes: [0x61, 0x09, 0x4F, 0x0A, 0xFF, 0x09, 0x4F]) }?.line == 2)
}

@Test func iobWithoutValidationReadsAnyTags() throws {
    let corpus = try IOBFormat.parse("The\tDET\ncat\tNOUN\n", validatesTags: false)
    #expect(corpus.sentences[0].tags == ["DET", "NOUN"])
}

@Test func iobWriterRoundTrips() throws {
    let sentences = [Sentence(tokens: ["a", "b"], tags: ["B-X", "I-X"], startsDocument: true),
                     Sentence(tokens: ["c"], tags: ["O"])]
    let text = try IOBFormat.write(sentences)
    #expect(text == "a\tB-X\nb\tI-X\n\nc\tO\n\n")
    #expect(try IOBFormat.parse(text).sentences.map(\.tags) == sentences.map(\.tags))
    let marked = try IOBFormat.write(sentences, documentMarkers: true)
    #expect(marked.hasPrefix("-DOCSTART-\tO\n\na\tB-X\n"))
    #expect(try IOBFormat.parse(marked).sentences == sentences)
    let retagged = try IOBFormat.write(sentences, tags: [["O", "O"], ["B-Y"]])
    #expect(retagged == "a\tO\nb\tO\n\nc\tB-Y\n\n")
}

@Test func iobWriterRejectsBadInput() throws {
    let sentences = [Sentence(tokens: ["a", "b"], tags: ["O", "O"])]
    #expect(corpusError { _ = try IOBFormat.write(sentences, tags: [["O"]]) }?.code == .shapeMismatch)
    #expect(corpusError { _ = try IOBFormat.write(sentences, tags: []) }?.code == .shapeMismatch)
    #expect(corpusError { _ = try IOBFormat.write([Sentence(tokens: ["a"])]) }?.code == .shapeMismatch)
    #expect(corpusError { _ = try IOBFormat.write([Sentence(tokens: ["a\tb"], tags: ["O"])]) }?.code == .badOutput)
    #expect(corpusError { _ = try IOBFormat.write([Sentence(tokens: ["a"], tags: ["O\n"])]) }?.code == .badOutput)
}
