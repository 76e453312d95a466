import Foundation
import Testing

/// `docs/man/streamtag.1` (written by `make docs` with swift-argument-parser's generate-manual,
/// installed by `make install`) renders with `man -l` and documents every subcommand that
/// `streamtag --help` lists.
struct ManPageTests {
    static let page = GeneratedDocsTests.root.appendingPathComponent("docs/man/streamtag.1").path
    static let hasMan = FileManager.default.isExecutableFile(atPath: "/usr/bin/man")

    /// The subcommand names of `streamtag --help` (the lines under SUBCOMMANDS:).
    static func subcommands() throws -> [String] {
        let help = try CLI.run(["--help"]).stdout
        guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "),
                  let name = line.split(separator: " ").first, name.allSatisfy({ $0.isLowercase }) else { return nil }
            return String(name)
        }
    }

    /// `man -l PAGE` as plain text 100 columns wide; fails the test when man does.
    static func render(_ page: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/man")
        process.arguments = ["-l", page]
        var environment = ProcessInfo.processInfo.environment
        environment["MANWIDTH"] = "100"
        environment["MANPAGER"] = "cat"
        environment["PAGER"] = "cat"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "man -l \(page) failed: \(errors)")
        #expect(errors.isEmpty, "man -l \(page) warned: \(errors)")
        return text
    }

    @Test(.enabled(if: hasMan, "needs man (man-db; make test installs it)"))
    func configurationPageRendersWithEverySetting() throws {
        let text = try Self.render(GeneratedDocsTests.root.appendingPathComponent("docs/man/streamtag.yaml.5").path)
        #expect(text.contains("STREAMTAG.YAML(5)"))
        #expect(text.contains("NAME") && text.contains("SETTINGS") && text.contains("SEE ALSO"))
        let rendered = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let keys = try CLI.run(["docs", "config"]).stdout.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
        }
        #expect(keys.count >= 40, "docs config lists \(keys.count) settings")
        for key in keys {
            #expect(rendered.contains { $0.hasPrefix(key + " ") || $0 == key }, "streamtag.yaml(5) has no entry for \(key)")
        }
        #expect(text.contains("STREAMTAG_STREAMS_IDLE_TIMEOUT"))
    }

    @Test(.enabled(if: hasMan, "needs man (man-db; make test installs it)"))
    func rendersWithEverySubcommand() throws {
        let text = try Self.render(Self.page)
        #expect(text.contains("STREAMTAG(1)"))
        #expect(text.contains("NAME") && text.contains("SYNOPSIS") && text.contains("DESCRIPTION"))
        let names = try Self.subcommands()
        #expect(names.count >= 8, "streamtag --help lists \(names)")
        for name in names {
            // A subcommand's entry is its name alone at the start of an indented line.
            let entry = text.split(separator: "\n").contains { line in
                line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) == name
            }
            #expect(entry, "streamtag(1) has no entry for \(name): run make docs")
        }
        #expect(text.contains("--model"), "the options of the subcommands are documented")
    }
}
