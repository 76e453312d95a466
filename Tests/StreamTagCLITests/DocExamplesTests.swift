import Foundation
import StreamTagTestSupport
import Testing

/// Every fenced block marked ```` ```sh runnable ```` in the manual's runnable pages is run
/// here against the debug build, so the commands shown cannot rot. Each block runs in a fresh
/// temporary directory with `streamtag` first on `PATH`, under `bash -eo pipefail`, in a network
/// namespace of its own (so the documented default ports are free); an HTML comment after the block,
/// `<!-- output contains: TEXT -->`, names text its output must contain (one comment per text).
@Suite(.serialized) struct DocExamplesTests {
    struct Block: CustomStringConvertible {
        var page: String
        var line: Int
        var script: String
        var expected: [String]
        var description: String { "\(page):\(line)" }
    }

    static let pages = ["docs/getting-started.md", "docs/security.md", "docs/training.md", "docs/websocket.md"]

    static func blocks() throws -> [Block] {
        var found: [Block] = []
        for page in pages {
            let text = try String(contentsOf: GeneratedDocsTests.root.appendingPathComponent(page), encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                guard lines[i].trimmingCharacters(in: .whitespaces) == "```sh runnable" else { i += 1; continue }
                let start = i + 1
                var end = start
                while end < lines.count && !lines[end].hasPrefix("```") { end += 1 }
                var block = Block(page: page, line: start, script: lines[start..<end].joined(separator: "\n"), expected: [])
                var j = end + 1
                while j < lines.count, lines[j].isEmpty || lines[j].hasPrefix("<!-- output contains: ") {
                    if lines[j].hasPrefix("<!-- output contains: "), lines[j].hasSuffix(" -->") {
                        block.expected.append(String(lines[j].dropFirst("<!-- output contains: ".count).dropLast(" -->".count)))
                    }
                    j += 1
                }
                found.append(block)
                i = end + 1
            }
        }
        return found
    }

    /// Whether blocks can run in a network namespace of their own (`unshare --net`, as root or
    /// with unprivileged user namespaces), where the default ports 5560–5563 are always free.
    static let canIsolateNetwork: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--net", "--map-root-user", "/usr/sbin/ip", "link", "set", "lo", "up"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    @Test func theRunnablePagesHaveRunnableBlocks() throws {
        let blocks = try Self.blocks()
        #expect(blocks.count >= 2, "expected runnable blocks in \(Self.pages)")
        #expect(blocks.allSatisfy { !$0.expected.isEmpty }, "every runnable block names output it must contain")
    }

    @Test(.enabled(if: canIsolateNetwork, "needs unshare --net (root or user namespaces)"), .timeLimit(.minutes(5)))
    func everyRunnableBlockRuns() throws {
        let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
        for block in try Self.blocks() {
            let script = block.script
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let process = Process()
            // A network namespace of its own: the block's daemon gets the documented default
            // ports whatever else runs on the machine, and cannot disturb other tests.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--net", "--map-root-user", "/bin/bash", "-eo", "pipefail", "-c",
                                 "/usr/sbin/ip link set lo up\n" + script]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            process.environment = environment
            let outPath = dir + "/.output"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardOutput = out
            process.standardError = out
            try process.run()
            process.waitUntilExit()
            try out.close()
            let output = fileText(outPath)
            #expect(process.terminationStatus == 0, "\(block) failed:\n\(script)\n--- output:\n\(output)")
            for text in block.expected {
                #expect(output.contains(text), "\(block): output lacks \(text.debugDescription):\n\(output)")
            }
        }
    }
}
