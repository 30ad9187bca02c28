import ArgumentParser
import BudgetAPI
import BudgetPricing
import BudgetStore
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service (migrating the database first).",
        discussion: BudgetConfiguration.environmentHelp
    )

    func run() async throws {
        let context = try CommandContext.make()
        let configuration = context.configuration
        let logger = context.logger
        let migrations = try context.migrations()
        try await context.withDatabase { endpoint in
            let report = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
            logger.info("schema ready", metadata: ["applied_now": "\(report.applied.count)", "total": "\(migrations.count)"])
            let client = PostgresClient(configuration: endpoint.clientConfiguration(maximumConnections: configuration.databasePoolSize), backgroundLogger: Logger(label: "BudgetStore"))
            let sources = try PriceSourceConfig.load(file: configuration.priceSourcesFile)
            let priceSync = PriceSyncJob(sources: sources, client: client, logger: Logger(label: "BudgetPricing"))
            let app = buildApplication(
                configuration: APIConfiguration(host: configuration.host, port: configuration.port),
                client: client,
                priceSync: priceSync,
                logger: Logger(label: "BudgetAPI")
            )
            var services: [any Service] = [app]
            if let interval = configuration.priceSyncInterval {
                services.append(PriceSyncService(job: priceSync, interval: interval, logger: Logger(label: "BudgetPricing")))
            }
            let group = ServiceGroup(configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
            logger.info("Budget listening", metadata: ["address": "http://\(configuration.host):\(configuration.port)"])
            try await group.run()
            logger.info("Budget stopped")
        }
    }
}
