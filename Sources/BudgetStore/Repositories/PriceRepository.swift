// Price versions: the current price of a model, its history, and manual prices set by an admin.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct PriceRecord: Sendable, Hashable {
    /// The stored (trimmed, lower-cased) provider and model.
    public var key: PriceKey
    public var price: Price
    public var status: String
    public var source: String
    public var setBy: String?
    public var effectiveTo: Date?
}

public struct PriceRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (UUID, String, String, String, String, Decimal, Decimal, Decimal?, Decimal?, Decimal?, Date, Date?, String, String, String?,
                     Decimal?, Decimal?, String, String)
    static let selectColumns = """
        SELECT id, provider, provider_key, model_key, model, input_per_token, output_per_token, cache_read_per_token,
               cache_write_per_token, reasoning_per_token, effective_from, effective_to, status, source, set_by,
               batch_input_per_token, batch_output_per_token, context_tiers::text, times_of_day::text FROM prices
        """

    static func price(from row: Row) -> Price {
        Price(id: row.0, provider: row.1, model: row.4, input: row.5, output: row.6, cacheRead: row.7, cacheWrite: row.8, reasoning: row.9,
              batchInput: row.15, batchOutput: row.16, contextTiers: contextTiers(row.17),
              timesOfDay: TimeOfDayPrice.windows(json: row.18) ?? [], effectiveFrom: row.10)
    }

    /// `[{"threshold_tokens": 200000, "input": "0.000006", …}]` (decimal strings) as tiers.
    static func contextTiers(_ json: String) -> [ContextTier] {
        struct Stored: Decodable {
            var thresholdTokens: Int64
            var input: String?, output: String?, cacheRead: String?, cacheWrite: String?
            enum CodingKeys: String, CodingKey {
                case input, output, thresholdTokens = "threshold_tokens", cacheRead = "cache_read", cacheWrite = "cache_write"
            }
        }
        guard let stored = try? JSONDecoder().decode([Stored].self, from: Data(json.utf8)) else { return [] }
        return stored.map {
            ContextTier(thresholdTokens: $0.thresholdTokens, input: $0.input.flatMap { Decimal(exactly: $0) }, output: $0.output.flatMap { Decimal(exactly: $0) },
                        cacheRead: $0.cacheRead.flatMap { Decimal(exactly: $0) }, cacheWrite: $0.cacheWrite.flatMap { Decimal(exactly: $0) })
        }
    }

    static func record(from row: Row) -> PriceRecord {
        PriceRecord(key: PriceKey(provider: row.2, model: row.3), price: price(from: row), status: row.12, source: row.13, setBy: row.14, effectiveTo: row.11)
    }

    /// Sets a manual price (an override sources never replace): closes the current version (if any),
    /// adds the new one, and writes the audit trail (who, when, old and new values).
    public func setManual(provider: String, model: String, input: Decimal, output: Decimal, cacheRead: Decimal?, cacheWrite: Decimal?,
                          reasoning: Decimal?, timesOfDay: [TimeOfDayPrice] = [], by actor: String?, logger: Logger) async throws -> PriceRecord {
        let timesOfDay = TimeOfDayPrice.json(timesOfDay)
        return try await client.withLiveTransaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE prices SET effective_to = now()
                WHERE provider_key = lower(btrim(\(provider))) AND model_key = lower(btrim(\(model))) AND effective_to IS NULL
                """, logger: logger)
            let rows = try await connection.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                                    cache_write_per_token, reasoning_per_token, times_of_day, status, source, set_by)
                VALUES (\(provider), \(model), lower(btrim(\(provider))), lower(btrim(\(model))), \(input), \(output), \(cacheRead),
                        \(cacheWrite), \(reasoning), \(timesOfDay)::jsonb, 'manual', 'manual', \(actor))
                RETURNING id, provider, provider_key, model_key, model, input_per_token, output_per_token, cache_read_per_token,
                          cache_write_per_token, reasoning_per_token, effective_from, effective_to, status, source, set_by,
                          batch_input_per_token, batch_output_per_token, context_tiers::text, times_of_day::text
                """, logger: logger)
            var written: PriceRecord?
            for try await row in rows.decode(Row.self) { written = Self.record(from: row) }
            guard let written else { throw StoreError(.corrupt, "the price was not written") }
            try await connection.query("""
                INSERT INTO price_audit (actor, action, provider, model, old_price, new_price)
                SELECT \(actor), 'override_set', \(provider), \(model),
                       (SELECT to_jsonb(p) - 'provenance' FROM prices p WHERE provider_key = lower(btrim(\(provider))) AND model_key = lower(btrim(\(model)))
                          AND effective_to IS NOT NULL ORDER BY effective_to DESC LIMIT 1),
                       (SELECT to_jsonb(p) - 'provenance' FROM prices p WHERE id = \(written.price.id))
                """, logger: logger)
            return written
        }
    }

    /// Removes a manual override: closes it and reinstates the newest price the sources had set
    /// (if any) as the current version. Audited. False when the model has no manual price.
    public func removeOverride(provider: String, model: String, by actor: String?, logger: Logger) async throws -> Bool {
        try await client.withLiveTransaction(logger: logger) { connection in
            var closed: UUID?
            for try await id in try await connection.query("""
                UPDATE prices SET effective_to = now()
                WHERE provider_key = lower(btrim(\(provider))) AND model_key = lower(btrim(\(model))) AND effective_to IS NULL AND status = 'manual'
                RETURNING id
                """, logger: logger).decode(UUID.self) { closed = id }
            guard let closed else { return false }
            try await connection.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                                    cache_write_per_token, reasoning_per_token, batch_input_per_token, batch_output_per_token,
                                    status, source, provenance, sync_run_id, context_tiers, times_of_day)
                SELECT provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                       cache_write_per_token, reasoning_per_token, batch_input_per_token, batch_output_per_token,
                       status, source, provenance, sync_run_id, context_tiers, times_of_day
                FROM prices
                WHERE provider_key = lower(btrim(\(provider))) AND model_key = lower(btrim(\(model))) AND status <> 'manual'
                ORDER BY effective_from DESC LIMIT 1
                """, logger: logger)
            try await connection.query("""
                INSERT INTO price_audit (actor, action, provider, model, old_price, new_price)
                SELECT \(actor), 'override_removed', \(provider), \(model),
                       (SELECT to_jsonb(p) - 'provenance' FROM prices p WHERE id = \(closed)),
                       (SELECT to_jsonb(p) - 'provenance' FROM prices p WHERE provider_key = lower(btrim(\(provider)))
                          AND model_key = lower(btrim(\(model))) AND effective_to IS NULL)
                """, logger: logger)
            return true
        }
    }

    /// Loads the bundled catalogue (JSON entries `{provider, model, status, prices:{field: "decimal"},
    /// provenance}`) when no price exists at all; returns how many versions it wrote.
    public func seedIfEmpty(catalogueEntries json: String, logger: Logger) async throws -> Int {
        try await client.withLiveTransaction(logger: logger) { connection in
            try await connection.query("LOCK TABLE prices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            var written = 0
            for try await count in try await connection.query("""
                WITH inserted AS (
                    INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                                        cache_write_per_token, reasoning_per_token, batch_input_per_token, batch_output_per_token,
                                        status, source, provenance, context_tiers, times_of_day)
                    SELECT e.provider, e.model, lower(btrim(e.provider)), lower(btrim(e.model)),
                           (e.prices->>'input')::numeric, (e.prices->>'output')::numeric, (e.prices->>'cache_read')::numeric,
                           (e.prices->>'cache_write')::numeric, (e.prices->>'reasoning')::numeric,
                           (e.prices->>'batch_input')::numeric, (e.prices->>'batch_output')::numeric,
                           e.status, 'bundle', coalesce(e.provenance, '{}'), coalesce(e.context_tiers, '[]'), coalesce(e.times_of_day, '[]')
                    FROM jsonb_to_recordset(\(json)::jsonb) AS e(provider text, model text, status text, prices jsonb, provenance jsonb,
                                                                 context_tiers jsonb, times_of_day jsonb)
                    WHERE NOT EXISTS (SELECT 1 FROM prices)
                    RETURNING 1
                )
                SELECT count(*)::int FROM inserted
                """, logger: logger).decode(Int.self) { written = count }
            return written
        }
    }

    /// The admin's extra model names, as JSON rows.
    public func aliases(logger: Logger) async throws -> String {
        try await jsonText("""
            SELECT coalesce(jsonb_agg(jsonb_build_object('provider', provider, 'model', model, 'canonical_provider', canonical_provider,
                                                         'canonical_model', canonical_model, 'note', note) ORDER BY provider, model), '[]')::text
            FROM model_aliases
            """, logger: logger)
    }

    public func setAlias(provider: String, model: String, canonicalProvider: String, canonicalModel: String, note: String?, logger: Logger) async throws {
        try await client.perform("""
            INSERT INTO model_aliases (provider, model, canonical_provider, canonical_model, note)
            VALUES (lower(btrim(\(provider))), lower(btrim(\(model))), lower(btrim(\(canonicalProvider))), lower(btrim(\(canonicalModel))), \(note))
            ON CONFLICT (provider, model) DO UPDATE SET canonical_provider = excluded.canonical_provider,
                canonical_model = excluded.canonical_model, note = excluded.note
            """, logger: logger)
    }

    public func deleteAlias(provider: String, model: String, logger: Logger) async throws -> Bool {
        let rows = try await client.collect("""
            DELETE FROM model_aliases WHERE provider = lower(btrim(\(provider))) AND model = lower(btrim(\(model))) RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Current prices, optionally filtered, as JSON rows (with provenance) for the API.
    public func listCurrent(provider: String?, model: String?, status: String?, logger: Logger) async throws -> String {
        try await jsonText("""
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'id', id, 'provider', provider, 'model', model, 'status', status, 'source', source, 'set_by', set_by,
                       'input_per_token', input_per_token::text, 'output_per_token', output_per_token::text,
                       'cache_read_per_token', cache_read_per_token::text, 'cache_write_per_token', cache_write_per_token::text,
                       'reasoning_per_token', reasoning_per_token::text, 'batch_input_per_token', batch_input_per_token::text,
                       'batch_output_per_token', batch_output_per_token::text, 'context_tiers', context_tiers, 'times_of_day', times_of_day,
                       'effective_from', effective_from, 'effective_to', effective_to, 'provenance', provenance, 'sync_run_id', sync_run_id)
                   ORDER BY p.provider_key, p.model_key), '[]')::text
            FROM prices p
            WHERE effective_to IS NULL
              AND (\(provider)::text IS NULL OR provider_key = lower(btrim(\(provider))))
              AND (\(model)::text IS NULL OR model_key = lower(btrim(\(model))))
              AND (\(status)::text IS NULL OR status = \(status))
            """, logger: logger)
    }

    public func conflicts(logger: Logger) async throws -> String {
        try await jsonText("""
            SELECT coalesce(jsonb_agg(jsonb_build_object('provider', provider_key, 'model', model_key, 'region', nullif(region, ''),
                                                         'sync_run_id', sync_run_id, 'detected_at', detected_at, 'fields', fields)
                                      ORDER BY provider_key, model_key), '[]')::text
            FROM price_conflicts
            """, logger: logger)
    }

    public func syncRuns(limit: Int, logger: Logger) async throws -> String {
        try await jsonText("""
            SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.id DESC), '[]')::text
            FROM (SELECT * FROM price_sync_runs ORDER BY id DESC LIMIT \(limit)) r
            """, logger: logger)
    }

    private func jsonText(_ query: PostgresQuery, logger: Logger) async throws -> String {
        for try await text in try await client.collect(query, logger: logger).decode(String.self) { return text }
        return "[]"
    }

    /// The current version of every model's price.
    public func current(logger: Logger) async throws -> [PriceRecord] {
        let rows = try await client.collect(PostgresQuery(unsafeSQL: Self.selectColumns + " WHERE effective_to IS NULL"), logger: logger)
        var records: [PriceRecord] = []
        for try await row in rows.decode(Row.self) { records.append(Self.record(from: row)) }
        return records
    }

    /// Every version of a model's price, newest first.
    public func history(provider: String, model: String, logger: Logger) async throws -> [PriceRecord] {
        let rows = try await client.collect(PostgresQuery(
            unsafeSQL: Self.selectColumns + " WHERE provider_key = lower(btrim($1)) AND model_key = lower(btrim($2)) ORDER BY effective_from DESC",
            binds: try BudgetRepository.binds(provider, model)
        ), logger: logger)
        var records: [PriceRecord] = []
        for try await row in rows.decode(Row.self) { records.append(Self.record(from: row)) }
        return records
    }
}
