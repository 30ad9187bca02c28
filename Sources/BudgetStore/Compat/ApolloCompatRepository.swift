// Apollo compatibility on top of the engine (sql/migrations/0010_apollo_compat.sql): the budget
// named `apollo`, Apollo policies as its token limits, and per-context allocations as engine
// reservations. Nothing here keeps a second ledger: usage goes into usage_records and limit
// windows through the engine's SQL functions.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct ApolloCompatRepository: Sendable {
    public static let budgetName = "apollo"
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    // MARK: the apollo budget

    /// The id of the `apollo` budget, created on first use. With `seedDefaults`, a budget created
    /// here gets Apollo's nine default WARN policies (as Apollo does when it has no policy file).
    public func ensureBudget(seedDefaults: Bool, logger: Logger) async throws -> UUID {
        if let id = try await findBudget(logger: logger) { return id }
        return try await client.withLiveTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                INSERT INTO budgets (name, description, timezone)
                VALUES (\(Self.budgetName), 'Apollo token budgets (compatibility API and imported Apollo policies)', 'UTC')
                ON CONFLICT (lower(name)) WHERE deleted_at IS NULL DO NOTHING
                RETURNING id
                """, logger: logger)
            var created: UUID?
            for try await id in rows.decode(UUID.self) { created = id }
            guard let created else {
                // Another caller created it meanwhile (the insert waited for its commit).
                let existing = try await connection.query("""
                    SELECT id FROM budgets WHERE lower(name) = \(Self.budgetName) AND deleted_at IS NULL
                    """, logger: logger)
                for try await id in existing.decode(UUID.self) { return id }
                throw StoreError(.corrupt, "the apollo budget was neither created nor found")
            }
            if seedDefaults {
                let now = Date()
                for cell in ApolloDefaults.limits {
                    let policy = ApolloPolicy(policyID: cell.policyID, type: .warn, period: cell.period, tier: cell.tier,
                                              limit: cell.limit, startDate: now)
                    _ = try await Self.upsert(policy, budgetID: created, source: "default", actor: "apollo-compat", now: now,
                                              connection: connection, logger: logger)
                }
            }
            return created
        }
    }

    public func findBudget(logger: Logger) async throws -> UUID? {
        let rows = try await client.collect("""
            SELECT id FROM budgets WHERE lower(name) = \(Self.budgetName) AND deleted_at IS NULL
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    // MARK: policies

    /// A policy as stored: Apollo's words and the current version of its limit.
    public struct StoredPolicy: Sendable, Hashable {
        public var policy: ApolloPolicy
        public var limitID: UUID
        public var limitVersion: Int
        public var budgetPolicy: Policy
        public var source: String
    }

    public enum UpsertResult: String, Sendable {
        case created, updated, unchanged
    }

    /// Creates or changes one policy (set limit).
    public func setPolicy(_ policy: ApolloPolicy, source: String = "api", logger: Logger) async throws -> (StoredPolicy, UpsertResult) {
        let budgetID = try await ensureBudget(seedDefaults: true, logger: logger)
        let now = Date()
        return try await client.withLiveTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7311)", logger: logger)
            let result = try await Self.upsert(policy, budgetID: budgetID, source: source, actor: "apollo-compat", now: now,
                                               connection: connection, logger: logger)
            guard let stored = try await Self.policies(policyID: policy.policyID, connection: connection, logger: logger).first else {
                throw StoreError(.corrupt, "policy \(policy.policyID) was not stored")
            }
            return (stored, result)
        }
    }

    public struct ImportSummary: Sendable, Equatable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
        /// Seeded default policies retired because a policy file replaces them.
        public var defaultsRetired = 0
        public init() {}
    }

    /// Imports a policy file in ONE transaction: every policy upserted by policy_id (a second
    /// import of the same file changes nothing), and the seeded defaults retired, since Apollo
    /// uses its file instead of its defaults. Policies in the database but not in the file stay.
    public func importPolicies(_ policies: [ApolloPolicy], actor: String, logger: Logger) async throws -> ImportSummary {
        let budgetID = try await ensureBudget(seedDefaults: false, logger: logger)
        let now = Date()
        let fileIDs = Set(policies.map(\.policyID))
        return try await client.withLiveTransaction(logger: logger) { connection in
            var summary = ImportSummary()
            // Serialise imports and API changes of the apollo policies.
            try await connection.query("SELECT pg_advisory_xact_lock(7311)", logger: logger)
            let defaults = try await connection.query("""
                SELECT p.policy_id, p.limit_id FROM apollo_policies p WHERE p.source = 'default'
                """, logger: logger)
            var retire: [(String, UUID)] = []
            for try await (policyID, limitID) in defaults.decode((String, UUID).self) where !fileIDs.contains(policyID) {
                retire.append((policyID, limitID))
            }
            if !policies.isEmpty {
                for (policyID, limitID) in retire {
                    try await connection.query("UPDATE limits SET valid_to = \(now), changed_by = \(actor) WHERE id = \(limitID) AND valid_to IS NULL",
                                               logger: logger)
                    try await connection.query("DELETE FROM apollo_policies WHERE policy_id = \(policyID)", logger: logger)
                    summary.defaultsRetired += 1
                }
            }
            for policy in policies {
                switch try await Self.upsert(policy, budgetID: budgetID, source: "import", actor: actor, now: now, connection: connection, logger: logger) {
                case .created: summary.created += 1
                case .updated: summary.updated += 1
                case .unchanged: summary.unchanged += 1
                }
            }
            return summary
        }
    }

    /// Every Apollo policy with the current version of its limit (a limit closed through the
    /// generic API is left out).
    public func policies(logger: Logger) async throws -> [StoredPolicy] {
        try await client.withLiveConnection { connection in
            try await Self.policies(policyID: nil, connection: connection, logger: logger)
        }
    }

    static func policies(policyID: String?, connection: PostgresConnection, logger: Logger) async throws -> [StoredPolicy] {
        let rows = try await connection.query("""
            SELECT p.policy_id, p.policy_type, l.period, l.tier, l.component, l.task_type, l.amount, l.warn_at, p.action_threshold,
                   p.start_date, p.end_date, p.enabled, p.metadata::text, l.id, l.version, l.policy, p.source
            FROM apollo_policies p JOIN limits l ON l.id = p.limit_id AND l.valid_to IS NULL
            WHERE \(policyID)::text IS NULL OR p.policy_id = \(policyID)
            ORDER BY p.created_at, p.policy_id
            """, logger: logger)
        var result: [StoredPolicy] = []
        for try await row in rows.decode((String, String, String, String?, String?, String?, Decimal, Decimal, Decimal,
                                          Date?, Date?, Bool, String, UUID, Int, String, String).self) {
            guard let type = ApolloPolicyType(rawValue: row.1), let period = ApolloPeriod(rawValue: row.2),
                  let tier = row.3.flatMap(ApolloTier.init(rawValue:)), let budgetPolicy = Policy(rawValue: row.15),
                  let limit = Int64(wholeTokens: row.6) else {
                throw StoreError(.corrupt, "apollo policy \(row.0) does not map to a tier token limit")
            }
            let metadata = try JSONDecoder().decode(JSONValue.self, from: Data(row.12.utf8))
            result.append(StoredPolicy(
                policy: ApolloPolicy(policyID: row.0, type: type, period: period, tier: tier, component: row.4, taskType: row.5, limit: limit,
                                     warningThreshold: row.7, actionThreshold: row.8, startDate: row.9, endDate: row.10, enabled: row.11,
                                     metadata: metadata),
                limitID: row.13, limitVersion: row.14, budgetPolicy: budgetPolicy, source: row.16))
        }
        return result
    }

    /// Creates or changes the limit of one policy. What a limit counts (filter, period, metric)
    /// never changes for a limit id, so a policy moved to another tier, component, task type or
    /// period closes its old limit and gets a new one; a changed amount, policy or threshold adds
    /// a version of the same limit. Nothing is written when nothing differs.
    static func upsert(_ policy: ApolloPolicy, budgetID: UUID, source: String, actor: String, now: Date,
                       connection: PostgresConnection, logger: Logger) async throws -> UpsertResult {
        let filter = policy.filter
        let amount = Decimal(policy.limit)
        let budgetPolicy = policy.budgetPolicy(at: now).rawValue
        let metadata = try EngineJSON.encode(policy.metadata)

        let existing = try await connection.query("""
            SELECT p.limit_id, p.policy_type, p.enabled, p.action_threshold, p.start_date, p.end_date, p.metadata::text,
                   l.version, l.budget_id, l.component, l.task_type, l.tier, l.period, l.metric, l.amount, l.policy, l.warn_at,
                   l.provider, l.model, l.tag
            FROM apollo_policies p LEFT JOIN limits l ON l.id = p.limit_id AND l.valid_to IS NULL
            WHERE p.policy_id = \(policy.policyID)
            FOR UPDATE OF p
            """, logger: logger)
        var found: (UUID, String, Bool, Decimal, Date?, Date?, String, Int?, UUID?, String?, String?, String?, String?, String?, Decimal?, String?, Decimal?,
                    String?, String?, String?)?
        for try await row in existing.decode((UUID, String, Bool, Decimal, Date?, Date?, String, Int?, UUID?, String?, String?, String?, String?,
                                              String?, Decimal?, String?, Decimal?, String?, String?, String?).self) {
            found = row
        }

        guard let found else {
            let limitID = try await insertLimit(budgetID: budgetID, filter: filter, period: policy.period.period, amount: amount,
                                                policy: budgetPolicy, warnAt: policy.warningThreshold, actor: actor, connection: connection, logger: logger)
            try await connection.query("""
                INSERT INTO apollo_policies (policy_id, limit_id, policy_type, enabled, action_threshold, start_date, end_date, metadata, source)
                VALUES (\(policy.policyID), \(limitID), \(policy.type.rawValue), \(policy.enabled), \(policy.actionThreshold),
                        \(policy.startDate), \(policy.endDate), \(metadata)::jsonb, \(source))
                """, logger: logger)
            return .created
        }

        let (limitID, oldType, oldEnabled, oldAction, oldStart, oldEnd, oldMetadata, version, limitBudget,
             component, taskType, tier, period, metric, oldAmount, oldPolicy, oldWarn, provider, model, tag) = found
        let sameMetadata = (try? JSONDecoder().decode(JSONValue.self, from: Data(oldMetadata.utf8))) == policy.metadata
        let mappingSame = oldType == policy.type.rawValue && oldEnabled == policy.enabled && oldAction == policy.actionThreshold
            && sameInstant(oldStart, policy.startDate) && sameInstant(oldEnd, policy.endDate) && sameMetadata

        let countsTheSame = version != nil && limitBudget == budgetID && component == filter.component && taskType == filter.taskType
            && tier == filter.tier && period == policy.period.rawValue && metric == Metric.tokens.rawValue
            && provider == nil && model == nil && tag == nil
        var result = UpsertResult.unchanged
        var currentLimit = limitID
        if !countsTheSame {
            try await connection.query("UPDATE limits SET valid_to = \(now), changed_by = \(actor) WHERE id = \(limitID) AND valid_to IS NULL",
                                       logger: logger)
            currentLimit = try await insertLimit(budgetID: budgetID, filter: filter, period: policy.period.period, amount: amount,
                                                 policy: budgetPolicy, warnAt: policy.warningThreshold, actor: actor, connection: connection, logger: logger)
            result = .updated
        } else if oldAmount != amount || oldPolicy != budgetPolicy || oldWarn != policy.warningThreshold, let version {
            try await connection.query("UPDATE limits SET valid_to = \(now), changed_by = \(actor) WHERE id = \(limitID) AND version = \(version)",
                                       logger: logger)
            try await connection.query("""
                INSERT INTO limits (id, version, budget_id, component, provider, model, task_type, tier, tag, period, metric, amount, policy, warn_at, thresholds, valid_from, changed_by)
                SELECT id, version + 1, budget_id, component, provider, model, task_type, tier, tag, period, metric,
                       \(amount), \(budgetPolicy), \(policy.warningThreshold), thresholds, \(now), \(actor)
                FROM limits WHERE id = \(limitID) AND version = \(version)
                """, logger: logger)
            result = .updated
        }
        if !mappingSame || currentLimit != limitID {
            try await connection.query("""
                UPDATE apollo_policies SET limit_id = \(currentLimit), policy_type = \(policy.type.rawValue), enabled = \(policy.enabled),
                    action_threshold = \(policy.actionThreshold), start_date = \(policy.startDate), end_date = \(policy.endDate),
                    metadata = \(metadata)::jsonb, source = CASE WHEN source = 'default' AND \(source) = 'default' THEN 'default' ELSE \(source) END,
                    updated_at = now()
                WHERE policy_id = \(policy.policyID)
                """, logger: logger)
            result = .updated
        }
        return result
    }

    /// Timestamps round-trip through PostgreSQL at microseconds.
    static func sameInstant(_ a: Date?, _ b: Date?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (a?, b?): abs(a.timeIntervalSince(b)) < 0.000_001
        default: false
        }
    }

    static func insertLimit(budgetID: UUID, filter: ScopeFilter, period: Period, amount: Decimal, policy: String, warnAt: Decimal,
                            actor: String, connection: PostgresConnection, logger: Logger) async throws -> UUID {
        let rows = try await connection.query("""
            INSERT INTO limits (id, version, budget_id, component, task_type, tier, period, metric, amount, policy, warn_at, changed_by)
            VALUES (gen_random_uuid(), 1, \(budgetID), \(filter.component), \(filter.taskType), \(filter.tier), \(period.rawValue),
                    \(Metric.tokens.rawValue), \(amount), \(policy), \(warnAt), \(actor))
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        throw StoreError(.corrupt, "the limit of an apollo policy was not written")
    }
}
