import ArgumentParser
import BudgetStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (sql/migrations) to the database.",
        discussion: "Safe to run at any time: applied migrations are skipped, and concurrent runs wait for each other."
    )

    func run() async throws {
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let report = try await context.withDatabase { endpoint in
            try await MigrationRunner(migrations: migrations, logger: context.logger).run(on: endpoint)
        }
        if report.applied.isEmpty {
            print("Schema is up to date (\(report.alreadyApplied.count) migrations applied before).")
        } else {
            print("Applied \(report.applied.count) migration(s): \(report.applied.map(String.init).joined(separator: ", ")).")
        }
    }
}
