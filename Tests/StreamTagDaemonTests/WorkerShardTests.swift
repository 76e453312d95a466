import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// Stream → worker assignment is FNV-1a 64 of the id modulo the worker count. It decides which
/// worker a restored snapshot's streams go to and where a shard's messages are ordered, so it
/// must not change: the expected workers were computed independently (Python) from the
/// published FNV-1a 64 definition.
@Suite struct WorkerShardTests {
    @Test func sameWorkerForTheSameIDAsAlways() throws {
        let model = try testModel(lookahead: 0)
        let expected: [(id: String, workers: [Int])] = [  // for 1, 2, 3, 4, 8 workers
            ("alice", [0, 1, 2, 3, 7]), ("bob", [0, 0, 0, 0, 4]), ("carol", [0, 0, 1, 2, 2]),
            ("tenant-a/1", [0, 1, 0, 3, 7]), ("stream-0", [0, 0, 2, 0, 0]), ("stream-3", [0, 1, 2, 1, 1]),
            ("é", [0, 1, 1, 1, 1]),
        ]
        for (i, count) in [1, 2, 3, 4, 8].enumerated() {
            let pool = WorkerPool(count: count, model: model, settings: StreamSettings(), wakeIO: {})
            for (id, workers) in expected {
                #expect(pool.worker(for: id) == workers[i], "\(id) with \(count) workers")
            }
        }
        #expect(fnv1a64("alice".utf8) == 0x508b_2abb_65a0_3907)
    }
}
