import Foundation
import StreamTagCore
import StreamTagWire
@testable import StreamTagDaemon

// A snapshot file as the daemon reads it at start. The fuzz input is the file without its
// trailing SHA-256; the target appends the right checksum, so that mutations reach the header
// and record checks instead of all failing "checksum mismatch".
//
// A snapshot that decodes is restored into a worker as the daemon does (`importStream`,
// `importTombstone`), each restored stream then gets one more message, and the worker's own
// snapshot afterwards must encode and decode again. Nothing in a snapshot may trap the daemon
// (docs/concepts.md#streams-batching-persistence).
//
// Seeds: `STREAMTAG_FUZZ_WRITE_SEEDS=DIR .build/release/FuzzSnapshot` writes the committed
// corpus (Fuzz/corpus/snapshot) from this file's model and exits.

/// A tiny model: restoring and stepping cost microseconds.
let model: Model = {
    let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 4, hiddenDim: 4, lookahead: 2,
                             features: [FeatureSpec(.suffix, length: 2, buckets: 7)])
    return try! Model(bundle: ModelBundle.random(name: "fuzz", config: config, vocabulary: ["<unk>", "the", "cat"],
                                                 tags: ["A", "B", "C"], seed: 3))
}()

nonisolated(unsafe) var now = 1_000.0

/// What the worker below accepts from a snapshot (its model and settings).
let limits = SnapshotLimits.serving(model, settings: makeWorkerSettings())

func makeWorkerSettings() -> StreamSettings {
    var settings = StreamSettings()
    settings.maxBatch = 8
    settings.replayTokens = 4
    return settings
}

func makeWorker() -> StreamWorker {
    StreamWorker(model: model, settings: makeWorkerSettings(), clock: { now })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = SnapshotFile.seal(Array(UnsafeBufferPointer(start: data, count: size)))
    let snapshot: SnapshotFile
    do {
        snapshot = try SnapshotFile.decode(bytes, limits: limits)
    } catch {
        precondition(!error.message.isEmpty, "a refusal without a message")
        return 0
    }
    now = 1_000
    let worker = makeWorker()
    for s in snapshot.streams { worker.importStream(s, fromModel: snapshot.modelID) }
    for t in snapshot.tombstones { worker.importTombstone(t) }
    for s in snapshot.streams {
        worker.accept(InputMessage(streamID: s.id, seq: min(s.seq &+ 1, InputParser.maxSeq), tokens: ["the", "cat"]))
    }
    worker.runUntilIdle()
    now += 3_600
    worker.expire()
    worker.runUntilIdle()
    let (streams, tombstones) = worker.exportStreams()
    let again = SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: streams, tombstones: tombstones)
    do {
        _ = try SnapshotFile.decode(try again.encode(), limits: limits)
    } catch {
        preconditionFailure("the worker's own snapshot does not read back: \(error)")
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    guard let directory = ProcessInfo.processInfo.environment["STREAMTAG_FUZZ_WRITE_SEEDS"] else { return 0 }
    // Streams in the middle of their window, one ended (a tombstone), one on another model
    // (restored by replay).
    let worker = makeWorker()
    worker.accept(InputMessage(streamID: "a", seq: 1, tokens: ["the", "cat", "sat"]))
    worker.accept(InputMessage(streamID: "b/x", seq: 7, tokens: ["cat"]))
    worker.accept(InputMessage(streamID: "c", seq: 2, tokens: ["the"], end: true))
    worker.runUntilIdle()
    let (streams, tombstones) = worker.exportStreams()
    var other = streams
    other[0].model = String(repeating: "0", count: 64)
    let files = [
        ("empty", SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: [], tombstones: [])),
        ("streams", SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: streams, tombstones: tombstones)),
        ("replay", SnapshotFile(modelID: "old@000000000000", modelSHA256: String(repeating: "0", count: 64),
                                streams: other, tombstones: [])),
    ]
    for (name, file) in files {
        let encoded = try! file.encode()
        try! Data(encoded.dropLast(32)).write(to: URL(fileURLWithPath: directory + "/" + name))
    }
    _exit(0)  // not exit: LeakSanitizer would report the process's live globals
}
