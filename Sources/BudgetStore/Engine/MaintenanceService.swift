// Background upkeep while Budget serves: releases expired reservations every few seconds and
// keeps the ledger's monthly partitions created ahead; folds the rollup deltas, settles rows
// waiting in the default partition and (with a retention) drops old raw partitions; prices
// unpriced usage once its model has a price.
import BudgetCore
import Foundation
import Logging
import ServiceLifecycle

public struct MaintenanceService: Service {
    let engine: BudgetEngine
    let interval: Duration
    let logger: Logger
    /// BUDGET_RAW_RETENTION_MONTHS: raw partitions older than this many months are dropped (nil: never).
    let rawRetentionMonths: Int?

    public init(engine: BudgetEngine, interval: Duration, logger: Logger, rawRetentionMonths: Int? = nil) {
        self.engine = engine
        self.interval = interval
        self.logger = logger
        self.rawRetentionMonths = rawRetentionMonths
    }

    public func run() async throws {
        // Cancelled (not merely asked) at shutdown: a chore stuck waiting for an absent database
        // must not hold the process up.
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    private func loop() async {
        var lastPartitionCheck: ContinuousClock.Instant?
        // The catalog generation of the last complete pass over unpriced usage (nil: none yet).
        var repricedAt: Int64?
        while !Task.isCancelled {
            // Each chore fails on its own (the database may be briefly away); the next round retries.
            if lastPartitionCheck.map({ ContinuousClock.now - $0 > .seconds(3600) }) ?? true {
                await chore("could not create ledger partitions ahead") {
                    try await engine.store.ensurePartitions(monthsAhead: 3, logger: logger)
                    lastPartitionCheck = .now
                }
                await ledgerUpkeep()
            }
            await chore("could not fold the rollup deltas") {
                try await ReportRepository(client: engine.store.client).foldRollups(logger: logger)
            }
            await chore("could not release expired reservations") {
                var expired = 0
                repeat {
                    expired = try await engine.store.expireAllocations(logger: logger)
                    if expired > 0 { logger.info("released expired reservations", metadata: ["count": "\(expired)"]) }
                } while expired == 500
            }
            await chore("could not price unpriced usage") {
                try await repriceUnpricedIfCatalogMoved(since: &repricedAt)
            }
            // Cancellation (shutdown) ends the sleep early; the loop condition then stops the service.
            try? await Task.sleep(for: interval)
        }
    }

    /// Runs one chore. A failure is logged, and the next round tries again; a chore cut short
    /// because the service is stopping is not a failure, and says nothing.
    private func chore(_ failure: Logger.Message, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch where Task.isCancelled {
            return
        } catch {
            logger.warning(failure, metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Usage recorded as unpriced counts as nothing in dollar limits until it has a price. Any
    /// change of the catalog (a price set here, by another instance, by a sync or the CLI; an
    /// alias) moves its generation; then the unpriced usage of every model that has a price now is
    /// priced and counted in its dollar windows. Each record is priced once, whichever instance
    /// gets to it first (budget_reprice checks every row's state under lock).
    private func repriceUnpricedIfCatalogMoved(since done: inout Int64?) async throws {
        let generation = try await CatalogRepository(client: engine.store.client).generation(logger: logger)
        guard generation != done else { return }
        let report = try await engine.repriceUnpriced(catalogGeneration: generation, logger: logger)
        if report.repriced > 0 {
            logger.notice("priced usage recorded as unpriced", metadata: [
                "records": "\(report.repriced)", "cost_usd": "\(report.totalCost.plainText)",
                "models": "\(report.lines.map { "\($0.provider)/\($0.model)" })",
            ])
        }
        done = generation
    }

    /// Hourly: rows in the default partition get their month's partition; old raw partitions go.
    private func ledgerUpkeep() async {
        let reports = ReportRepository(client: engine.store.client)
        await chore("could not settle the default partition") {
            let settled = try await reports.settleDefaultPartition(monthsAhead: 3, logger: logger)
            if !settled.isEmpty { logger.info("moved rows out of the default partition", metadata: ["partitions": "\(settled)"]) }
        }
        guard let months = rawRetentionMonths else { return }
        await chore("could not drop old raw partitions") {
            let dropped = try await reports.dropRawPartitions(keepMonths: months, logger: logger)
            if !dropped.isEmpty { logger.notice("dropped raw ledger partitions (rollups keep their usage)", metadata: ["partitions": "\(dropped)"]) }
        }
    }
}
