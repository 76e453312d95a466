import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire

/// A worker driven directly: no sockets, no threads, a fake clock.
final class WorkerHarness {
    /// The worker's clock (seconds): set it to move time.
    var now: Double {
        get { clock.now }
        set { clock.now = newValue }
    }
    /// Held by the worker's clock closure; not the harness itself, which holds the worker (a
    /// cycle would keep every harness, its worker and its model alive for the whole run).
    private final class FakeClock: @unchecked Sendable { var now = 0.0 }
    private let clock: FakeClock
    /// Everything the worker published so far, decoded (its outbox, drained on each read).
    var published: [(stream: String, json: [String: Any])] {
        for message in worker.outbox {
            let body = message.body
            let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? ["raw": String(decoding: body, as: UTF8.self)]
            taken.append((message.topic, json))
        }
        worker.outbox.removeAll()
        return taken
    }
    private var taken: [(stream: String, json: [String: Any])] = []
    let worker: StreamWorker
    let model: Model

    init(model: Model, settings: StreamSettings = StreamSettings()) {
        self.model = model
        let clock = FakeClock()
        self.clock = clock
        worker = StreamWorker(model: model, settings: settings, clock: { clock.now })
    }

    func send(_ stream: String, _ seq: UInt64, _ tokens: [String], reset: Bool = false, end: Bool = false) {
        worker.accept(InputMessage(streamID: stream, seq: seq, tokens: tokens, reset: reset, end: end))
    }

    /// Final tags per stream, in publication order: (position, token, tag).
    func finals(_ stream: String) -> [(Int, String, String)] {
        published.filter { $0.stream == stream && $0.json["type"] as? String == "tags" }.flatMap { entry in
            (entry.json["tags"] as! [[String: Any]]).map { ($0["i"] as! Int, $0["token"] as! String, $0["tag"] as! String) }
        }
    }
}

/// A small model with random weights (no file), for tests that need one.
func testModel(lookahead: Int, cell: CellKind = .lstm) throws -> Model {
    let config = ModelConfig(cell: cell, layers: 1, embeddingDim: 8, hiddenDim: 12, lookahead: lookahead,
                             features: [FeatureSpec(.suffix, length: 2, buckets: 31), FeatureSpec(.shape, buckets: 7)])
    let words = ["<unk>", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "."]
    return try Model(bundle: ModelBundle.random(name: "test", config: config, vocabulary: words,
                                                tags: ["DET", "NOUN", "VERB", "ADP", "PUNCT"], seed: 3))
}
