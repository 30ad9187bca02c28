// `budget db partitions`: the ledger's monthly partitions (report.ledger_partitions).
import ArgumentParser
import BudgetCore
import BudgetStore
import Foundation

struct DatabasePartitionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "List the ledger's partitions: UTC range, estimated rows, size (and those dropped for retention).",
        discussion: "The same as: psql \"$(budget db url)\" -c 'SELECT * FROM report.ledger_partitions'"
    )

    func run() async throws {
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let logger = context.logger
        let partitions = try await context.withDatabase { endpoint in
            _ = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
            return try await context.withClient(endpoint) { client in
                try await ReportRepository(client: client).partitions(logger: logger)
            }
        }
        var table = TextTable(["partition", "from (UTC)", "to (UTC)", "rows (estimate)", "size"])
        for partition in partitions {
            table.append([
                partition.name, partition.rangeFrom.map(InstantFormat.string) ?? (partition.isDefault ? "(default)" : "-"),
                partition.rangeTo.map(InstantFormat.string) ?? "-", partition.rowEstimate.map(String.init) ?? "not analysed",
                partition.totalSize,
            ])
        }
        print(table.render())
    }
}
