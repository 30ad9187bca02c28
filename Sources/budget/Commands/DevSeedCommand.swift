// `budget dev seed`: synthetic usage straight into the ledger (benchmarks of reports).
import ArgumentParser
import BudgetStore
import Foundation

struct DevSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill the ledger with realistic synthetic usage (for report benchmarks; never on a production database).",
        discussion: """
            Writes --rows usage rows (origin 'dev_seed') over the --days days up to today, directly in PostgreSQL, through \
            the same rollup triggers as every write. Example: budget dev seed --rows 10000000 --days 90
            """
    )

    @Option(help: "Number of usage rows to write.") var rows = 1_000_000
    @Option(help: "Days of history, ending today (UTC).") var days = 90

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be positive") }
        guard (1...3_660).contains(days) else { throw ValidationError("--days must be between 1 and 3660") }
    }

    func run() async throws {
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let (logger, rows, days) = (context.logger, self.rows, self.days)
        let started = ContinuousClock.now
        try await context.withDatabase { endpoint in
            _ = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
            try await context.withClient(endpoint) { client in
                try await SyntheticUsage(client: client).seed(rows: rows, days: days, logger: logger) { done, total in
                    if done % 10 == 0 || done == total {
                        FileHandle.standardError.write(Data("  \(done)/\(total) days\n".utf8))
                    }
                }
            }
        }
        print("Wrote \(rows) usage rows over \(days) days in \(ContinuousClock.now - started).")
    }
}
