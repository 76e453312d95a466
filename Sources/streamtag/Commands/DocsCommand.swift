import ArgumentParser
import StreamTagDaemon

/// `streamtag docs config|metrics`: prints a generated page of the manual as Markdown
/// (`make docs` writes them to `docs/configuration.md` and `docs/metrics.md`). Hidden: it is
/// for building the documentation, not for operators.
struct DocsCommand: ParsableCommand {
    enum Page: String, ExpressibleByArgument, CaseIterable {
        case config, metrics
    }

    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print a generated reference page (config or metrics) as Markdown.",
        shouldDisplay: false
    )

    @Argument(help: "The page: config (docs/configuration.md) or metrics (docs/metrics.md).")
    var page: Page

    func run() throws {
        switch page {
        case .config: print(ReferenceDocs.configurationPage(), terminator: "")
        case .metrics: print(ReferenceDocs.metricsPage(), terminator: "")
        }
    }
}
