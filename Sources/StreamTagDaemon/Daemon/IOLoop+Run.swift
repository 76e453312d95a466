import Foundation
import StreamTagCore
import StreamTagZMQ
import StreamTagWire

extension IOLoop {
    /// The loop of the I/O thread, until the daemon has stopped.
    func run() {
        let inputIndex = poller.add(input)
        let controlIndex = poller.add(control)
        let wake = daemon.wake
        let wakeIndex = poller.add(fd: wake.fd)
        // An XPUB receives subscription messages; they must be read or they pile up.
        let outputIndex = config.output.noDrop ? poller.add(output) : -1
        let configured = config
        watcher = ModelWatcher.watching(configured.model)
        // The watcher's inotify descriptor has a slot of its own, re-pointed when a config
        // reload replaces the watcher; with none, the slot holds the eventfd waiting for nothing.
        let watchIndex = poller.add(fd: wake.fd, events: [])
        security?.addToPoller(poller)
        var watchedFD: Int32 = -1
        publishSystem(.started(model: model.id))

        timers = IOTimers(configured, now: monotonicSeconds())
        var stopping = false
        // The restored streams' queued input runs from the first heartbeat on.
        var restoredInputReleased = false

        while true {
            if watchedFD != (watcher?.fd ?? -1) {
                watchedFD = watcher?.fd ?? -1
                poller.setFD(watchedFD >= 0 ? watchedFD : wake.fd, events: watchedFD >= 0 ? .readable : [], at: watchIndex)
            }
            let wait = timers.pollWait(now: monotonicSeconds(), watching: watcher != nil)
            poller.setEvents(stopping ? [] : .readable, at: inputIndex)
            poller.setEvents(controlBusy ? [] : .readable, at: controlIndex)
            do {
                _ = try poller.poll(timeoutMilliseconds: Int((wait * 1000).rounded(.up)))
            } catch {
                logger.error("poll failed", metadata: ["error": "\(error)"])
            }
            if poller.isReadable(wakeIndex) { _ = try? wake.drain() }
            for task in daemon.takeIOTasks() { task(self) }
            if !stopping && poller.isReadable(inputIndex) { readInput() }
            drainGateway(accepting: !stopping)      // WebSocket gateway seam (Daemon+Gateway.swift)
            if !controlBusy && poller.isReadable(controlIndex) { handleControl() }
            if outputIndex >= 0 && poller.isReadable(outputIndex) {
                while (try? output.receive(dontWait: true)) != nil {}
            }
            publishOutputs()

            let later = monotonicSeconds()
            security?.service(poller, now: later)
            let due = timers.fire(now: later, watching: watcher != nil, stopping: stopping)
            if let watcher, !stopping {
                let event = watchedFD >= 0 && poller.isReadable(watchIndex) && watcher.drainEvents()
                let changed = due.contains(.watchCheck) && watcher.changed()
                if event || changed { startReload(source: event ? "file watch" : "file poll", completion: nil) }
            }
            if due.contains(.heartbeat) {
                publishSystem(.heartbeat(model: model.id, streams: pool.streams, instance: daemon.instance))
                gatewayTick()                       // WebSocket gateway seam
                if !restoredInputReleased && !stopping {
                    restoredInputReleased = true
                    releaseRestoredInput()
                }
            }
            if due.contains(.snapshot) {
                takeSnapshot { [daemon] result in
                    daemon.onIOThread { loop in
                        if case .failure(let error) = result {
                            loop.logger.error("periodic snapshot failed", metadata: ["path": "\(daemon.snapshots.path)", "error": "\(error)"])
                        }
                        loop.timers.snapshotWritten(now: monotonicSeconds())
                    }
                }
            }
            // A periodic snapshot still being written goes first: written after the shutdown
            // snapshot, it would replace it with an older state.
            if !stopping && !timers.snapshotInFlight && daemon.stopRequested.load(ordering: .acquiring) {
                // Stop reading input; the workers finish the messages in progress and save the
                // rest as input (a stop never waits for the backlog), then stop.
                stopping = true
                logger.info("stopping: finishing messages in progress and writing the snapshot")
                takeSnapshot(halt: true) { [daemon] result in daemon.onIOThread { loop in loop.shutdownSnapshot = result } }
            }
            if stopping, let result = shutdownSnapshot {
                pool.stop()
                publishOutputs()
                switch result {
                case .success(let streams):
                    logger.info("snapshot written", metadata: ["path": "\(daemon.snapshots.path)", "streams": "\(streams)"])
                    publishSystem(.stopping(model: model.id))
                case .failure(let error):
                    logger.error("snapshot failed; the previous snapshot is left as it was", metadata: [
                        "path": "\(daemon.snapshots.path)", "error": "\(error)"])
                    publishSystem(.stopping(model: model.id, snapshotError: "\(error)"))
                }
                daemon.shutdownSnapshot.withLock { $0 = result }
                break
            }
        }
        close()
        logger.info("stopped")
        daemon.markStopped()
    }

    /// Reads what the input socket has (up to a bound, so control and output stay responsive),
    /// validates it and hands it to the workers.
    private func readInput() {
        var count = 0
        while count < 4096 {
            let received: (frames: [[UInt8]], total: Int)
            do {
                guard let message = try input.receiveCounted(dontWait: true, maxFrames: 2) else { break }
                received = message
            } catch {
                logger.error("input receive failed", metadata: ["error": "\(error)"])
                break
            }
            count += 1
            switch parser.parse(frames: received.frames, totalFrames: received.total) {
            case .success(let message):
                metrics.counts.add(EventCount.messagesIn)
                stage(.message(message), stream: message.streamID)
            case .failure(let error):
                metrics.rejected(error.code)
                let event = error.event
                if let stream = error.streamID {
                    stage(.reject(stream: stream, error: event), stream: stream)
                } else {
                    publishSystem(event)
                }
            }
        }
        flush()
    }

    /// Sends everything the workers have published so far.
    func publishOutputs() {
        pool.ioWake.acknowledge()
        outgoing.removeAll(keepingCapacity: true)
        for w in pool.workers { w.takeOutput(into: &outgoing) }
        for message in outgoing { send(topic: message.topic, body: message.body) }
        gateway?.route(outgoing)                    // WebSocket gateway seam: also to its connections
        metrics.published(outgoing)
    }

    func publishSystem(_ event: OutputEvent) {
        send(topic: OutputEncoder.systemTopic, body: OutputEncoder.encoded(event))
    }

    private func send(topic: String, body: [UInt8]) {
        do {
            if try !output.send(topic: topic, body: body, dontWait: true) {
                metrics.counts.add(EventCount.outputDropped)
            }
        } catch {
            metrics.counts.add(EventCount.outputDropped)
            logger.error("output send failed", metadata: ["error": "\(error)"])
        }
    }
}
