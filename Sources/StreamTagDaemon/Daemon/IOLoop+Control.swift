import Foundation
import StreamTagCore
import StreamTagWire

extension IOLoop {
    /// Answers one control request. REP needs exactly one answer per request: while an answer
    /// is computed elsewhere (streams, drop, snapshot) the socket is not read.
    func handleControl() {
        let frames: [[UInt8]]
        do {
            guard let received = try control.receive(dontWait: true, maxFrames: 2) else { return }
            frames = received
        } catch {
            logger.error("control receive failed", metadata: ["error": "\(error)"])
            return
        }
        controlBusy = true
        guard frames.count == 1 else {
            reply(.failure("a request is one frame holding a JSON object, not \(frames.count) frames"))
            return
        }
        if interceptDebugControl(frames[0]) { return }
        switch ControlRequest.parse(frames[0]) {
        case .failure(let error):
            reply(.failure(error))
        case .success(.status):
            let s = daemon.status
            reply(.success(fields: [
                ("model", .string(model.id)), ("streams", .integer(s.streams)),
                ("uptime_s", .number((s.uptime * 10).rounded() / 10)), ("tokens_in", .integer(s.tokensIn)),
                ("tokens_out", .integer(s.tokensOut)), ("messages_in", .integer(metrics.counts.load(EventCount.messagesIn))),
                ("errors_in", .integer(metrics.parseErrors)),
                ("output_dropped", .integer(metrics.counts.load(EventCount.outputDropped))),
                ("workers", .integer(pool.workers.count)),
            ]))
        case .success(.streams(let limit)):
            let cap = limit ?? 1000
            pool.collect({ worker in worker.describeStreams(limit: cap) }, completion: { [daemon] parts in
                let all = parts.flatMap { $0 }.sorted { $0.id < $1.id }.prefix(cap)
                let list = all.map { s -> JSONValue in
                    .object([("id", .string(s.id)), ("seq", .integer(Int(s.seq))), ("position", .integer(s.position)),
                             ("queued_tokens", .integer(s.queued)), ("idle_s", .number((s.idle * 10).rounded() / 10))])
                }
                daemon.replyLater(.success(fields: [("count", .integer(daemon.pool.streams)), ("streams", .array(Array(list)))]))
            })
        case .success(.drop(let stream)):
            pool.workers[pool.worker(for: stream)].submit([.run { [daemon] worker in
                let dropped = worker.drop(stream)
                daemon.replyLater(dropped ? .success(fields: [("stream", .string(stream))])
                                   : .failure("no such stream: \(stream)", fields: [("stream", .string(stream))]))
            }])
        case .success(.snapshot):
            takeSnapshot { [daemon] result in
                let path = daemon.snapshots.path
                switch result {
                case .success(let streams):
                    daemon.replyLater(.success(fields: [("path", .string(path)), ("streams", .integer(streams))]))
                case .failure(let error):
                    daemon.replyLater(.failure("snapshot failed: \(error)", fields: [("path", .string(path))]))
                }
            }
        case .success(.reload):
            startReload(source: "control") { [daemon] answer in daemon.replyLater(answer) }
        }
    }

    func reply(_ answer: ControlAnswer) {
        do {
            _ = try control.send(frames: [answer.encoded()])
        } catch {
            logger.error("control send failed", metadata: ["error": "\(error)"])
        }
        controlBusy = false
    }
}

extension Daemon {
    /// Answers the control request in progress from another thread: the send happens on the
    /// I/O thread.
    func replyLater(_ answer: ControlAnswer) {
        onIOThread { loop in loop.reply(answer) }
    }
}

extension StreamWorker {
    struct StreamInfo: Sendable {
        var id: String
        var seq: UInt64
        var position: Int
        var queued: Int
        var idle: Double
    }

    /// Open streams for the control `streams` command (at most `limit`, by id).
    func describeStreams(limit: Int) -> [StreamInfo] {
        let now = clock()
        return table.records.compactMap { $0 }
            .map { StreamInfo(id: $0.id, seq: $0.lastSeq, position: $0.cursor.fed, queued: $0.queuedTokens, idle: now - $0.lastInput) }
            .sorted { $0.id < $1.id }
            .prefix(limit)
            .map { $0 }
    }
}
