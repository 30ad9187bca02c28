// `budget prices …`: price syncs from the public catalogues, run against the database directly.
import ArgumentParser
import BudgetPricing
import BudgetStore
import Foundation
import Logging
import PostgresNIO

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Keep model prices current from the public catalogues (LiteLLM, llm-prices, genai-prices, Langfuse, Portkey, OpenRouter).",
        subcommands: [Sync.self, Sources.self, Bundle.self, List.self, Show.self, Conflicts.self, Override.self]
    )

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Fetch every price source once, cross-check them, and write the prices that changed (for cron or systemd timers).",
            discussion: """
                Sources: the built-in list, or the JSON file named by BUDGET_PRICE_SOURCES_FILE. A price changes only when \
                sources agree by weight (or a single source lists the model and moves it by at most 50%); manual \
                overrides are never replaced. Uses BUDGET_DATABASE_URL or the private PostgreSQL, like `budget migrate`.
                """
        )

        @Flag(help: "Print what would change without writing prices.") var dryRun = false

        func run() async throws {
            let context = try CommandContext.make()
            let sources = try PriceSourceConfig.load(file: context.configuration.priceSourcesFile)
            let migrations = try context.migrations()
            let summary = try await context.withDatabase { endpoint -> PriceSyncSummary? in
                _ = try await MigrationRunner(migrations: migrations, logger: context.logger).run(on: endpoint)
                let (logger, dryRun) = (context.logger, self.dryRun)
                return try await context.withClient(endpoint, maximumConnections: 4) { client in
                    try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: dryRun)
                }
            }
            guard let summary else {
                print("Another Budget process is syncing prices right now; nothing done.")
                return
            }
            print(PriceSyncReportText.render(summary))
            if summary.status == "failed" { throw ExitCode(1) }
        }
    }

    struct Sources: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sources", abstract: "List the price sources a sync would read.")

        func run() throws {
            let configuration = try BudgetConfiguration.fromEnvironment()
            let sources = try PriceSourceConfig.load(file: configuration.priceSourcesFile)
            print("name          format        weight  lineage   enabled  url")
            for source in sources {
                print([source.name.padding(toLength: 13, withPad: " ", startingAt: 0), source.format.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0),
                       "\(source.weight)".padding(toLength: 7, withPad: " ", startingAt: 0), (source.lineage ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0),
                       (source.enabled ? "yes" : "no").padding(toLength: 8, withPad: " ", startingAt: 0), source.url].joined(separator: " "))
            }
        }
    }
}

/// The text a person reads after a sync.
enum PriceSyncReportText {
    static func render(_ summary: PriceSyncSummary) -> String {
        var lines = ["\(summary.dryRun ? "Dry run" : "Sync run \(summary.runID)"): \(summary.status)", "", "source        status        observations  skipped  error"]
        for outcome in summary.outcomes {
            lines.append([outcome.source.padding(toLength: 13, withPad: " ", startingAt: 0), outcome.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0),
                          String(outcome.observations).padding(toLength: 13, withPad: " ", startingAt: 0), String(outcome.skipped).padding(toLength: 8, withPad: " ", startingAt: 0),
                          outcome.error ?? ""].joined(separator: " "))
        }
        lines.append("")
        lines.append("\(summary.plan.changes.count) price(s) \(summary.dryRun ? "would change" : "changed"), \(summary.plan.unchanged) unchanged, \(summary.plan.conflicts.count) conflict(s), \(summary.plan.overridden) kept by a manual override")
        for change in summary.plan.changes {
            let old = change.old.map { "\($0.input.map { "\($0)" } ?? "-")/\($0.output.map { "\($0)" } ?? "-")" } ?? "none"
            lines.append("  \(change.key): in/out per token \(old) → \(change.new.input.map { "\($0)" } ?? "-")/\(change.new.output.map { "\($0)" } ?? "-") (\(change.status.rawValue))")
        }
        for conflict in summary.plan.conflicts {
            var parts: [String] = []
            for (field, outcome) in conflict.outcomes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                if case .conflict(let values) = outcome {
                    parts.append("\(field.rawValue): " + values.map { "\($0.source)=\($0.value)" }.joined(separator: ", "))
                }
            }
            lines.append("  conflict \(conflict.key): " + parts.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

extension PricesCommand {
    struct Bundle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle",
            abstract: "Generate the offline price catalogue (sql/seed/price-catalogue.json) from the price sources, with provenance.",
            discussion: "`budget serve` loads it into an empty price table at start-up, so pricing works before the first sync."
        )

        @Option(help: "Where to write the catalogue.") var out = "sql/seed/price-catalogue.json"
        @Option(help: "Where the data came from, recorded in the catalogue (e.g. which snapshots were served).") var note: String?

        func run() async throws {
            let context = try CommandContext.make()
            let sources = try PriceSourceConfig.load(file: context.configuration.priceSourcesFile)
            let catalogue = try await PriceCatalogue.generate(sources: sources, note: note, logger: context.logger)
            let url = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try catalogue.encoded().write(to: url)
            let failed = catalogue.sources.filter { $0.status == "failed" }.map(\.name)
            let failures = failed.isEmpty ? "." : " (failed: " + failed.joined(separator: ", ") + ")."
            print("Wrote \(catalogue.prices.count) prices from \(catalogue.sources.count - failed.count) sources to \(out)" + failures)
        }
    }
}
