import StreamTagCore
import StreamTagWire

/// One model as a worker runs it: stepper, decoder, and a slab holding the recurrent state of
/// every stream on this model (row = the stream's slot). After a reload a worker can run two
/// of these side by side (streams move over at message boundaries, or drain on the old one);
/// each step advances the streams of one model together.
final class ModelRuntime: @unchecked Sendable {
    /// Never reused: identifies the runtime in stream records (set when a worker adopts it).
    var generation: Int
    let model: Model
    /// k' ≤ the model's k: followers a final tag waits for.
    let lookahead: Int
    let stepper: BatchStepper
    let decoder: TagDecoder
    let layout: StateLayout
    /// States by stream slot, in chunks of `chunkRows` rows: growing adds a chunk and never
    /// copies (no stall, no double-size peak while 100,000 streams open).
    private var chunks: [AlignedBuffer<Float>] = []
    /// Base pointers of `chunks`, for `row(_:)` without retain/release.
    private var chunkBases: [UnsafeMutablePointer<Float>] = []
    static let chunkShift = 8
    static let chunkRows = 1 << chunkShift
    /// [maxBatch] state rows of the streams in the current step (the step works on them in place).
    let batchRows: AlignedBuffer<UnsafeMutablePointer<Float>?>
    /// [maxBatch, C] head scores.
    let scores: AlignedBuffer<Float>
    var codes: [TokenCode]
    /// Slots stepping together this round.
    var batchSlots: [Int] = []
    /// Streams on this runtime.
    var streams = 0
    /// Tag name → row, to carry IOB context across tag sets.
    private let tagIndex: [String: Int32]

    init(generation: Int, model: Model, lookahead: Int?, maxBatch: Int, capacity: Int) {
        self.generation = generation
        self.model = model
        self.lookahead = Self.servedLookahead(lookahead, of: model)
        stepper = BatchStepper(model: model, maxBatch: maxBatch)
        decoder = TagDecoder(tags: model.tags)
        layout = StateLayout(config: model.config)
        batchRows = AlignedBuffer(count: maxBatch)
        scores = AlignedBuffer(count: maxBatch * model.C)
        codes = Array(repeating: TokenCode(word: 0), count: maxBatch)
        batchSlots.reserveCapacity(maxBatch)
        tagIndex = Dictionary(model.tags.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
        ensureCapacity(capacity)
    }

    /// k' served for `model` when `model.lookahead` asks for `requested` (nil: the model's k):
    /// clamped to 0...k. The snapshot checks (`SnapshotLimits.serving`) use it too, so that a
    /// window they let through is one the runtime can hold.
    static func servedLookahead(_ requested: Int?, of model: Model) -> Int {
        min(max(requested ?? model.k, 0), model.k)
    }

    /// A runtime for `model` sized by a worker's settings (lookahead, batch), with room for
    /// 64 streams to start with. Its buffers take a moment to allocate: build it off the worker.
    convenience init(model: Model, settings: StreamSettings, generation: Int = -1) {
        self.init(generation: generation, model: model, lookahead: settings.lookahead, maxBatch: settings.maxBatch, capacity: 64)
    }

    /// The state row of a stream slot.
    @inline(__always)
    func row(_ slot: Int) -> UnsafeMutablePointer<Float> {
        chunkBases[slot >> Self.chunkShift] + (slot & (Self.chunkRows - 1)) * layout.floats
    }

    /// Adds chunks until `slots` rows fit. New rows are left uninitialized: every row is zeroed
    /// when a stream takes its slot (`zero(_:)`), so rows no stream has used yet are never
    /// touched and cost no resident memory.
    func ensureCapacity(_ slots: Int) {
        while chunks.count * Self.chunkRows < max(slots, 1) {
            let chunk = AlignedBuffer<Float>(count: Self.chunkRows * layout.floats, zeroed: false)
            chunks.append(chunk)
            chunkBases.append(chunk.pointer)
        }
    }

    func zero(_ slot: Int) { row(slot).update(repeating: 0, count: layout.floats) }

    /// The row of a tag of another model's tag set here (-1 if this model lacks it).
    func translate(tag: Int32, from other: ModelRuntime) -> Int32 {
        guard tag >= 0, other !== self else { return tag }
        return tagIndex[other.model.tags[Int(tag)]] ?? -1
    }

    /// The wire form of a tag decoded by this model (`LookaheadDecoding`) for `token`.
    @inline(__always)
    func outputTag(_ emission: TagEmission, token: String) -> OutputTag {
        OutputTag(i: emission.position, token: token, tag: model.tags[Int(emission.tag)], p: Double(emission.p))
    }
}
