// Fans alerts out to this instance's Server-Sent Events subscribers. Alerts reach it from
// PostgreSQL (LISTEN budget_alerts, see AlertStreamService), so a subscriber sees the alerts every
// Budget instance raises, not only this one's.
import BudgetCore
import BudgetStore
import Foundation
import Logging

/// What a stream subscriber receives.
enum AlertStreamEvent: Sendable {
    case alert(Alert)
    /// Time to write a keep-alive comment (also how a gone client is noticed).
    case heartbeat
}

actor AlertHub {
    private struct Subscriber {
        var filter: AlertFilter
        var continuation: AsyncStream<AlertStreamEvent>.Continuation
    }

    private let repository: AlertRepository
    private let logger: Logger
    private var subscribers: [UUID: Subscriber] = [:]
    /// The highest alert id published, for catching up after the LISTEN connection was lost.
    private var highestPublished: Int64?

    init(repository: AlertRepository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    var subscriberCount: Int { subscribers.count }

    func subscribe(_ filter: AlertFilter, continuation: AsyncStream<AlertStreamEvent>.Continuation) -> UUID {
        let id = UUID()
        subscribers[id] = Subscriber(filter: filter, continuation: continuation)
        return id
    }

    func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
    }

    /// Ends every stream (shutdown).
    func finishAll() {
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers.removeAll()
    }

    func heartbeat() {
        for subscriber in subscribers.values { subscriber.continuation.yield(.heartbeat) }
    }

    /// A notification named alert `id`: fetch it once and hand it to every matching subscriber.
    func notified(alertID id: Int64) async {
        highestPublished = max(highestPublished ?? id, id)
        guard !subscribers.isEmpty else { return }
        do {
            guard let alert = try await repository.get(id, logger: logger) else {
                logger.warning("notified of an alert that does not exist", metadata: ["alert_id": "\(id)"])
                return
            }
            publish(alert)
        } catch {
            logger.error("could not load a notified alert", metadata: ["alert_id": "\(id)", "error": "\(String(reflecting: error))"])
        }
    }

    /// After LISTEN was (re-)established: alerts raised while it was down are published now.
    func listening() async {
        guard let since = highestPublished, !subscribers.isEmpty else { return }
        do {
            let missed = try await repository.after(since, limit: 1000, logger: logger)
            for alert in missed {
                highestPublished = max(highestPublished ?? alert.id, alert.id)
                publish(alert)
            }
        } catch {
            logger.error("could not catch up on alerts after reconnecting", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func publish(_ alert: Alert) {
        for subscriber in subscribers.values where subscriber.filter.matches(alert) {
            subscriber.continuation.yield(.alert(alert))
        }
    }
}
