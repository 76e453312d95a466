import Foundation
import ArgumentParser
import StreamTagDaemon

/// `streamtag docs config|metrics|config-man`: prints a generated page of the manual
/// (`make docs` writes them to `docs/configuration.md`, `docs/metrics.md` and
/// `docs/man/streamtag.yaml.5`). Hidden: it is for building the documentation, not for
/// operators.
struct DocsCommand: ParsableCommand {
    enum Page: String, ExpressibleByArgument, CaseIterable {
        case config, metrics
        case configMan = "config-man"
    }

    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print a generated reference page: config or metrics (Markdown), config-man (streamtag.yaml(5), mdoc).",
        shouldDisplay: false
    )

    @Argument(help: "The page: config (docs/configuration.md), metrics (docs/metrics.md) or config-man (docs/man/streamtag.yaml.5).")
    var page: Page
    @Option(name: .long, help: "config-man: the date the page shows (YYYY-MM-DD; default: today, make docs passes its MAN_DATE).")
    var date: String?

    func run() throws {
        switch page {
        case .config: print(ReferenceDocs.configurationPage(), terminator: "")
        case .metrics: print(ReferenceDocs.metricsPage(), terminator: "")
        case .configMan: print(ReferenceDocs.configurationManPage(date: try Self.mdocDate(date ?? Self.today())), terminator: "")
        }
    }

    /// Today as YYYY-MM-DD (UTC).
    static func today() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }

    /// `2026-12-06` → `December 6, 2026`, as mdoc's `.Dd` wants it.
    static func mdocDate(_ iso: String) throws -> String {
        let parts = iso.split(separator: "-").compactMap { Int($0) }
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"]
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else {
            throw ValidationError("--date takes YYYY-MM-DD, got \(iso)")
        }
        return "\(months[parts[1] - 1]) \(parts[2]), \(parts[0])"
    }
}
