// `budget reprice`: price usage that was recorded as unpriced, now that prices are known.
import ArgumentParser
import BudgetAPI
import BudgetCore
import BudgetStore
import Foundation
import Logging
import PostgresNIO

struct RepriceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprice",
        abstract: "Price unpriced usage (or usage priced by a wrong price version) with current prices, and count the difference in its dollar limits.",
        discussion: "Each record is repriced once, however often this runs. Uses BUDGET_DATABASE_URL or the private PostgreSQL."
    )

    @Option(help: "Start of the range (ISO 8601, inclusive).") var from: String
    @Option(help: "End of the range (ISO 8601, exclusive).") var to: String
    @Option(name: .customLong("price-version"), help: "Also reprice records priced by this price version (its id), e.g. one found wrong.")
    var priceVersion: String?
    @Flag(help: "Report what would be repriced without changing anything.") var dryRun = false

    func run() async throws {
        guard let start = InstantFormat.parse(from) else { throw ValidationError("--from must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z") }
        guard let end = InstantFormat.parse(to), end > start else { throw ValidationError("--to must be an ISO 8601 time after --from") }
        let wrongVersion = try priceVersion.map { text -> UUID in
            guard let id = UUID(text: text) else { throw ValidationError("--price-version must be a price id (UUID)") }
            return id
        }
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let report = try await context.withDatabase { endpoint in
            _ = try await MigrationRunner(migrations: migrations, logger: context.logger).run(on: endpoint)
            let (logger, dryRun) = (context.logger, self.dryRun)
            return try await context.withClient(endpoint) { client in
                let engine = BudgetEngine(client: client, logger: logger, naming: .canonicalNames)
                return try await engine.reprice(from: start, to: end, wrongVersion: wrongVersion, dryRun: dryRun, logger: logger)
            }
        }
        let kind = wrongVersion == nil ? "unpriced" : "selected"
        print("\(dryRun ? "Would reprice" : "Repriced") \(report.repriced) of \(report.examined) \(kind) record(s); \(report.stillUnpriced) left as they were (no current price, or already at it).")
        for line in report.lines {
            print("  \(line.provider)/\(line.model): \(line.records) record(s), \(line.cost.plainText) USD")
        }
        if !report.lines.isEmpty { print("  total: \(report.totalCost.plainText) USD") }
    }
}
