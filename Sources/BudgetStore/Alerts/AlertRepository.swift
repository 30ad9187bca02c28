// Alerts (the rows of budget_events): list with filters, fetch, acknowledge, and replay after an
// id for streams resumed with Last-Event-ID.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct AlertRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (Int64, String, UUID?, UUID?, String?, String?, Int64, Date, Date, Date?, String?, String)
    static let columns = """
        id, type, limit_id, budget_id, window_key, threshold::text, occurrences, first_at, last_at, acknowledged_at, acknowledged_by, details::text
        """

    static func alert(from row: Row) throws -> Alert {
        guard let type = AlertType(rawValue: row.1) else { throw StoreError(.corrupt, "alert \(row.0) has the unknown type '\(row.1)'") }
        let threshold = try row.5.map { text in
            guard let value = Decimal(exactly: text) else { throw StoreError(.corrupt, "alert \(row.0) has a threshold '\(text)' that is not a number") }
            return value
        }
        let details: JSONValue
        do {
            details = try JSONDecoder().decode(JSONValue.self, from: Data(row.11.utf8))
        } catch {
            throw StoreError(.corrupt, "alert \(row.0) has details that are not JSON: \(error)")
        }
        return Alert(id: row.0, type: type, limitID: row.2, budgetID: row.3, windowKey: row.4, threshold: threshold, occurrences: row.6,
                     firstAt: row.7, lastAt: row.8, acknowledgedAt: row.9, acknowledgedBy: row.10, details: details)
    }

    /// Newest first; `before` is the id the previous page ended at.
    public func list(_ filter: AlertFilter, before: Int64?, limit: Int, logger: Logger) async throws -> [Alert] {
        let types = filter.types?.map(\.rawValue)
        let rows = try await client.collect("""
            SELECT \(unescaped: Self.columns) FROM budget_events
            WHERE (\(types)::text[] IS NULL OR type = ANY (\(types)::text[]))
              AND (\(filter.budgetID)::uuid IS NULL OR budget_id = \(filter.budgetID))
              AND (\(filter.limitID)::uuid IS NULL OR limit_id = \(filter.limitID))
              AND (\(filter.acknowledged)::boolean IS NULL OR (acknowledged_at IS NOT NULL) = \(filter.acknowledged))
              AND (\(filter.since)::timestamptz IS NULL OR last_at >= \(filter.since))
              AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var alerts: [Alert] = []
        for try await row in rows.decode(Row.self) { alerts.append(try Self.alert(from: row)) }
        return alerts
    }

    public func get(_ id: Int64, logger: Logger) async throws -> Alert? {
        let rows = try await client.collect("SELECT \(unescaped: Self.columns) FROM budget_events WHERE id = \(id)", logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.alert(from: row) }
        return nil
    }

    /// Alerts raised after `id`, oldest first (what a stream resumed at `id` missed).
    public func after(_ id: Int64, limit: Int, logger: Logger) async throws -> [Alert] {
        let rows = try await client.collect("""
            SELECT \(unescaped: Self.columns) FROM budget_events WHERE id > \(id) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var alerts: [Alert] = []
        for try await row in rows.decode(Row.self) { alerts.append(try Self.alert(from: row)) }
        return alerts
    }

    /// Marks an alert acknowledged. Acknowledging again keeps the first acknowledgement (who and
    /// when). Nil when there is no such alert.
    public func acknowledge(_ id: Int64, by actor: String?, logger: Logger) async throws -> Alert? {
        let rows = try await client.collect("""
            UPDATE budget_events
            SET acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN \(actor) ELSE acknowledged_by END,
                acknowledged_at = coalesce(acknowledged_at, now())
            WHERE id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.alert(from: row) }
        return nil
    }
}
