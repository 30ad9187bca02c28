// The SQL behind the Rhetor compatibility API: its budget, its per-period limits (as versions of
// Budget limits), the ledger sums of Rhetor's usage summary, and allocations by request id.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct RhetorCompatRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    // MARK: the budget

    /// The live budget named `name`, created (in UTC) when missing. Safe against concurrent
    /// first uses: the unique index on live names makes one of them win, and the loser reads the
    /// winner's row on its second try. (Every INSERT statement moves the catalog generation, so
    /// callers look in their catalog first and come here only when the budget is missing.)
    public func ensureBudget(named name: String, logger: Logger) async throws -> Budget {
        for _ in 0..<2 {
            if let budget = try await insertOrFind(name, logger: logger) { return budget }
        }
        throw StoreError(.corrupt, "the budget '\(name)' was neither found nor created")
    }

    private func insertOrFind(_ name: String, logger: Logger) async throws -> Budget? {
        let rows = try await client.collect("""
            WITH created AS (
                INSERT INTO budgets (name, description, timezone)
                SELECT \(name), 'Rhetor''s budget (compatibility API)', 'UTC'
                WHERE NOT EXISTS (SELECT 1 FROM budgets WHERE lower(name) = lower(\(name)) AND deleted_at IS NULL)
                ON CONFLICT (lower(name)) WHERE deleted_at IS NULL DO NOTHING
                RETURNING id, name, owner, description, timezone, active, created_at, updated_at
            )
            SELECT id, name, owner, description, timezone, active, created_at, updated_at FROM created
            UNION ALL
            SELECT id, name, owner, description, timezone, active, created_at, updated_at FROM budgets
            WHERE lower(name) = lower(\(name)) AND deleted_at IS NULL
            LIMIT 1
            """, logger: logger)
        for try await row in rows.decode(BudgetRepository.Row.self) { return BudgetRepository.budget(row) }
        return nil
    }

    // MARK: limits

    /// What a Rhetor limit change did: the version it closed and the one it added (either may be nil).
    public struct LimitChange: Sendable {
        public var closed: Limit?
        public var current: Limit?
    }

    /// Closes the current version of the budget's dollar limit for (`period`, `provider`) and adds
    /// the next with `amount` (a new limit when there was none); `amount` 0 only closes it (Rhetor's
    /// "no limit"). The policy is `policy`, else the current version's, else `defaultPolicy`.
    /// Changes of one (budget, period, provider) are serialised, so two callers never add two limits.
    public func setLimit(budgetID: UUID, period: Period, provider: String?, amount: Decimal, policy: Policy?, defaultPolicy: Policy,
                         by actor: String?, logger: Logger) async throws -> LimitChange {
        try await client.withLiveTransaction(logger: logger) { connection in
            let closed = try await Self.closeCurrent(connection, budgetID: budgetID, period: period, provider: provider, actor: actor, logger: logger)
            guard amount > 0 else { return LimitChange(closed: closed, current: nil) }
            let newPolicy = (policy ?? closed?.policy ?? defaultPolicy).rawValue
            let rows: PostgresRowSequence
            if let closed {
                rows = try await connection.query("""
                    INSERT INTO limits (id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, thresholds, valid_from, changed_by)
                    SELECT id, version + 1, budget_id, component, provider, model, task_type, tier, tag, period, metric,
                           \(amount), \(newPolicy), warn_at, thresholds, valid_to, \(actor)
                    FROM limits WHERE id = \(closed.id) AND version = \(closed.version)
                    RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
                    """, logger: logger)
            } else {
                rows = try await connection.query("""
                    INSERT INTO limits (id, version, budget_id, provider, period, metric, amount, policy, changed_by)
                    VALUES (gen_random_uuid(), 1, \(budgetID), \(provider), \(period.rawValue), 'cost_usd', \(amount), \(newPolicy), \(actor))
                    RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
                    """, logger: logger)
            }
            for try await row in rows.decode(LimitRepository.Row.self) {
                return LimitChange(closed: closed, current: try LimitRepository.limit(from: row))
            }
            throw StoreError(.corrupt, "the new version of the \(period.rawValue) limit was not written")
        }
    }

    /// A new version of the current limit for (`period`, `provider`) with `policy`; nil when there is none.
    public func setPolicy(budgetID: UUID, period: Period, provider: String?, policy: Policy, by actor: String?, logger: Logger) async throws -> LimitChange? {
        try await client.withLiveTransaction(logger: logger) { connection in
            guard let closed = try await Self.closeCurrent(connection, budgetID: budgetID, period: period, provider: provider, actor: actor, logger: logger) else {
                return nil
            }
            let rows = try await connection.query("""
                INSERT INTO limits (id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, thresholds, valid_from, changed_by)
                SELECT id, version + 1, budget_id, component, provider, model, task_type, tier, tag, period, metric,
                       amount, \(policy.rawValue), warn_at, thresholds, valid_to, \(actor)
                FROM limits WHERE id = \(closed.id) AND version = \(closed.version)
                RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
                """, logger: logger)
            for try await row in rows.decode(LimitRepository.Row.self) {
                return LimitChange(closed: closed, current: try LimitRepository.limit(from: row))
            }
            throw StoreError(.corrupt, "the new version of the \(period.rawValue) limit was not written")
        }
    }

    /// Locks (budget, period, provider) for the transaction and closes the current version of
    /// its Rhetor-shaped limit (a dollar limit filtering on nothing but the provider), if any.
    private static func closeCurrent(_ connection: PostgresConnection, budgetID: UUID, period: Period, provider: String?, actor: String?,
                                     logger: Logger) async throws -> Limit? {
        let lockKey = "rhetor-limit:\(budgetID.lowercasedText):\(period.rawValue):\(provider ?? "*")"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))", logger: logger)
        let rows = try await connection.query("""
            UPDATE limits SET valid_to = now(), changed_by = \(actor)
            WHERE (id, version) = (
                SELECT id, version FROM limits
                WHERE budget_id = \(budgetID) AND valid_to IS NULL AND period = \(period.rawValue) AND metric = 'cost_usd'
                  AND provider IS NOT DISTINCT FROM \(provider)
                  AND component IS NULL AND model IS NULL AND task_type IS NULL AND tier IS NULL AND tag IS NULL
                ORDER BY valid_from, id LIMIT 1)
            RETURNING id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, valid_from, valid_to, thresholds::text[]
            """, logger: logger)
        var closed: Limit?
        for try await row in rows.decode(LimitRepository.Row.self) { closed = try LimitRepository.limit(from: row) }
        return closed
    }

    // MARK: the ledger

    /// Rhetor's `group_by` values and the ledger column each groups on.
    public enum GroupBy: String, Sendable, CaseIterable {
        case provider, model, component
        case taskType = "task_type"
    }

    /// One group of a usage summary (or the total): priced cost, how many calls had no price
    /// (their cost is unknown, so `cost` is a lower bound when `unpriced` > 0), tokens, calls.
    public struct UsageGroup: Sendable, Hashable {
        public var key: String?
        public var cost: Decimal
        public var unpriced: Int64
        public var inputTokens: Int64
        public var outputTokens: Int64
        public var count: Int64
    }

    /// Ledger sums in [`from`, `to`) grouped by `groupBy` (all usage in Budget's ledger, as Rhetor
    /// summed all of its own). Input tokens include cache reads and writes (Rhetor knew only input).
    public func usageSummary(from: Date, to: Date, groupBy: GroupBy, provider: String?, logger: Logger) async throws -> [UsageGroup] {
        let rows = try await client.collect("""
            SELECT CASE \(groupBy.rawValue) WHEN 'provider' THEN provider WHEN 'model' THEN model
                                            WHEN 'component' THEN component ELSE task_type END AS key,
                   coalesce(sum(cost_usd), 0), count(*) FILTER (WHERE pricing_status = 'unpriced'),
                   coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens), 0)::bigint,
                   coalesce(sum(output_tokens), 0)::bigint, count(*)
            FROM usage_records
            WHERE occurred_at >= \(from) AND occurred_at < \(to) AND (\(provider)::text IS NULL OR provider_key = \(provider))
            GROUP BY 1 ORDER BY 1 NULLS LAST
            """, logger: logger)
        var groups: [UsageGroup] = []
        for try await (key, cost, unpriced, input, output, count) in rows.decode((String?, Decimal, Int64, Int64, Int64, Int64).self) {
            groups.append(UsageGroup(key: key, cost: cost, unpriced: unpriced, inputTokens: input, outputTokens: output, count: count))
        }
        return groups
    }

    /// Dollars spent in each window [from, to) by calls to `provider` (nil: all calls), in one
    /// scan of the ledger from the earliest start to the latest end.
    public func spend(in windows: [(from: Date, to: Date)], provider: String?, logger: Logger) async throws -> [Decimal] {
        guard let earliest = windows.map(\.from).min(), let latest = windows.map(\.to).max() else { return [] }
        let rows = try await client.collect("""
            SELECT coalesce(sum(u.cost_usd) FILTER (WHERE u.occurred_at >= w.f AND u.occurred_at < w.t), 0)
            FROM unnest(\(windows.map(\.from))::timestamptz[], \(windows.map(\.to))::timestamptz[]) WITH ORDINALITY AS w(f, t, i)
            LEFT JOIN usage_records u ON u.occurred_at >= \(earliest) AND u.occurred_at < \(latest)
                                     AND (\(provider)::text IS NULL OR u.provider_key = \(provider))
            GROUP BY w.i ORDER BY w.i
            """, logger: logger)
        var sums: [Decimal] = []
        for try await value in rows.decode(Decimal.self) { sums.append(value) }
        return sums
    }

    // MARK: allocations by request id

    /// The newest allocation made with `requestID`, and its status.
    public func allocation(requestID: String, logger: Logger) async throws -> (id: UUID, status: String)? {
        let rows = try await client.collect("""
            SELECT id, status FROM allocations WHERE request_id = \(requestID) ORDER BY created_at DESC LIMIT 1
            """, logger: logger)
        for try await (id, status) in rows.decode((UUID, String).self) { return (id, status) }
        return nil
    }
}
