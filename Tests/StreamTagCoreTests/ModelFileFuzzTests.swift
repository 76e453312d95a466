import Testing
@testable import StreamTagCore

/// Property-style checks: whatever the bytes, decode either throws a ModelError or returns a
/// bundle that passes validation. A crash (trap, overflow, out-of-range index) fails the run.
@Suite struct ModelFileFuzzTests {
    /// Decodes and checks the outcome is one of the two allowed ones.
    private func decodesOrThrows(_ bytes: [UInt8]) -> Bool {
        do {
            let bundle = try ModelFile.decode(bytes)
            #expect(throws: Never.self) { try bundle.validate() }
            return true
        } catch {
            #expect(!error.message.isEmpty)
            return false
        }
    }

    @Test func everyTruncationFails() {
        let bytes = ModelFile.encode(tinyBundle())
        #expect(decodesOrThrows(bytes))
        for length in 0..<bytes.count {
            // Without its last bytes a file always lacks some tensor data (or its header).
            #expect(decodeError(Array(bytes.prefix(length))) != nil, "prefix of \(length) bytes decoded")
        }
    }

    @Test func randomByteFlipsNeverCrash() {
        let original = ModelFile.encode(tinyBundle())
        let headerEnd = 8 + parts(original).header.utf8.count
        var rng = SplitMix64(seed: 2024)
        var decoded = 0, headerFlips = 0
        for _ in 0..<400 {
            var bytes = original
            // Two in three flips hit the header (where the parsing is), the rest anywhere.
            let flips = 1 + Int(rng.next() % 3)
            for _ in 0..<flips {
                let inHeader = rng.next() % 3 != 0
                let i = Int(rng.next() % UInt64(inHeader ? headerEnd : bytes.count))
                if i < headerEnd { headerFlips += 1 }
                bytes[i] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
            }
            if decodesOrThrows(bytes) { decoded += 1 }
        }
        #expect(headerFlips > 300)
        // Flips in tensor data mostly give another valid model; most header flips break it.
        #expect(decoded > 0 && decoded < 400)
    }

    @Test func randomHeaderBytesNeverCrash() {
        var rng = SplitMix64(seed: 99)
        let alphabet = Array(#"{}[]":,-+.0123456789eE truefalsnul\"#.utf8) + [0x80, 0xC3, 0xFF, 0x00]
        for _ in 0..<300 {
            let n = Int(rng.next() % 64)
            var header = [UInt8(ascii: "{")]
            for _ in 0..<n { header.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let data = (0..<Int(rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + data
            #expect(decodeError(bytes) != nil)
        }
    }

    @Test func randomHeaderLengthsNeverCrash() {
        let original = ModelFile.encode(tinyBundle())
        let realLength = UInt64(parts(original).header.utf8.count)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<200 {
            var bytes = original
            let length = rng.next() >> (rng.next() % 64)
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            if length != realLength { #expect(decodeError(bytes) != nil) }
        }
    }

    @Test func shuffledTensorEntriesStillValidateAgainstTheConfig() throws {
        // Swapping the names of two same-shaped tensors gives a valid file of a different model:
        // decode must accept it and put the data where the names say.
        let bundle = tinyBundle()
        let swapped = file(bundle) { list in
            guard let a = list.firstIndex(where: { $0.name == "rnn.bias_ih_l0" }),
                  let b = list.firstIndex(where: { $0.name == "rnn.bias_hh_l0" }) else { return }
            (list[a].name, list[b].name) = (list[b].name, list[a].name)
        }
        let decoded = try ModelFile.decode(swapped)
        #expect(decoded.weights.layers[0].inputBias == bundle.weights.layers[0].hiddenBias)
        #expect(decoded.weights.layers[0].hiddenBias == bundle.weights.layers[0].inputBias)
    }
}
