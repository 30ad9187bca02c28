// Audited window resets (sql/migrations/0009_window_resets.sql): record one, read them back.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct WindowResetRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (UUID, UUID, String?, UUID?, Date, String?, String?)
    static let columns = "id, budget_id, period, limit_id, reset_at, reset_by, reason"

    static func reset(from row: Row) throws -> WindowReset {
        var period: Period?
        if let raw = row.2 {
            guard let parsed = Period(rawValue: raw) else { throw StoreError(.corrupt, "window reset \(row.0) has an unknown period \(raw)") }
            period = parsed
        }
        // Whole milliseconds (budget_reset_window takes them so), as the same Date a usage instant
        // of that millisecond is (InstantFormat.wholeMilliseconds): a call stamped at the reset's
        // millisecond falls after it.
        return WindowReset(id: row.0, budgetID: row.1, period: period, limitID: row.3, resetAt: InstantFormat.wholeMilliseconds(row.4),
                           resetBy: row.5, reason: row.6)
    }

    /// Every reset of live budgets (the catalog holds them; there are few).
    static func all(on connection: PostgresConnection, logger: Logger) async throws -> [WindowReset] {
        var resets: [WindowReset] = []
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT \(columns) FROM window_resets r
            WHERE EXISTS (SELECT 1 FROM budgets b WHERE b.id = r.budget_id AND b.deleted_at IS NULL)
            ORDER BY reset_at
            """), logger: logger)
        for try await row in rows.decode(Row.self) { resets.append(try reset(from: row)) }
        return resets
    }

    /// Starts the windows of `period` in a budget again now (or of one limit), and says who and why.
    /// Only time periods can be reset: session and task windows are keyed by their ids.
    public func reset(budgetID: UUID, period: Period?, limitID: UUID?, by actor: String?, reason: String?, logger: Logger) async throws -> WindowReset {
        precondition(period != nil || limitID != nil, "a reset names a period or a limit")
        precondition(period?.isTimePeriod ?? true, "only time windows can be reset")
        do {
            let reset = try await client.withRows("""
                SELECT r.id, r.budget_id, r.period, r.limit_id, r.reset_at, r.reset_by, r.reason
                FROM budget_reset_window(\(budgetID), \(period?.rawValue), \(limitID), \(actor), \(reason)) r
                """, logger: logger) { rows -> WindowReset? in
                for try await row in rows.decode(Row.self) { return try Self.reset(from: row) }
                return nil
            }
            if let reset { return reset }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw StoreError(.notFound, "no budget \(budgetID)")
        }
        throw StoreError(.corrupt, "budget_reset_window returned no row")
    }

    /// The resets of a budget, newest first; `before` is the (reset_at, id) of the last one of
    /// the previous page.
    public func list(budgetID: UUID, before: (Date, UUID)? = nil, limit: Int = 100, logger: Logger) async throws -> [WindowReset] {
        var resets: [WindowReset] = []
        let (beforeAt, beforeID) = (before?.0, before?.1)
        let rows = try await client.collect("""
            SELECT id, budget_id, period, limit_id, reset_at, reset_by, reason FROM window_resets
            WHERE budget_id = \(budgetID)
              AND (\(beforeAt)::timestamptz IS NULL OR (reset_at, id) < (\(beforeAt), \(beforeID)))
            ORDER BY reset_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        for try await row in rows.decode(Row.self) { resets.append(try Self.reset(from: row)) }
        return resets
    }
}
