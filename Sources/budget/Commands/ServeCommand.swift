import ArgumentParser
import BudgetAPI
import BudgetPricing
import BudgetStore
import Foundation
import Hummingbird
import Logging
import NIOPosix
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
            try await seedPrices(endpoint: endpoint, context: context)
            // The database connections get an event loop of their own, and the group-commit leader
            // runs on it: a batch's answer is read and the next batch sent on that thread, without
            // waiting behind HTTP traffic on the server's loops or request handlers in the task pool.
            let databaseLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let client = PostgresClient(configuration: endpoint.servingClientConfiguration(poolSize: configuration.databasePoolSize),
                                        eventLoopGroup: databaseLoop, backgroundLogger: Logger(label: "BudgetStore"))
            let sources = try PriceSourceConfig.load(file: configuration.priceSourcesFile)
            let priceSync = PriceSyncJob(sources: sources, client: client, logger: Logger(label: "BudgetPricing"))
            let app = buildApplication(
                configuration: APIConfiguration(host: configuration.host, port: configuration.port,
                                                alerts: AlertConfiguration(deliverWebhooks: configuration.deliverWebhooks,
                                                                           streamAlerts: configuration.streamAlerts,
                                                                           secrets: WebhookSecrets(passphrase: configuration.secretKey,
                                                                                                   previous: configuration.previousSecretKeys)),
                                                rawRetentionMonths: configuration.rawRetentionMonths,
                                                apiKeys: APIKeys(callers: configuration.apiKeys, administrators: configuration.adminKeys)),
                client: client,
                priceSync: priceSync,
                batchExecutor: EventLoopTaskExecutor(loop: databaseLoop.next()),
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
            do {
                try await group.run()
            } catch {
                // The service group's failure is what stopped the server and what to report.
                do {
                    try await databaseLoop.shutdownGracefully()
                } catch let shutdown {
                    logger.warning("the database event loop did not shut down", metadata: ["error": "\(String(reflecting: shutdown))"])
                }
                throw error
            }
            try await databaseLoop.shutdownGracefully()
            logger.info("Budget stopped")
        }
    }

    /// A fresh install prices usage from the bundled catalogue until its first sync.
    private func seedPrices(endpoint: DatabaseEndpoint, context: CommandContext) async throws {
        let file = try SQLDirectory.locate(override: context.configuration.sqlDirectory).appendingPathComponent("seed/price-catalogue.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            context.logger.notice("no bundled price catalogue found", metadata: ["path": "\(file.path)"])
            return
        }
        let catalogue = try JSONDecoder().decode(PriceCatalogue.self, from: Data(contentsOf: file))
        let entries = String(decoding: try JSONEncoder().encode(catalogue.prices), as: UTF8.self)
        let logger = context.logger
        let written = try await context.withClient(endpoint, maximumConnections: 1) { client in
            try await PriceRepository(client: client).seedIfEmpty(catalogueEntries: entries, logger: logger)
        }
        if written > 0 {
            context.logger.info("loaded the bundled price catalogue", metadata: ["prices": "\(written)", "generated_at": "\(catalogue.generatedAt)"])
        }
    }
}
