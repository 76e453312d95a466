import Foundation
import Logging
import Prometheus
import StreamTagTestSupport
import Testing
@testable import StreamTagDaemon
@testable import StreamTagZMQ

/// Keys, certificate files, key directories, the ZAP answers and the refusal summary.
@Suite struct SecurityKeyTests {
    // The key pairs of libzmq's zmq_curve(7) manual page.
    static let serverPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    static let serverSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

    @Test func z85AndPublicKeyAgreeWithLibzmqsManual() throws {
        #expect(CurveKey.isAvailable)
        let secret = try #require(CurveKey(z85: Self.serverSecret))
        #expect(secret.z85 == Self.serverSecret)
        #expect(secret.publicKey()?.z85 == Self.serverPublic)
        #expect(CurveKey(z85: String(Self.serverPublic.dropLast())) == nil, "39 characters")
        #expect(CurveKey(z85: String(Self.serverPublic.dropLast()) + " ") == nil, "a space is not Z85")
        let pair = try CurveKey.generatePair()
        #expect(pair.secret.publicKey() == pair.public)
        #expect(pair.public != pair.secret)
    }

    @Test func keygenWritesZcertFilesWithASecretOnlyItsOwnerReads() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pair = try CurveKey.generatePair()
        let cert = Certificate(publicKey: pair.public, secretKey: pair.secret, metadata: [("name", "alice")])
        let paths = try CertificateFile.write(cert, name: "alice", directory: dir)
        #expect(paths.public == dir + "/alice.key")
        #expect(paths.secret == dir + "/alice.key_secret")
        let secretMode = try FileManager.default.attributesOfItem(atPath: paths.secret)[.posixPermissions] as? Int
        #expect(secretMode == 0o600)
        let publicText = try String(contentsOfFile: paths.public, encoding: .utf8)
        #expect(publicText.contains("metadata\n    name = \"alice\"\ncurve\n    public-key = \"\(pair.public.z85)\"\n"))
        #expect(!publicText.contains("secret-key"))
        #expect(try String(contentsOfFile: paths.secret, encoding: .utf8).contains("    secret-key = \"\(pair.secret.z85)\"\n"))
        #expect(try CertificateFile.loadSecret(paths.secret) == cert)
        #expect(try CertificateFile.loadPublic(paths.public).publicKey == pair.public)
        #expect(try CertificateFile.loadPublic(paths.public).secretKey == nil)
        #expect { try CertificateFile.write(cert, name: "alice", directory: dir) } throws: { "\($0)".contains("exists already") }
    }

    @Test func secretReadableByOthersIsRefusedWithTheFix() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pair = try CurveKey.generatePair()
        let paths = try CertificateFile.write(Certificate(publicKey: pair.public, secretKey: pair.secret), name: "srv", directory: dir)
        chmod(paths.secret, 0o644)
        #expect { try CertificateFile.loadSecret(paths.secret) } throws: { error in
            let text = "\(error)"
            return text.contains(paths.secret) && text.contains("mode 644") && text.contains("chmod 600 \(paths.secret)")
        }
        chmod(paths.secret, 0o400)
        #expect(try CertificateFile.loadSecret(paths.secret).secretKey == pair.secret)
        #expect { try CertificateFile.loadSecret(paths.public) } throws: { "\($0)".contains("holds no secret-key") }
    }

    /// A key file that cannot be read says why, as the system does (not a guess, and not "not
    /// a CURVE certificate" for a directory).
    @Test func unreadableKeyFileSaysWhy() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect { try CertificateFile.loadPublic(dir + "/none.key") } throws: {
            "\($0)" == "security: \(dir)/none.key: cannot read the key file: \(String(cString: strerror(ENOENT)))"
        }
        #expect { try CertificateFile.loadSecret(dir) } throws: {
            "\($0)" == "security: \(dir): cannot read the key file: \(String(cString: strerror(EISDIR)))"
        }
        // A FIFO (in a key directory, say) is refused at once: a re-read never waits for a writer.
        #expect(mkfifo(dir + "/fifo.key", 0o644) == 0)
        #expect { try CertificateFile.loadPublic(dir + "/fifo.key") } throws: {
            "\($0)" == "security: \(dir)/fifo.key: cannot read the key file: not a regular file (a FIFO, socket or device)"
        }
    }

    @Test(arguments: [
        ("metadata\ncurve\n", "no public-key"),
        ("curve\n    public-key = \"abc\"\n", "public-key is not 40 characters of Z85"),
        ("curve\n    public-key = \"\(SecurityKeyTests.serverPublic)\"\n    secret-key = \"\(String(SecurityKeyTests.serverSecret.dropLast()))x\"\n", "does not belong"),
        ("curve\n    public-key = \"\(SecurityKeyTests.serverPublic)\"\n    secret-key = \"nope\"\n", "secret-key is not 40 characters"),
        ("public-key = \"\(SecurityKeyTests.serverPublic)\"\n", "outside the metadata and curve sections"),
    ])
    func malformedCertificateIsRefusedWithTheReason(text: String, reason: String) throws {
        #expect { try Certificate.parse(text, path: "/k/x.key") } throws: { error in
            "\(error)".contains("/k/x.key") && "\(error)".contains(reason) && "\(error)".contains("streamtag keygen")
        }
    }

    @Test func keyDirectorySkipsSecretsAndHiddenFilesAndNamesBadOnes() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try CurveKey.generatePair(), b = try CurveKey.generatePair()
        try CertificateFile.write(Certificate(publicKey: a.public, secretKey: a.secret), name: "alice", directory: dir)
        try Certificate(publicKey: b.public).text(includingSecret: false).write(toFile: dir + "/.bob.key.tmp", atomically: true, encoding: .utf8)
        try "garbage".write(toFile: dir + "/junk.key", atomically: true, encoding: .utf8)
        let keys = KeyDirectory(path: dir)
        #expect(keys.keys == [a.public: "alice"])
        #expect(keys.problems.count == 1)
        #expect(keys.problems.first?.path == dir + "/junk.key")
        let missing = KeyDirectory(path: dir + "/nope")
        #expect(missing.keys.isEmpty)
        #expect(missing.problems.first?.description.contains("cannot list the key directory") == true)
    }

    @Test func zapAdmitsByRoleAndSetsTheUserID() throws {
        let producer = try CurveKey.generatePair().public, admin = try CurveKey.generatePair().public
        let stranger = try CurveKey.generatePair().public
        let ring = KeyRing(clients: [producer: "producer"], controlClients: [admin: "admin"])
        func ask(_ domain: String, _ key: CurveKey, mechanism: String = "CURVE") -> ([[UInt8]], ZAPHandler.Refused?) {
            let request = ["1.0", "7", domain, "127.0.0.1", ""].map { Array($0.utf8) } + [Array(mechanism.utf8), key.bytes]
            let answer = ZAPHandler.answer(request, ring: ring)
            return (answer.reply, answer.refused)
        }
        func status(_ reply: [[UInt8]]) -> String { String(decoding: reply[2], as: UTF8.self) }
        let ok = ask("input", producer)
        #expect(status(ok.0) == "200")
        #expect(ok.0[1] == Array("7".utf8), "the request id is echoed")
        #expect(ok.0[4] == Array("producer".utf8), "user id")
        #expect(status(ask("output", admin).0) == "200")
        #expect(status(ask("control", admin).0) == "200")
        let notControl = ask("control", producer)
        #expect(status(notControl.0) == "400")
        #expect(notControl.1?.reason == .notControl && notControl.1?.socket == .control)
        let unknown = ask("output", stranger)
        #expect(status(unknown.0) == "400")
        #expect(unknown.1?.reason == .unknownKey && unknown.1?.socket == .output)
        #expect(ask("input", producer, mechanism: "NULL").1?.reason == .plaintext)
        #expect(ask("elsewhere", producer).1?.reason == .unknownKey)
        #expect(status(ZAPHandler.answer([Array("2.0".utf8)], ring: ring).reply) == "500")
    }

    @Test func refusalsAreSummarisedOncePerIntervalNeverPerAttempt() throws {
        let lines = LogLines()
        let failures = AuthFailures(registry: PrometheusCollectorRegistry(), now: 100)
        for _ in 0..<20 { failures.count(.input, .unknownKey) }
        for _ in 0..<3 { failures.count(.control, .notControl) }
        failures.summarize(now: 105, logger: lines.logger())
        #expect(lines.texts.isEmpty, "not before the interval")
        failures.summarize(now: 110, logger: lines.logger())
        #expect(lines.texts == ["refused 23 connection attempts in the last 10 s (input unknown_key 20, control not_control 3)"])
        failures.summarize(now: 120, logger: lines.logger())
        #expect(lines.texts.count == 1, "nothing new, no line")
        #expect(failures.total(.input, .unknownKey) == 20)
    }
}
