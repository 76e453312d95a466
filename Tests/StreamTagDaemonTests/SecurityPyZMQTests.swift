import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagZMQ
@testable import StreamTagClient

/// The key format against pyzmq's own (`zmq.auth`), and a Python client over CURVE. Needs
/// python3 with pyzmq (`python3 -m pip install pyzmq`; `.ci/run` installs it): without it
/// these tests fail and say so — they never skip silently.
@Suite(.serialized) struct SecurityPyZMQTests {
    /// Runs `python3 -c SCRIPT ARGS…`: its stdout, or a failure with its stderr.
    static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(description: "python3 exited with \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PythonFailure: Error, CustomStringConvertible { var description: String }

    /// Whether pyzmq is importable; records a failure saying how to get it when not.
    static func requirePyZMQ() -> Bool {
        if (try? python("import zmq, zmq.auth; assert zmq.has('curve')")) != nil { return true }
        Issue.record("python3 with pyzmq (and CURVE) is needed for the key-format tests: python3 -m pip install pyzmq (.ci/run does this)")
        return false
    }

    @Test func keysWrittenByKeygenLoadInPyZMQ() throws {
        guard Self.requirePyZMQ() else { return }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pair = try CurveKey.generatePair()
        let paths = try CertificateFile.write(Certificate(publicKey: pair.public, secretKey: pair.secret, metadata: [("name", "alice")]),
                                              name: "alice", directory: dir)
        let loaded = try Self.python("""
            import sys, zmq.auth
            p, s = zmq.auth.load_certificate(sys.argv[1]); q, t = zmq.auth.load_certificate(sys.argv[2])
            assert q == p and t is None
            assert zmq.curve_public(s) == p
            print(p.decode(), s.decode())
            """, [paths.secret, paths.public])
        #expect(loaded == "\(pair.public.z85) \(pair.secret.z85)")
    }

    @Test func keysWrittenByPyZMQServeAPythonClientAndASwiftOne() async throws {
        guard Self.requirePyZMQ() else { return }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["server", "clients", "private"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        _ = try Self.python("""
            import sys, shutil, zmq.auth
            d = sys.argv[1]
            zmq.auth.create_certificates(d + "/server", "server")
            zmq.auth.create_certificates(d + "/private", "pyclient", metadata={"name": "pyclient"})
            shutil.copy(d + "/private/pyclient.key", d + "/clients/pyclient.key")
            """, [dir])
        // pyzmq leaves secret files at the umask's mode: the daemon says so, then takes them.
        var config = DaemonHarness.testConfig()
        config.security.serverKey = dir + "/server/server.key_secret"
        config.security.clients = dir + "/clients"
        config.security.controlClients = dir + "/clients"
        let refusedDir = config.stateDir       // made before the keys are read
        defer { try? FileManager.default.removeItem(atPath: refusedDir) }
        let refused = try Daemon(config: config, model: try testModel(lookahead: 0), logger: .init(label: "test"))
        let refusal = await #expect(throws: (any Error).self) { try await withRunning(refused) { _ in } }
        #expect(refusal.map { "\($0)" }?.contains("chmod 600 \(dir)/server/server.key_secret") == true, "\(String(describing: refusal))")
        chmod(dir + "/server/server.key_secret", 0o600)
        chmod(dir + "/private/pyclient.key_secret", 0o600)
        let served = DaemonHarness.testConfig().stateDir
        config.stateDir = served
        defer { try? FileManager.default.removeItem(atPath: served) }
        let daemon = try Daemon(config: config, model: try testModel(lookahead: 0), logger: .init(label: "test"))
        try await withRunning(daemon) { _ in
            // The raw pyzmq client of docs/protocol.md#reference-client, with CURVE.
            let tags = try Self.python("""
                import json, sys, zmq, zmq.auth
                ctx = zmq.Context()
                public, secret = zmq.auth.load_certificate(sys.argv[3])
                server, _ = zmq.auth.load_certificate(sys.argv[4])
                def curve(s):
                    s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server
                    s.rcvtimeo = 10000
                    return s
                sub = curve(ctx.socket(zmq.SUB)); sub.connect(sys.argv[2])
                sub.setsockopt(zmq.SUBSCRIBE, b"py"); sub.setsockopt(zmq.SUBSCRIBE, b"$sys")
                pub = curve(ctx.socket(zmq.PUB)); pub.connect(sys.argv[1])
                while True:
                    topic, body = sub.recv_multipart()
                    if topic == b"$sys" and json.loads(body).get("event") == "heartbeat": break
                pub.send_multipart([b"py", json.dumps({"seq": 0, "tokens": ["the", "cat", "sat"], "end": True}).encode()])
                out = []
                while True:
                    topic, body = sub.recv_multipart()
                    if topic != b"py": continue
                    msg = json.loads(body); out += [t["token"] for t in msg.get("tags", [])]
                    if msg.get("event") == "end": break
                print(" ".join(out))
                """, [daemon.inputEndpoint, daemon.outputEndpoint, dir + "/private/pyclient.key_secret", dir + "/server/server.key"])
            #expect(tags == "the cat sat")
            // The same pyzmq-made keys in a Swift client (streamtag send --client-key/--server-key).
            let security = try ClientSecurity(clientKeyFile: dir + "/private/pyclient.key_secret", serverKeyFile: dir + "/server/server.key")
            let status = try controlRequest(.object([("cmd", .string("status"))]), endpoint: daemon.controlEndpoint, timeout: 10, security: security)
            #expect(status["ok"] == .bool(true))
            #expect(status["messages_in"]?.int == 1)
        }
    }
}
