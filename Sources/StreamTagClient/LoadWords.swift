import StreamTagWire
import StreamTagZMQ
/// The words a run sends, kept as raw bytes. Only words whose JSON form is the word itself
/// between quotes are used, so that the echo check can compare the answer's bytes directly.
public struct LoadWords: Sendable {
    let bytes: [UInt8]
    let offsets: [Int]    // count + 1 entries

    public init(_ words: [String]) {
        var bytes: [UInt8] = [], offsets = [0]
        for word in words where !word.isEmpty && word.utf8.count <= 64
            && word.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }) {
            bytes.append(contentsOf: word.utf8)
            offsets.append(bytes.count)
        }
        if offsets.count == 1 {
            bytes = Array("word".utf8)
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    public var count: Int { offsets.count - 1 }

    /// The word sent at position `position` of stream number `stream`: deterministic, so the
    /// echo can be checked without remembering what was sent.
    @inline(__always)
    func index(stream: Int, position: Int) -> Int {
        (stream &* 7919 &+ position) % count
    }

    @inline(__always)
    func range(_ index: Int) -> Range<Int> { offsets[index]..<offsets[index + 1] }

    public func word(_ index: Int) -> String {
        String(decoding: bytes[range(index)], as: UTF8.self)
    }
}
