// Scheduled price syncs inside `budget serve`: every interval (with jitter, so instances started
// together do not fetch together); the advisory lock lets one instance sync at a time, and each
// source is fetched only when its own refresh interval has passed.
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

public struct PriceSyncService: Service {
    let job: PriceSyncJob
    let interval: Duration
    let logger: Logger

    public init(job: PriceSyncJob, interval: Duration, logger: Logger) {
        self.job = job
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // A first sync soon after start-up, then every interval ± 10%.
            var wait: Duration = .seconds(Int.random(in: 5...30))
            while !Task.isCancelled {
                try? await Task.sleep(for: wait)
                guard !Task.isCancelled else { return }
                do {
                    if let summary = try await job.run(dryRun: false, onlyDue: true) {
                        logger.info("price sync finished", metadata: [
                            "run": "\(summary.runID)", "status": "\(summary.status)", "changed": "\(summary.plan.changes.count)",
                            "conflicts": "\(summary.plan.conflicts.count)",
                        ])
                    }
                } catch {
                    logger.error("price sync failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                let seconds = Double(interval.components.seconds)
                wait = .seconds(Int(seconds * Double.random(in: 0.9...1.1)))
            }
        }
    }
}
