// Keeps one connection LISTENing on channel `budget_alerts` (a trigger on budget_events notifies
// it with the id of each newly raised alert) and feeds the hub; sends the hub's heartbeats.
// A lost connection is re-established with backoff, and alerts raised meanwhile are caught up.
import BudgetStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

struct AlertStreamService: Service {
    static let channel = "budget_alerts"

    let client: PostgresClient
    let hub: AlertHub
    let heartbeatInterval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await listenLoop() }
                group.addTask { await heartbeatLoop() }
                await group.waitForAll()
            }
        }
        await hub.finishAll()
    }

    private func listenLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await client.withLiveConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        failures = 0
                        await hub.listening()
                        for try await notification in notifications {
                            guard let id = Int64(notification.payload) else {
                                logger.warning("ignored a notification that is not an alert id", metadata: ["payload": "\(notification.payload)"])
                                continue
                            }
                            await hub.notified(alertID: id)
                        }
                    }
                }
                if Task.isCancelled { return }
                logger.warning("the alert notification stream ended; listening again")
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.warning("listening for alerts failed; retrying", metadata: ["error": "\(String(reflecting: error))", "failures": "\(failures)"])
            }
            // 0.5 s, 1 s, 2 s … up to 30 s between attempts.
            let delay = min(30.0, 0.5 * pow(2.0, Double(min(failures, 6))))
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatInterval)
            if Task.isCancelled { return }
            await hub.heartbeat()
        }
    }
}
