import StreamTagCore

/// How one epoch lays the corpus out as R parallel streams ("rows") cut into chunks.
///
/// Sentences are shuffled (or whole documents, keeping their order inside) and concatenated;
/// the concatenation is split into R rows of nearly equal length. At each sentence boundary the
/// stream is reset with probability `resetProbability`, so the model sees both fresh starts and
/// long unsegmented streams. A row's first token is always a reset.
struct EpochPlan: Sendable {
    let rows: Int
    let rowLength: Int
    /// [N] corpus token index of each position of the concatenation.
    let order: [Int32]
    /// [N] whether the state is cleared before this position.
    let reset: [Bool]
    /// [N] position of the next reset (or the row's end) after this one.
    let segmentEnd: [Int32]
    let tokenCount: Int

    init(corpus: EncodedCorpus, rows: Int, resetProbability: Float, keepDocuments: Bool,
         rng: inout SplitMix64) {
        var units: [[Int]] = []   // groups of sentences that stay together
        if keepDocuments {
            for s in 0..<corpus.sentenceCount {
                if corpus.startsDocument[s] || units.isEmpty { units.append([s]) } else { units[units.count - 1].append(s) }
            }
        } else {
            units = (0..<corpus.sentenceCount).map { [$0] }
        }
        units.shuffle(using: &rng)

        var order: [Int32] = []
        var reset: [Bool] = []
        order.reserveCapacity(corpus.tokenCount)
        reset.reserveCapacity(corpus.tokenCount)
        for unit in units {
            for s in unit {
                let range = corpus.sentenceRange(s)
                guard !range.isEmpty else { continue }
                let boundaryReset = rng.nextUnitFloat() < resetProbability
                for (i, token) in range.enumerated() {
                    order.append(Int32(token))
                    reset.append(i == 0 && boundaryReset)
                }
            }
        }
        let N = order.count
        self.rows = rows
        rowLength = (N + rows - 1) / rows
        for r in 0..<rows where r * rowLength < N { reset[r * rowLength] = true }
        var segmentEnd = [Int32](repeating: 0, count: N)
        var next = N
        for g in stride(from: N - 1, through: 0, by: -1) {
            if (g + 1) % rowLength == 0 { next = g + 1 }   // a row ends after g
            segmentEnd[g] = Int32(next)
            if reset[g] { next = g }
        }
        self.order = order
        self.reset = reset
        self.segmentEnd = segmentEnd
        tokenCount = N
    }

    /// Chunks per row this epoch.
    func chunkCount(length: Int) -> Int { (rowLength + length - 1) / length }

    /// Global position of (row, offset), or nil past the row's end or the corpus.
    @inline(__always)
    func position(row: Int, offset: Int) -> Int? {
        guard offset < rowLength else { return nil }
        let g = row * rowLength + offset
        return g < tokenCount ? g : nil
    }
}
