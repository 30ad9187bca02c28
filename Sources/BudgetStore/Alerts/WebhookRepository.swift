// Webhooks per budget and their delivery queue/log. Deliveries are queued by a trigger on
// budget_events (sql/migrations/0015_alerts_delivery.sql) in the transaction that raised the alert.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct Webhook: Sendable, Hashable {
    public var id: UUID
    public var budgetID: UUID
    public var url: String
    public var types: [AlertType]?
    public var createdAt: Date
    public var createdBy: String?
}

/// One alert to one webhook: its state and every attempt made.
public struct WebhookDelivery: Sendable, Hashable {
    public enum Status: String, Sendable { case pending, delivered, failed, cancelled }

    public struct Attempt: Sendable, Hashable {
        public var attempt: Int
        public var attemptedAt: Date
        public var statusCode: Int?
        public var error: String?
        public var durationMilliseconds: Int?
    }

    public var id: Int64
    public var webhookID: UUID
    public var alertID: Int64
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastStatusCode: Int?
    public var lastError: String?
    public var deliveredAt: Date?
    public var createdAt: Date
    public var log: [Attempt]
}

/// A delivery a worker holds for one attempt: where to send it, and the secret to sign with.
public struct ClaimedDelivery: Sendable {
    public var id: Int64
    public var webhookID: UUID
    public var alertID: Int64
    public var attempt: Int
    public var url: String
    public var secret: String
}

