// Storage of price syncs: sources and their fetch validators, sync runs, raw observations,
// conflicts, and the new price versions a sync decides (in one transaction).
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct PriceSyncRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// A new price version decided by a sync: USD per token, with its status and provenance (JSON).
    public struct NewVersion: Sendable {
        public var provider: String
        public var model: String
        public var input: Decimal
        public var output: Decimal
        public var cacheRead: Decimal?
        public var cacheWrite: Decimal?
        public var reasoning: Decimal?
        public var batchInput: Decimal?
        public var batchOutput: Decimal?
        public var status: String
        public var provenance: String
        /// JSON array of tiers (see PriceRepository.contextTiers).
        public var contextTiers: String
        /// JSON array of prices for hours of the day (`TimeOfDayPrice.json`).
        public var timesOfDay: String

        public init(provider: String, model: String, input: Decimal, output: Decimal, cacheRead: Decimal?, cacheWrite: Decimal?,
                    reasoning: Decimal?, batchInput: Decimal?, batchOutput: Decimal?, status: String, provenance: String, contextTiers: String = "[]",
                    timesOfDay: String = "[]") {
            self.provider = provider
            self.model = model
            self.input = input
            self.output = output
            self.cacheRead = cacheRead
            self.cacheWrite = cacheWrite
            self.reasoning = reasoning
            self.batchInput = batchInput
            self.batchOutput = batchOutput
            self.status = status
            self.provenance = provenance
            self.contextTiers = contextTiers
            self.timesOfDay = timesOfDay
        }
    }

    public struct AliasRow: Sendable {
        public var provider: String
        public var model: String
        public var canonicalProvider: String
        public var canonicalModel: String
        public var note: String?
    }

    /// The admin's extra names (`model_aliases`).
    public func aliases(logger: Logger) async throws -> [AliasRow] {
        var rows: [AliasRow] = []
        for try await (provider, model, canonicalProvider, canonicalModel, note) in try await client.collect(
            "SELECT provider, model, canonical_provider, canonical_model, note FROM model_aliases ORDER BY provider, model", logger: logger
        ).decode((String, String, String, String, String?).self) {
            rows.append(AliasRow(provider: provider, model: model, canonicalProvider: canonicalProvider, canonicalModel: canonicalModel, note: note))
        }
        return rows
    }

    public struct SourceState: Sendable {
        /// The ETag/Last-Modified seen per document URL, as a JSON object keyed by URL.
        public var validators: String
        public var lastSuccessAt: Date?
    }

    /// What the last syncs left per source.
    public func sourceStates(logger: Logger) async throws -> [String: SourceState] {
        var result: [String: SourceState] = [:]
        let rows = try await client.collect("SELECT name, validators::text, last_success_at FROM price_sources", logger: logger)
        for try await (name, validators, lastSuccess) in rows.decode((String, String, Date?).self) {
            result[name] = SourceState(validators: validators, lastSuccessAt: lastSuccess)
        }
        return result
    }

    /// The observations the latest run stored for a document (reused when it answers 304), as JSON rows.
    public func lastObservations(documentURL: String, logger: Logger) async throws -> String {
        let rows = try await client.collect("""
            SELECT coalesce(jsonb_agg(jsonb_build_object('source', source, 'format', format, 'raw_provider', raw_provider,
                                                         'raw_model', raw_model, 'prices', prices, 'raw_entry', raw_entry)), '[]')::text
            FROM price_observations
            WHERE document_url = \(documentURL)
              AND sync_run_id = (SELECT max(sync_run_id) FROM price_observations WHERE document_url = \(documentURL))
            """, logger: logger)
        for try await text in rows.decode(String.self) { return text }
        return "[]"
    }

    /// Runs `body` holding the sync lock; returns nil (without running it) when another process syncs.
    public func withSyncLock<T: Sendable>(logger: Logger, _ body: () async throws -> T) async throws -> T? {
        try await client.withLiveConnection { connection in
            var locked = false
            for try await value in try await connection.query("SELECT pg_try_advisory_lock(7303)", logger: logger).decode(Bool.self) { locked = value }
            guard locked else { return nil }
            do {
                let result = try await body()
                try await connection.query("SELECT pg_advisory_unlock(7303)", logger: logger)
                return result
            } catch {
                // `body` failed on other connections; this session still holds the lock.
                await connection.undo("SELECT pg_advisory_unlock(7303)", after: nil, logger: logger)
                throw error
            }
        }
    }

    public struct RunRecord: Sendable {
        public var dryRun: Bool
        public var status: String
        public var outcomes: String        // JSON array
        public var sources: String         // JSON array of {name, format, url, weight, lineage, refresh_seconds, enabled, validators, error}
        public var observations: String    // JSON array of observation rows
        public var conflicts: String       // JSON array of {provider, model, region, fields}
        public var versions: [NewVersion]
        public var unchanged: Int

        public init(dryRun: Bool, status: String, outcomes: String, sources: String, observations: String, conflicts: String, versions: [NewVersion], unchanged: Int) {
            self.dryRun = dryRun
            self.status = status
            self.outcomes = outcomes
            self.sources = sources
            self.observations = observations
            self.conflicts = conflicts
            self.versions = versions
            self.unchanged = unchanged
        }
    }

    /// Records a run; unless it is a dry run, also its observations, conflicts, source state and
    /// new price versions (closing the versions they replace) — all in one transaction.
    @discardableResult
    public func record(_ run: RunRecord, logger: Logger) async throws -> Int64 {
        try await client.withLiveTransaction(logger: logger) { connection in
            var runID: Int64 = 0
            for try await id in try await connection.query("""
                INSERT INTO price_sync_runs (dry_run, status, outcomes, changed, unchanged, conflicts, finished_at)
                VALUES (\(run.dryRun), \(run.status), \(run.outcomes)::jsonb, \(run.versions.count), \(run.unchanged),
                        jsonb_array_length(\(run.conflicts)::jsonb), now())
                RETURNING id
                """, logger: logger).decode(Int64.self) { runID = id }
            guard !run.dryRun else { return runID }

            try await connection.query("""
                INSERT INTO price_sources (name, format, url, weight, lineage, refresh_seconds, enabled, validators, last_attempt_at, last_success_at, last_error)
                SELECT s.name, s.format, s.url, s.weight, s.lineage, s.refresh_seconds, s.enabled, coalesce(s.validators, '{}'), now(),
                       CASE WHEN s.error IS NULL THEN now() END, s.error
                FROM jsonb_to_recordset(\(run.sources)::jsonb) AS s(name text, format text, url text, weight numeric, lineage text,
                                                                   refresh_seconds integer, enabled boolean, validators jsonb, error text)
                ON CONFLICT (name) DO UPDATE SET format = excluded.format, url = excluded.url, weight = excluded.weight, lineage = excluded.lineage,
                    refresh_seconds = excluded.refresh_seconds, enabled = excluded.enabled, last_attempt_at = now(),
                    validators = CASE WHEN excluded.last_error IS NULL THEN excluded.validators ELSE price_sources.validators END,
                    last_success_at = coalesce(excluded.last_success_at, price_sources.last_success_at), last_error = excluded.last_error
                """, logger: logger)

            try await connection.query("""
                INSERT INTO price_observations (sync_run_id, source, document_url, format, raw_provider, raw_model, provider_key, model_key, region, prices, raw_entry)
                SELECT \(runID), o.source, o.document_url, o.format, o.raw_provider, o.raw_model, o.provider_key, o.model_key, o.region, o.prices, o.raw_entry::jsonb
                FROM jsonb_to_recordset(\(run.observations)::jsonb) AS o(source text, document_url text, format text, raw_provider text, raw_model text,
                                                                        provider_key text, model_key text, region text, prices jsonb, raw_entry text)
                """, logger: logger)

            try await connection.query("""
                INSERT INTO price_conflicts (provider_key, model_key, region, sync_run_id, fields)
                SELECT c.provider, c.model, coalesce(c.region, ''), \(runID), c.fields
                FROM jsonb_to_recordset(\(run.conflicts)::jsonb) AS c(provider text, model text, region text, fields jsonb)
                ON CONFLICT (provider_key, model_key, region) DO UPDATE SET sync_run_id = excluded.sync_run_id, fields = excluded.fields, detected_at = now()
                """, logger: logger)
            try await connection.query("""
                SELECT record_budget_event('price_conflict', NULL, NULL, format('price_conflict:%s/%s:%s', c.provider, c.model, \(runID)), c.fields)
                FROM jsonb_to_recordset(\(run.conflicts)::jsonb) AS c(provider text, model text, region text, fields jsonb)
                """, logger: logger)

            for version in run.versions {
                try await connection.query("""
                    UPDATE prices SET effective_to = now()
                    WHERE provider_key = \(version.provider) AND model_key = \(version.model) AND effective_to IS NULL AND status <> 'manual'
                    """, logger: logger)
                try await connection.query("""
                    INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                                        cache_write_per_token, reasoning_per_token, batch_input_per_token, batch_output_per_token,
                                        status, source, provenance, sync_run_id, context_tiers, times_of_day)
                    SELECT \(version.provider), \(version.model), \(version.provider), \(version.model), \(version.input), \(version.output),
                           \(version.cacheRead), \(version.cacheWrite), \(version.reasoning), \(version.batchInput), \(version.batchOutput),
                           \(version.status), 'sync', \(version.provenance)::jsonb, \(runID), \(version.contextTiers)::jsonb, \(version.timesOfDay)::jsonb
                    WHERE NOT EXISTS (SELECT 1 FROM prices WHERE provider_key = \(version.provider) AND model_key = \(version.model)
                                                           AND effective_to IS NULL)
                    """, logger: logger)
                try await connection.query("""
                    SELECT record_budget_event('price_changed', NULL, NULL, format('price_changed:%s/%s:%s', \(version.provider)::text, \(version.model)::text, \(runID)),
                                               jsonb_build_object('provider', \(version.provider)::text, 'model', \(version.model)::text, 'status', \(version.status)::text))
                    """, logger: logger)
            }
            return runID
        }
    }

    /// Raises the alert for a failed sync run (all sources failed, or the run itself failed).
    public func recordFailure(_ message: String, logger: Logger) async throws {
        try await client.perform("""
            SELECT record_budget_event('price_sync_failed', NULL, NULL, format('price_sync_failed:%s', date_trunc('hour', now())),
                                       jsonb_build_object('error', \(message)::text))
            """, logger: logger)
    }
}
