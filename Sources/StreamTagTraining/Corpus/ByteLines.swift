import Foundation

/// Internal: reads files as bytes and walks them line by line without copying.
///
/// The readers work on UTF-8 bytes rather than `Character`s: grapheme breaking is far too slow
/// for a 14 MB treebank, and every separator that matters (tab, space, LF, CR) is ASCII, so
/// splitting bytes never cuts a multi-byte sequence.
enum ByteFile {
    /// The whole file as bytes; a read failure becomes a `CorpusError` with code `.io`.
    static func load(path: String) throws(CorpusError) -> [UInt8] {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return [UInt8](data)
        } catch {
            throw CorpusError(.io, file: path, line: 0, "cannot read file: \(error.localizedDescription)")
        }
    }

    /// Offset of the first byte after a leading UTF-8 byte order mark (0 when there is none).
    /// Readers skip the mark; writers that copy the input keep it.
    static func bodyStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }
}

/// One line of a byte buffer: `start..<end` is its content without the `\n` or `\r\n` ending.
struct ByteLine {
    /// 1-based line number.
    var number: Int
    var start: Int
    var end: Int
    /// Whether the line holds any byte >= 0x80 (only such lines need UTF-8 validation).
    var hasNonASCII: Bool

    var isEmpty: Bool { start == end }
}

/// Iterates the lines of a buffer. A final line without a newline is still a line; a file that
/// ends with a newline has no extra empty line after it.
struct ByteLineScanner: IteratorProtocol {
    let bytes: UnsafeBufferPointer<UInt8>
    private var position: Int
    private var number = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) {
        self.bytes = bytes
        self.position = start
    }

    mutating func next() -> ByteLine? {
        let count = bytes.count
        guard position < count else { return nil }
        let start = position
        var i = start
        var high: UInt8 = 0
        while i < count {
            let b = bytes[i]
            if b == 0x0A { break }
            high |= b
            i += 1
        }
        var end = i
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        position = i + 1
        number += 1
        return ByteLine(number: number, start: start, end: end, hasNonASCII: high >= 0x80)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes `range` as a String; callers validate UTF-8 first (see `checkUTF8`).
    @inline(__always)
    func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
    }

    /// Whether `start..<end` equals the ASCII text `literal`.
    func matches(_ start: Int, _ end: Int, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard end - start == n else { return false }
        let p = literal.utf8Start
        for k in 0..<n where self[start + k] != p[k] { return false }
        return true
    }

    /// Whether the line holds only spaces and tabs (or nothing).
    func isBlank(_ line: ByteLine) -> Bool {
        var i = line.start
        while i < line.end {
            let b = self[i]
            if b != 0x20 && b != 0x09 { return false }
            i += 1
        }
        return true
    }

    /// Throws `.invalidUTF8` naming the line when it is not valid UTF-8.
    func checkUTF8(_ line: ByteLine, file: String) throws(CorpusError) {
        guard line.hasNonASCII else { return }
        let slice = UnsafeBufferPointer(rebasing: self[line.start..<line.end])
        if String(validating: slice, as: UTF8.self) == nil {
            throw CorpusError(.invalidUTF8, file: file, line: line.number, "line is not valid UTF-8")
        }
    }
}