public struct WebhookRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (UUID, UUID, String, [String]?, Date, String?)
    static let columns = "id, budget_id, url, types, created_at, created_by"

    static func webhook(from row: Row) throws -> Webhook {
        let types = try row.3.map { names in
            try names.map { name in
                guard let type = AlertType(rawValue: name) else { throw StoreError(.corrupt, "webhook \(row.0) has the unknown alert type '\(name)'") }
                return type
            }
        }
        return Webhook(id: row.0, budgetID: row.1, url: row.2, types: types, createdAt: row.4, createdBy: row.5)
    }

    public func create(budgetID: UUID, url: String, secret: String, types: [AlertType]?, by actor: String?, logger: Logger) async throws -> Webhook {
        let typeNames = types?.map(\.rawValue)
        let rows = try await client.collect("""
            INSERT INTO webhooks (budget_id, url, secret, types, created_by)
            SELECT id, \(url), \(secret), \(typeNames)::text[], \(actor) FROM budgets WHERE id = \(budgetID) AND deleted_at IS NULL
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.webhook(from: row) }
        throw StoreError(.notFound, "no budget \(budgetID)")
    }

    /// A budget's webhooks (nil when the budget does not exist).
    public func list(budgetID: UUID, logger: Logger) async throws -> [Webhook]? {
        let exists = try await client.collect("SELECT 1 FROM budgets WHERE id = \(budgetID) AND deleted_at IS NULL", logger: logger)
        var found = false
        for try await _ in exists { found = true }
        guard found else { return nil }
        let rows = try await client.collect("""
            SELECT \(unescaped: Self.columns) FROM webhooks WHERE budget_id = \(budgetID) AND deleted_at IS NULL ORDER BY created_at, id
            """, logger: logger)
        var hooks: [Webhook] = []
        for try await row in rows.decode(Row.self) { hooks.append(try Self.webhook(from: row)) }
        return hooks
    }

    public func get(_ id: UUID, logger: Logger) async throws -> Webhook? {
        let rows = try await client.collect("SELECT \(unescaped: Self.columns) FROM webhooks WHERE id = \(id)", logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.webhook(from: row) }
        return nil
    }

    /// Removes a webhook of a budget; its pending deliveries are cancelled. False if there is none.
    public func delete(_ id: UUID, budgetID: UUID, by actor: String?, logger: Logger) async throws -> Bool {
        try await client.withLiveTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                UPDATE webhooks SET deleted_at = now(), deleted_by = \(actor)
                WHERE id = \(id) AND budget_id = \(budgetID) AND deleted_at IS NULL RETURNING id
                """, logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { return false }
            try await connection.query("""
                UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = 'webhook deleted'
                WHERE webhook_id = \(id) AND status = 'pending'
                """, logger: logger)
            return true
        }
    }

    /// A webhook's URL and secret as stored (sealed or as given).
    public struct StoredValues: Sendable, Hashable {
        public var url: String
        public var secret: String

        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    /// Every webhook's URL and secret as stored (sealed or as given), to be sealed with the current key.
    public func storedValues(logger: Logger) async throws -> [(UUID, StoredValues)] {
        let rows = try await client.collect("SELECT id, url, secret FROM webhooks ORDER BY id", logger: logger)
        var found: [(UUID, StoredValues)] = []
        for try await (id, url, secret) in rows.decode((UUID, String, String).self) { found.append((id, StoredValues(url: url, secret: secret))) }
        return found
    }

    /// Replaces a webhook's stored URL and secret if they are still `old` (false: they changed meanwhile).
    public func replaceStored(_ id: UUID, old: StoredValues, new: StoredValues, logger: Logger) async throws -> Bool {
        let rows = try await client.collect("""
            UPDATE webhooks SET url = \(new.url), secret = \(new.secret)
            WHERE id = \(id) AND url = \(old.url) AND secret = \(old.secret) RETURNING id
            """, logger: logger)
        for try await _ in rows.decode(UUID.self) { return true }
        return false
    }

    /// Takes the next due delivery for one attempt: its attempt count goes up and it is leased for
    /// `lease` (a worker that dies mid-attempt leaves it to be retried after the lease). Rows
    /// another worker holds are skipped, so instances never send the same attempt twice.
    public func claimDue(lease: Duration, logger: Logger) async throws -> ClaimedDelivery? {
        let leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        let rows = try await client.collect("""
            UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            FROM webhooks h
            WHERE d.id = (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                          ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
              AND h.id = d.webhook_id
            RETURNING d.id, d.webhook_id, d.alert_id, d.attempts, h.url, h.secret
            """, logger: logger)
        for try await row in rows.decode((Int64, UUID, Int64, Int, String, String).self) {
            return ClaimedDelivery(id: row.0, webhookID: row.1, alertID: row.2, attempt: row.3, url: row.4, secret: row.5)
        }
        return nil
    }

    /// Records the outcome of an attempt: delivered, retried after `retryAfter`, or given up
    /// (`retryAfter` nil and not delivered). Ignored if another worker has taken the delivery since.
    public func finishAttempt(_ delivery: ClaimedDelivery, statusCode: Int?, error: String?, duration: Duration, delivered: Bool,
                              retryAfter: Duration?, logger: Logger) async throws {
        let status: WebhookDelivery.Status = delivered ? .delivered : (retryAfter == nil ? .failed : .pending)
        let retrySeconds = retryAfter.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        let milliseconds = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        try await client.withLiveTransaction(logger: logger) { connection in
            try await connection.query("""
                INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status_code, error, duration_ms)
                VALUES (\(delivery.id), \(delivery.attempt), \(statusCode), \(error), \(milliseconds))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.query("""
                UPDATE webhook_deliveries
                SET status = \(status.rawValue), last_status_code = \(statusCode), last_error = \(error),
                    delivered_at = CASE WHEN \(delivered) THEN now() END,
                    next_attempt_at = CASE WHEN \(retrySeconds)::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => \(retrySeconds)::float8) END
                WHERE id = \(delivery.id) AND attempts = \(delivery.attempt) AND status = 'pending'
                """, logger: logger)
        }
    }

    /// A webhook's deliveries, newest first, each with its attempts (the delivery log).
    public func deliveries(webhookID: UUID, before: Int64?, limit: Int, logger: Logger) async throws -> [WebhookDelivery] {
        let rows = try await client.collect("""
            SELECT id, webhook_id, alert_id, status, attempts, next_attempt_at, last_status_code, last_error, delivered_at, created_at
            FROM webhook_deliveries
            WHERE webhook_id = \(webhookID) AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var deliveries: [WebhookDelivery] = []
        for try await row in rows.decode((Int64, UUID, Int64, String, Int, Date?, Int?, String?, Date?, Date).self) {
            guard let status = WebhookDelivery.Status(rawValue: row.3) else { throw StoreError(.corrupt, "delivery \(row.0) has the status '\(row.3)'") }
            deliveries.append(WebhookDelivery(id: row.0, webhookID: row.1, alertID: row.2, status: status, attempts: row.4, nextAttemptAt: row.5,
                                              lastStatusCode: row.6, lastError: row.7, deliveredAt: row.8, createdAt: row.9, log: []))
        }
        guard !deliveries.isEmpty else { return [] }
        let ids = deliveries.map(\.id)
        let attempts = try await client.collect("""
            SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms FROM webhook_delivery_attempts
            WHERE delivery_id = ANY (\(ids)) ORDER BY delivery_id, attempt
            """, logger: logger)
        var log: [Int64: [WebhookDelivery.Attempt]] = [:]
        for try await row in attempts.decode((Int64, Int, Date, Int?, String?, Int?).self) {
            log[row.0, default: []].append(.init(attempt: row.1, attemptedAt: row.2, statusCode: row.3, error: row.4, durationMilliseconds: row.5))
        }
        for index in deliveries.indices { deliveries[index].log = log[deliveries[index].id] ?? [] }
        return deliveries
    }
}
