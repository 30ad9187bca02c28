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
                do {
                    try await engine.store.ensurePartitions(monthsAhead: 3, logger: logger)
                    lastPartitionCheck = .now
                } catch {
                    logger.warning("could not create ledger partitions ahead", metadata: ["error": "\(String(reflecting: error))"])
                }
                await ledgerUpkeep()
            }
            do {
                try await ReportRepository(client: engine.store.client).foldRollups(logger: logger)
            } catch {
                logger.warning("could not fold the rollup deltas", metadata: ["error": "\(String(reflecting: error))"])
            }
            do {
                var expired = 0
                repeat {
                    expired = try await engine.store.expireAllocations(logger: logger)
                    if expired > 0 { logger.info("released expired reservations", metadata: ["count": "\(expired)"]) }
                } while expired == 500
            } catch {
                logger.warning("could not release expired reservations", metadata: ["error": "\(String(reflecting: error))"])
            }
            await repriceUnpricedIfCatalogMoved(since: &repricedAt)
            // Cancellation (shutdown) ends the sleep early; the loop condition then stops the service.
            try? await Task.sleep(for: interval)
        }
    }

    /// Usage recorded as unpriced counts as nothing in dollar limits until it has a price. Any
    /// change of the catalog (a price set here, by another instance, by a sync or the CLI; an
    /// alias) moves its generation; then the unpriced usage of every model that has a price now is
    /// priced and counted in its dollar windows. Each record is priced once, whichever instance
    /// gets to it first (budget_reprice checks every row's state under lock).
    private func repriceUnpricedIfCatalogMoved(since done: inout Int64?) async {
        do {
            let generation = try await engine.store.catalogGeneration(logger: logger)
            guard generation != done else { return }
            let report = try await engine.repriceUnpriced(catalogGeneration: generation, logger: logger)
            if report.repriced > 0 {
                logger.notice("priced usage recorded as unpriced", metadata: [
                    "records": "\(report.repriced)", "cost_usd": "\(report.totalCost.plainText)",
                    "models": "\(report.lines.map { "\($0.provider)/\($0.model)" })",
                ])
            }
            done = generation
        } catch where !Task.isCancelled {
            logger.warning("could not price unpriced usage", metadata: ["error": "\(String(reflecting: error))"])
        } catch {
            // Shutting down: the next start makes the pass again.
        }
    }

    /// Hourly: rows in the default partition get their month's partition; old raw partitions go.
    private func ledgerUpkeep() async {
        let reports = ReportRepository(client: engine.store.client)
        do {
            let settled = try await reports.settleDefaultPartition(monthsAhead: 3, logger: logger)
            if !settled.isEmpty { logger.info("moved rows out of the default partition", metadata: ["partitions": "\(settled)"]) }
        } catch {
            logger.warning("could not settle the default partition", metadata: ["error": "\(String(reflecting: error))"])
        }
        guard let months = rawRetentionMonths else { return }
        do {
            let dropped = try await reports.dropRawPartitions(keepMonths: months, logger: logger)
            if !dropped.isEmpty { logger.notice("dropped raw ledger partitions (rollups keep their usage)", metadata: ["partitions": "\(dropped)"]) }
        } catch {
            logger.warning("could not drop old raw partitions", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
