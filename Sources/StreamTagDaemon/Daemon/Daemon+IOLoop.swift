import Foundation
import StreamTagCore

extension Daemon {
    /// The I/O thread: every socket lives here.
    func runIOLoop() {
        let poller = ZMQPoller()
        let inputIndex = poller.add(input)
        let controlIndex = poller.add(control)
        let wakeIndex = poller.add(fd: wake.fd)
        // An XPUB receives subscription messages; they must be read or they pile up.
        let outputIndex = config.output.noDrop ? poller.add(output) : -1
        if config.model.watch && !config.model.path.isEmpty { watcher = ModelWatcher(path: config.model.path) }
        let watchIndex = (watcher?.fd ?? -1) >= 0 ? poller.add(fd: watcher!.fd) : -1
        let watchInterval = config.model.watchInterval.seconds
        var nextWatchCheck = monotonicSeconds() + watchInterval
        publishSystem(.started(model: model.id))

        let heartbeat = max(0.01, config.heartbeatInterval.seconds)
        let snapshotInterval = config.snapshotInterval.seconds
        var nextHeartbeat = monotonicSeconds() + heartbeat
        nextSnapshot = snapshotInterval > 0 ? monotonicSeconds() + snapshotInterval : .infinity
        var stopping = false

        while true {
            let now = monotonicSeconds()
            let wait = max(0, min(nextHeartbeat, nextSnapshot, watcher == nil ? now + 1 : nextWatchCheck, now + 1) - now)
            poller.setEvents(stopping ? [] : .readable, at: inputIndex)
            poller.setEvents(controlBusy ? [] : .readable, at: controlIndex)
            do {
                _ = try poller.poll(timeoutMilliseconds: Int((wait * 1000).rounded(.up)))
            } catch {
                logger.error("poll failed", metadata: ["error": "\(error)"])
            }
            if poller.isReadable(wakeIndex) { _ = try? wake.drain() }
            for task in ioTasks.withLock({ tasks in defer { tasks.removeAll() }; return tasks }) { task() }
            if !stopping && poller.isReadable(inputIndex) { readInput() }
            if !controlBusy && poller.isReadable(controlIndex) { handleControl() }
            if outputIndex >= 0 && poller.isReadable(outputIndex) {
                while (try? output.receive(dontWait: true)) != nil {}
            }
            publishOutputs()

            let later = monotonicSeconds()
            if let watcher, !stopping {
                let event = watchIndex >= 0 && poller.isReadable(watchIndex) && watcher.drainEvents()
                var due = false
                if later >= nextWatchCheck {
                    nextWatchCheck = later + watchInterval
                    due = watcher.changed()
                }
                if event || due { startReload(source: event ? "file watch" : "file poll", completion: nil) }
            }
            if later >= nextHeartbeat {
                publishSystem(.heartbeat(model: model.id, streams: pool.streams))
                nextHeartbeat = later + heartbeat
            }
            if !stopping && later >= nextSnapshot {
                nextSnapshot = .infinity     // re-armed when this one is written
                takeSnapshot { [self] result in
                    onIOThread { [self] in
                        if case .failure(let error) = result {
                            logger.error("periodic snapshot failed", metadata: ["path": "\(snapshots.path)", "error": "\(error)"])
                        }
                        nextSnapshot = monotonicSeconds() + snapshotInterval
                    }
                }
            }
            if !stopping && stopRequested.load(ordering: .acquiring) {
                // Stop reading input; let the workers finish what they accepted, then snapshot.
                stopping = true
                logger.info("stopping: finishing accepted messages and writing the snapshot")
                takeSnapshot { [self] result in onIOThread { [self] in shutdownSnapshot = result } }
            }
            if stopping, let result = shutdownSnapshot {
                pool.stop()
                publishOutputs()
                switch result {
                case .success(let streams):
                    logger.info("snapshot written", metadata: ["path": "\(snapshots.path)", "streams": "\(streams)"])
                case .failure(let error):
                    logger.error("snapshot failed", metadata: ["path": "\(snapshots.path)", "error": "\(error)"])
                }
                publishSystem(.stopping(model: model.id))
                break
            }
        }
        // Give the last messages a moment to leave before the sockets close.
        try? output.setOption(.linger, 1000)
        input.close()
        control.close()
        output.close()
        context.terminate()
        logger.info("stopped")
        markStopped()
    }

    /// Reads what the input socket has (up to a bound, so control and output stay responsive),
    /// validates it and hands it to the workers.
    private func readInput() {
        var count = 0
        while count < 4096 {
            let frames: [[UInt8]]
            do {
                guard let received = try input.receive(dontWait: true, maxFrames: 3) else { break }
                frames = received
            } catch {
                logger.error("input receive failed", metadata: ["error": "\(error)"])
                break
            }
            count += 1
            switch parser.parse(frames: frames) {
            case .success(let message):
                messagesIn.add(1, ordering: .relaxed)
                pool.stage(.message(message), stream: message.streamID)
            case .failure(let error):
                errorsIn.add(1, ordering: .relaxed)
                metrics.rejected(error.code)
                let event = OutputEvent.error(code: error.code, message: error.message, seq: error.seq)
                if let stream = error.streamID {
                    pool.stage(.reject(stream: stream, error: event), stream: stream)
                } else {
                    publishSystem(event)
                }
            }
        }
        pool.flush()
    }

    /// Sends everything the workers have published so far.
    func publishOutputs() {
        pool.ioWake.acknowledge()
        outgoing.removeAll(keepingCapacity: true)
        for w in pool.workers { w.takeOutput(into: &outgoing) }
        for message in outgoing { send(topic: message.topic, body: message.body) }
        metrics.published(outgoing)
    }

    func publishSystem(_ event: OutputEvent) {
        send(topic: OutputEncoder.systemTopic, body: OutputEncoder.encoded(event))
    }

    private func send(topic: String, body: [UInt8]) {
        do {
            if try !output.send(frames: [Array(topic.utf8), body], dontWait: true) {
                outputDropped.add(1, ordering: .relaxed)
            }
        } catch {
            outputDropped.add(1, ordering: .relaxed)
            logger.error("output send failed", metadata: ["error": "\(error)"])
        }
    }
}
