// `budget import apollo-policies FILE.json`: Apollo's budget_policies.json as limits of the `apollo` budget.
import ArgumentParser
import BudgetImport
import BudgetStore
import Foundation
import Logging
import PostgresNIO

struct ImportApolloPoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apollo-policies",
        abstract: "Import Apollo's budget_policies.json as token limits of the budget named 'apollo'.",
        discussion: """
            Each Apollo policy becomes a limit (metric tokens, filter tier [+ component, task_type], its period); \
            ignore→ignore, warn→warn, soft_limit→warn, hard_limit→enforce. Upserted by policy_id: importing the same \
            file again changes nothing. Uses BUDGET_DATABASE_URL or the private PostgreSQL.
            """
    )

    @Argument(help: "The policy file ($TEKTON_DATA_DIR/apollo/budget_data/budget_policies.json).") var file: String

    func run() async throws {
        // Refuse a file that is not a policy file before touching the database.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ImportError(.unreadableFile, "cannot read \(file): \(error.localizedDescription)")
        }
        _ = try ApolloPolicyImporter.parse(data, name: file)   // an ImportError says what is wrong with it
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let (file, logger) = (self.file, context.logger)
        let report = try await context.withDatabase { endpoint in
            _ = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
            return try await context.withClient(endpoint) { client in
                try await ApolloPolicyImporter(client: client).importFile(at: file, logger: logger)
            }
        }
        let s = report.summary
        print("Imported \(report.policies) Apollo polic\(report.policies == 1 ? "y" : "ies") into budget 'apollo': \(s.created) created, \(s.updated) updated, \(s.unchanged) unchanged.")
        if s.defaultsRetired > 0 { print("Retired \(s.defaultsRetired) default polic\(s.defaultsRetired == 1 ? "y" : "ies") seeded by the compatibility API (the file replaces them, as in Apollo).") }
    }
}
