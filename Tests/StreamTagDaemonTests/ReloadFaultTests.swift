import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// Hot reload against hostile model paths and a stuck loader, over real sockets: the control
/// socket keeps answering, the reason is published, later reloads work, `/healthz` tells.
@Suite(.serialized) struct ReloadFaultTests {
    /// A FIFO at the model path used to block the loader in open(2), then every control request.
    @Test func fifoAtTheModelPathIsRejectedAndLaterReloadsWork() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try ReloadTests.models()
        try await ReloadTests.withHarness(first: a, dir: dir) { h in
            let path = dir + "/model.safetensors"
            try FileManager.default.removeItem(atPath: path)
            #expect(mkfifo(path, 0o644) == 0)

            let answer = try h.control(["cmd": "reload"])
            #expect(answer["ok"] == .bool(false))
            guard case .string(let error)? = answer["error"] else { Issue.record("no error in \(answer)"); return }
            #expect(error.contains("is a FIFO, not a regular file"), "\(error)")
            let rejected = try h.collect(timeout: 5) { $0.contains { $0.event == "model_rejected" } }
            #expect(rejected.first { $0.event == "model_rejected" }?.string("reason")?.contains("FIFO") == true)
            #expect(try h.control(["cmd": "status"])["ok"] == .bool(true), "control still answers")

            // A valid model renamed over the FIFO loads as usual.
            try ReloadTests.writeModel(b, to: path)
            let loaded = try h.control(["cmd": "reload"])
            #expect(loaded["ok"] == .bool(true), "\(loaded)")
            #expect(loaded["model"] == .string(h.daemon.model.id))
            #expect(h.daemon.model.id.hasPrefix("second@"))
        }
    }

    /// A load that hangs (here: a debug hook sleeping before it opens the file) is given up on
    /// after `reload.load_timeout`: the reload is answered, `/healthz` names the stuck loader
    /// until it ends, the next reload runs on a thread of its own, and the stuck load's outcome
    /// is discarded.
    @Test func stuckLoaderIsAnsweredReportedAndBypassed() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try ReloadTests.models()
        let path = dir + "/model.safetensors"
        try await ReloadTests.withHarness(first: a, dir: dir, configure: { config in
            config.model.watch = false
            config.reload.loadTimeout = .milliseconds(300)
            config.metrics.listen = "127.0.0.1:0"
        }) { h in
            let port = try #require(h.daemon.metricsPort)
            let served = h.daemon.model.id
            #expect(try HTTPTestClient.get(port: port, "/healthz").status == 200)

            try ReloadTests.writeModel(b, to: path)
            h.daemon.loads.debugStallNextLoad.withLock { $0 = 3 }
            let started = Date()
            let answer = try h.control(["cmd": "reload"])
            let waited = Date().timeIntervalSince(started)
            #expect(answer["ok"] == .bool(false))
            guard case .string(let error)? = answer["error"] else { Issue.record("no error in \(answer)"); return }
            #expect(error.contains("timed out after 0.3 s"), "\(error)")
            #expect(waited < 2, "answered at the deadline, not when the load ends (\(waited) s)")
            #expect(h.daemon.model.id == served, "the old model keeps serving")
            let health = try HTTPTestClient.get(port: port, "/healthz")
            #expect(health.status == 503)
            #expect(health.text.contains("the model loader is stuck"), "\(health.text)")
            #expect(health.text.contains(path), "\(health.text)")
            #expect(try h.control(["cmd": "status"])["ok"] == .bool(true))

            // The next reload does not wait behind the stuck one.
            let again = try h.control(["cmd": "reload"])
            #expect(again["ok"] == .bool(true), "\(again)")
            #expect(h.daemon.model.id.hasPrefix("second@"))

            // Once the stuck load ends, health is back, and its outcome changed nothing.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, try HTTPTestClient.get(port: port, "/healthz").status != 200 {
                pause(0.1)
            }
            #expect(try HTTPTestClient.get(port: port, "/healthz").status == 200)
            #expect(h.daemon.loads.stuckCount == 0)
            #expect(h.daemon.model.id.hasPrefix("second@"))
            let metrics = try Exposition(HTTPTestClient.get(port: port, "/metrics").text)
            #expect(metrics.value("streamtag_reloads_total", ["outcome": "rejected"]) == 1)
            #expect(metrics.value("streamtag_reloads_total", ["outcome": "loaded"]) == 1)
        }
    }

    /// SIGHUP-style requests that arrive while a load runs share its outcome, and the file is
    /// not read again when it did not change meanwhile.
    @Test func requestsDuringALoadDoNotReadTheSameFileAgain() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try ReloadTests.models()
        let path = dir + "/model.safetensors"
        try await ReloadTests.withHarness(first: a, dir: dir, configure: { $0.model.watch = false }) { h in
            try ReloadTests.writeModel(b, to: path)
            h.daemon.loads.debugStallNextLoad.withLock { $0 = 0.5 }
            h.daemon.requestReload(source: "first")
            pause(0.1)
            let answer = try h.control(["cmd": "reload"])   // arrives during the load: shares it
            #expect(answer["ok"] == .bool(true) && answer["changed"] == .bool(true), "\(answer)")
            pause(0.5)
            let unchanged = h.daemon.reloads.unchanged.load(ordering: .relaxed)
            #expect(unchanged == 0, "the same file was loaded again \(unchanged) time(s)")
            #expect(h.daemon.reloads.loaded.load(ordering: .relaxed) == 1)
        }
    }
}
