// Background upkeep while Budget serves: releases expired reservations every few seconds and
// keeps the ledger's monthly partitions created ahead.
import Foundation
import Logging
import ServiceLifecycle

public struct MaintenanceService: Service {
    let engine: BudgetEngine
    let interval: Duration
    let logger: Logger

    public init(engine: BudgetEngine, interval: Duration, logger: Logger) {
        self.engine = engine
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Cancelled (not merely asked) at shutdown: a chore stuck waiting for an absent database
        // must not hold the process up.
        try await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    private func loop() async {
        var lastPartitionCheck: ContinuousClock.Instant?
        while !Task.isCancelled {
            // Each chore fails on its own (the database may be briefly away); the next round retries.
            if lastPartitionCheck.map({ ContinuousClock.now - $0 > .seconds(3600) }) ?? true {
                do {
                    try await engine.store.ensurePartitions(monthsAhead: 3, logger: logger)
                    lastPartitionCheck = .now
                } catch {
                    logger.warning("could not create ledger partitions ahead", metadata: ["error": "\(String(reflecting: error))"])
                }
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
            // Cancellation (shutdown) ends the sleep early; the loop condition then stops the service.
            try? await Task.sleep(for: interval)
        }
    }
}
