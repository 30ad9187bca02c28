// Limits and their versions: create, list, change (closing the current version), delete.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct LimitRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (UUID, Int, UUID, String?, String?, String?, String?, String?, String?, String, String, Decimal, String, Decimal, Date, Date?, [String]?)
    static let selectColumns = """
        SELECT id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[] FROM limits
        """

    static func limit(from row: Row) throws -> Limit {
        guard let period = Period(rawValue: row.9), let metric = Metric(rawValue: row.10), let policy = Policy(rawValue: row.12) else {
            throw StoreError(.corrupt, "limit \(row.0) has an unknown period, metric or policy")
        }
        let thresholds = try row.16.map { texts in
            try texts.map { text in
                guard let value = Decimal(exactly: text) else { throw StoreError(.corrupt, "limit \(row.0) has a threshold '\(text)' that is not a number") }
                return value
            }
        }
        return Limit(
            id: row.0, version: row.1, budgetID: row.2,
            filter: ScopeFilter(component: row.3, provider: row.4, model: row.5, taskType: row.6, tier: row.7, tag: row.8),
            period: period, metric: metric, amount: row.11, policy: policy, warnAt: row.13, thresholds: thresholds, validFrom: row.14, validTo: row.15
        )
    }

    public func create(budgetID: UUID, filter: ScopeFilter, period: Period, metric: Metric, amount: Decimal, policy: Policy, warnAt: Decimal,
                       thresholds: [Decimal]? = nil, by actor: String?, logger: Logger) async throws -> Limit {
        let thresholdTexts = thresholds?.map(\.plainText)
        let rows = try await client.collect("""
            INSERT INTO limits (id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, thresholds, changed_by)
            SELECT gen_random_uuid(), 1, id, \(filter.component), \(filter.provider), \(filter.model), \(filter.taskType), \(filter.tier), \(filter.tag),
                   \(period.rawValue), \(metric.rawValue), \(amount), \(policy.rawValue), \(warnAt), \(thresholdTexts)::numeric[], \(actor)
            FROM budgets WHERE id = \(budgetID) AND deleted_at IS NULL
            RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
            """, logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.limit(from: row) }
        throw StoreError(.notFound, "no budget \(budgetID)")
    }

    /// Current versions of a budget's limits, or every version with `history`.
    public func list(budgetID: UUID, history: Bool, logger: Logger) async throws -> [Limit] {
        let rows = try await client.collect(PostgresQuery(
            unsafeSQL: Self.selectColumns + " WHERE budget_id = $1 AND ($2 OR valid_to IS NULL) ORDER BY valid_from, id, version",
            binds: try BudgetRepository.binds(budgetID, history)
        ), logger: logger)
        var limits: [Limit] = []
        for try await row in rows.decode(Row.self) { limits.append(try Self.limit(from: row)) }
        return limits
    }

    public func current(_ id: UUID, logger: Logger) async throws -> Limit? {
        let rows = try await client.collect(PostgresQuery(
            unsafeSQL: Self.selectColumns + " WHERE id = $1 AND valid_to IS NULL", binds: try BudgetRepository.binds(id)
        ), logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.limit(from: row) }
        return nil
    }

    /// Closes the current version and adds the next with the new amount, policy, warn_at or
    /// thresholds (`thresholds`: nil keeps them, `.some(nil)` clears them).
    public func change(_ id: UUID, amount: Decimal?, policy: Policy?, warnAt: Decimal?, thresholds: [Decimal]?? = nil,
                       by actor: String?, logger: Logger) async throws -> Limit? {
        try await client.withLiveTransaction(logger: logger) { connection in
            let closed = try await connection.query("""
                UPDATE limits SET valid_to = now(), changed_by = \(actor) WHERE id = \(id) AND valid_to IS NULL
                RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
                """, logger: logger)
            var previous: Limit?
            for try await row in closed.decode(Row.self) { previous = try Self.limit(from: row) }
            guard let previous else { return nil }
            let rows = try await connection.query("""
                INSERT INTO limits (id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, thresholds, valid_from, changed_by)
                SELECT id, version + 1, budget_id, component, provider, model, task_type, tier, tag, period, metric,
                       \(amount ?? previous.amount), \((policy ?? previous.policy).rawValue), \(warnAt ?? previous.warnAt),
                       \((thresholds ?? previous.thresholds)?.map(\.plainText))::numeric[], valid_to, \(actor)
                FROM limits WHERE id = \(id) AND version = \(previous.version)
                RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
                """, logger: logger)
            for try await row in rows.decode(Row.self) { return try Self.limit(from: row) }
            throw StoreError(.corrupt, "the next version of limit \(id) was not written")
        }
    }

    /// Closes the current version; the history stays. False when there is no current version.
    public func delete(_ id: UUID, by actor: String?, logger: Logger) async throws -> Bool {
        let rows = try await client.collect("UPDATE limits SET valid_to = now(), changed_by = \(actor) WHERE id = \(id) AND valid_to IS NULL RETURNING id", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
