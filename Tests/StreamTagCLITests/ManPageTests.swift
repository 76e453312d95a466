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

    @Test(.enabled(if: hasMan, "needs man (man-db; make test installs it)"))
    func rendersWithEverySubcommand() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/man")
        process.arguments = ["-l", Self.page]
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
        #expect(process.terminationStatus == 0, "man -l failed: \(errors)")
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
