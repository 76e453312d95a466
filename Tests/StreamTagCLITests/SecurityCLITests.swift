import Foundation
import StreamTagTestSupport
import Testing
import StreamTagDaemon
import StreamTagZMQ

/// `streamtag keygen`, and `serve`, `send` and `ctl` with CURVE, as real processes.
@Suite(.serialized) struct SecurityCLITests {
    @Test func keygenWritesAPairAndNeverOverwrites() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try CLI.run(["keygen", "server", "--dir", dir + "/keys"])
        #expect(first.status == 0, "\(first.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/keys/server.key_secret")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let certificate = try CertificateFile.loadSecret(dir + "/keys/server.key_secret")
        #expect(first.stdout.contains("public key \(certificate.publicKey.z85)"))
        #expect(try CertificateFile.loadPublic(dir + "/keys/server.key").publicKey == certificate.publicKey)
        let again = try CLI.run(["keygen", "server", "--dir", dir + "/keys"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists already"), "\(again.stderr)")
    }

    @Test func plaintextOnANonLoopbackAddressIsRefusedAtStart() throws {
        let result = try CLI.run(["serve", "--set", "output.bind=tcp://0.0.0.0:0", "--set", "metrics.listen="])
        #expect(result.status != 0)
        #expect(result.stderr.contains("output.bind"), "\(result.stderr)")
        #expect(result.stderr.contains("security.allow_plaintext: true"), "\(result.stderr)")
    }

    @Test func sendAndCtlWithKeysAndSighupRereadsTheKeys() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, sub) in [("server", "keys"), ("producer", "me"), ("ops", "me")] {
            #expect(try CLI.run(["keygen", name, "--dir", "\(dir)/\(sub)"]).status == 0)
        }
        try FileManager.default.createDirectory(atPath: dir + "/clients", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/control", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/me/producer.key", toPath: dir + "/clients/producer.key")
        try FileManager.default.copyItem(atPath: dir + "/me/ops.key", toPath: dir + "/control/ops.key")
        let server = try ServeTests.Server(stateDir: dir + "/state", extra: [
            "--set", "security.server_key=\(dir)/keys/server.key_secret", "--set", "security.clients=\(dir)/clients",
            "--set", "security.control_clients=\(dir)/control",
        ])
        defer { _ = server.terminate() }
        let producer = ["--client-key", dir + "/me/producer.key_secret", "--server-key", dir + "/keys/server.key"]
        let ops = ["--client-key", dir + "/me/ops.key_secret", "--server-key", dir + "/keys/server.key"]
        let sent = try CLI.run(["send", "--input", server.input, "--output", server.output, "--stream", "s"] + producer,
                               stdin: "the cat sat\n")
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.split(separator: "\n").map { $0.split(separator: "\t")[1] } == ["the", "cat", "sat"])
        let status = try CLI.run(["ctl", "status", "--control", server.control] + ops)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\"messages_in\":1"))
        let denied = try CLI.run(["ctl", "status", "--control", server.control, "--timeout", "1"] + producer)
        #expect(denied.status != 0)
        let plaintext = try CLI.run(["ctl", "status", "--control", server.control, "--timeout", "1"])
        #expect(plaintext.status != 0)
        let half = try CLI.run(["ctl", "status", "--control", server.control, "--client-key", dir + "/me/ops.key_secret"])
        #expect(half.status != 0)
        #expect(half.stderr.contains("--client-key needs --server-key"), "\(half.stderr)")

        // The same, from client configuration files; a flag wins over the file.
        let opsConfig = dir + "/ops.yaml", producerConfig = dir + "/producer.yaml"
        try "control: \(server.control)\nsecurity:\n  client_key: \(dir)/me/ops.key_secret\n  server_key: \(dir)/keys/server.key\n"
            .write(toFile: opsConfig, atomically: true, encoding: .utf8)
        try "input: \(server.input)\noutput: \(server.output)\nsecurity:\n  client_key: \(dir)/me/producer.key_secret\n  server_key: \(dir)/keys/server.key\n"
            .write(toFile: producerConfig, atomically: true, encoding: .utf8)
        let fromFile = try CLI.run(["ctl", "status", "--client-config", opsConfig])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let sentFromFile = try CLI.run(["send", "--stream", "t", "--client-config", producerConfig], stdin: "a dog\n")
        #expect(sentFromFile.status == 0, "\(sentFromFile.stderr)")
        #expect(sentFromFile.stdout.split(separator: "\n").count == 2)
        let overridden = try CLI.run(["ctl", "status", "--client-config", opsConfig, "--timeout", "1",
                                      "--client-key", dir + "/me/producer.key_secret"])
        #expect(overridden.status != 0)
        try "control: \(server.control)\nsecurity:\n  client_keys: x\n".write(toFile: opsConfig, atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["ctl", "status", "--client-config", opsConfig])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("\(opsConfig): security.client_keys: unknown key"), "\(unknown.stderr)")
        #expect(mkfifo(dir + "/fifo.yaml", 0o644) == 0)
        let fifo = try CLI.run(["ctl", "status", "--client-config", dir + "/fifo.yaml"])
        #expect(fifo.status != 0)
        #expect(fifo.stderr.contains("is not a regular file"), "\(fifo.stderr)")

        kill(server.process.processIdentifier, SIGHUP)
        #expect(server.waitForLog("keys re-read"), "\(server.log)")
    }
}
