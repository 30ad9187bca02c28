// Apollo's tier tables as set at run time (sql/migrations/0030_apollo_tiers.sql): the entries
// that override or extend Apollo's defaults. Every instance reads them from the database when it
// resolves a tier, so a tier set through one instance holds for all.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

extension ApolloCompatRepository {
    /// Every entry set, by table and name.
    public func tierOverrides(logger: Logger) async throws -> [ApolloTierOverride] {
        let rows = try await client.collect("""
            SELECT kind, name, tier, updated_at FROM apollo_tiers ORDER BY kind, name
            """, logger: logger)
        var result: [ApolloTierOverride] = []
        for try await (kind, name, tier, updatedAt) in rows.decode((String, String, String, Date).self) {
            guard let kind = ApolloTierOverride.Kind(rawValue: kind), let tier = ApolloTier(rawValue: tier) else {
                throw StoreError(.corrupt, "apollo tier entry \(kind) '\(name)' names an unknown table or tier")
            }
            result.append(ApolloTierOverride(kind: kind, name: name, tier: tier, updatedAt: updatedAt))
        }
        return result
    }

    /// The resolver with the entries set so far.
    public func tierResolver(logger: Logger) async throws -> ApolloTierResolver {
        ApolloTierResolver(overrides: try await tierOverrides(logger: logger))
    }

    /// Sets one entry (`name` already keyed with `ApolloTierOverride.key`) and returns it with the
    /// tier it had before (nil: it had none set; Apollo's default, if any, applied).
    public func setTier(kind: ApolloTierOverride.Kind, name: String, tier: ApolloTier,
                        logger: Logger) async throws -> (entry: ApolloTierOverride, previous: ApolloTier?) {
        try await client.withLiveTransaction(logger: logger) { connection in
            // One setter of an entry at a time, also when it does not exist yet (FOR UPDATE locks
            // only a row that exists): two first setters would both answer that it had none.
            try await connection.query("""
                SELECT pg_advisory_xact_lock(7312, hashtext(\(kind.rawValue) || '/' || \(name)))
                """, logger: logger)
            let before = try await connection.query("""
                SELECT tier FROM apollo_tiers WHERE kind = \(kind.rawValue) AND name = \(name) FOR UPDATE
                """, logger: logger)
            var previous: ApolloTier?
            for try await text in before.decode(String.self) { previous = ApolloTier(rawValue: text) }
            let rows = try await connection.query("""
                INSERT INTO apollo_tiers (kind, name, tier) VALUES (\(kind.rawValue), \(name), \(tier.rawValue))
                ON CONFLICT (kind, name) DO UPDATE SET tier = excluded.tier, updated_at = now()
                RETURNING updated_at
                """, logger: logger)
            for try await updatedAt in rows.decode(Date.self) {
                return (ApolloTierOverride(kind: kind, name: name, tier: tier, updatedAt: updatedAt), previous)
            }
            throw StoreError(.corrupt, "the apollo tier entry \(kind.rawValue) '\(name)' was not written")
        }
    }

    /// Removes one entry; returns the tier it had (nil: no entry was set).
    public func removeTier(kind: ApolloTierOverride.Kind, name: String, logger: Logger) async throws -> ApolloTier? {
        let rows = try await client.collect("""
            DELETE FROM apollo_tiers WHERE kind = \(kind.rawValue) AND name = \(name) RETURNING tier
            """, logger: logger)
        for try await text in rows.decode(String.self) { return ApolloTier(rawValue: text) }
        return nil
    }
}
