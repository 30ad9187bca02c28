// `budget dev seed`: realistic synthetic usage written straight into the ledger by SQL
// (generate_series), one statement per day, through the same rollup triggers as every write.
//
// The shape: 9 components, each calling 2–4 (provider, model) pairs for 1–3 task types (26
// scopes, weighted: a few busy components, a long tail), a diurnal curve peaking at 13:00 UTC,
// token counts spread around each scope's typical size, cache reads on Anthropic models,
// reasoning tokens on o-series models, and a self-hosted model nobody prices (unpriced rows).
import Foundation
import Logging
import PostgresNIO

public struct SyntheticUsage: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// (component, provider, model, task_type, tier, weight, input $/token, output $/token, typical input, typical output).
    /// A nil price means unpriced.
    static let scopes: [(String, String, String, String, String, Int, String?, String?, Int, Int)] = [
        ("ergon", "anthropic", "claude-sonnet-4-5", "code", "high", 30, "0.000003", "0.000015", 12_000, 2_000),
        ("ergon", "anthropic", "claude-sonnet-4-5", "review", "high", 10, "0.000003", "0.000015", 20_000, 800),
        ("ergon", "openai", "gpt-4.1", "code", "high", 8, "0.000002", "0.000008", 10_000, 1_500),
        ("ergon", "anthropic", "claude-haiku-4-5", "summarize", "medium", 6, "0.000001", "0.000005", 6_000, 400),
        ("rhetor", "anthropic", "claude-haiku-4-5", "chat", "medium", 20, "0.000001", "0.000005", 3_000, 600),
        ("rhetor", "openai", "gpt-4.1-mini", "chat", "low", 18, "0.0000004", "0.0000016", 2_500, 500),
        ("rhetor", "ollama", "llama3.1:70b", "chat", "local", 6, nil, nil, 2_000, 400),
        ("apollo", "openai", "gpt-4.1-mini", "planning", "low", 8, "0.0000004", "0.0000016", 4_000, 800),
        ("apollo", "anthropic", "claude-sonnet-4-5", "planning", "high", 5, "0.000003", "0.000015", 8_000, 1_200),
        ("apollo", "openai", "o3", "reasoning", "high", 3, "0.000002", "0.000008", 6_000, 4_000),
        ("athena", "openai", "text-embedding-3-small", "embedding", "low", 25, "0.00000002", "0", 800, 0),
        ("athena", "openai", "gpt-4.1-mini", "extraction", "low", 6, "0.0000004", "0.0000016", 5_000, 700),
        ("athena", "google", "gemini-2.5-flash", "extraction", "low", 5, "0.0000003", "0.0000025", 7_000, 600),
        ("engram", "openai", "text-embedding-3-small", "embedding", "low", 15, "0.00000002", "0", 600, 0),
        ("engram", "anthropic", "claude-haiku-4-5", "summarize", "medium", 4, "0.000001", "0.000005", 9_000, 500),
        ("hermes", "openai", "gpt-4.1-mini", "routing", "low", 10, "0.0000004", "0.0000016", 900, 50),
        ("hermes", "ollama", "llama3.1:8b", "routing", "local", 4, nil, nil, 900, 50),
        ("metis", "anthropic", "claude-sonnet-4-5", "planning", "high", 4, "0.000003", "0.000015", 15_000, 3_000),
        ("metis", "openai", "o3", "reasoning", "high", 2, "0.000002", "0.000008", 9_000, 6_000),
        ("metis", "google", "gemini-2.5-pro", "analysis", "high", 3, "0.00000125", "0.00001", 30_000, 2_000),
        ("prometheus", "anthropic", "claude-opus-4-1", "analysis", "premium", 1, "0.000015", "0.000075", 20_000, 3_000),
        ("prometheus", "google", "gemini-2.5-pro", "analysis", "high", 2, "0.00000125", "0.00001", 25_000, 2_500),
        ("prometheus", "openai", "gpt-4.1", "code", "high", 2, "0.000002", "0.000008", 9_000, 1_800),
        ("sophia", "google", "gemini-2.5-flash", "evaluation", "low", 6, "0.0000003", "0.0000025", 6_000, 300),
        ("sophia", "openai", "gpt-4.1-mini", "evaluation", "low", 4, "0.0000004", "0.0000016", 5_000, 300),
        ("sophia", "anthropic", "claude-haiku-4-5", "evaluation", "medium", 3, "0.000001", "0.000005", 5_500, 300),
    ]

    /// Writes `rows` usage rows spread over the `days` days before `end`; returns the seconds each day took.
    public func seed(rows: Int, days: Int, end: Date = Date(), logger: Logger, progress: (Int, Int) -> Void = { _, _ in }) async throws {
        precondition(rows > 0 && days > 0)
        let dayLength: TimeInterval = 86_400
        let endDay = (end.timeIntervalSince1970 / dayLength).rounded(.down) * dayLength
        let start = Date(timeIntervalSince1970: endDay - Double(days - 1) * dayLength)
        try await client.withLiveConnection { connection in
            try await connection.query("DROP TABLE IF EXISTS pg_temp.seed_wheel", logger: logger)
            try await connection.query("""
                CREATE TEMP TABLE seed_wheel (slot integer PRIMARY KEY, component text, provider text, model text, task_type text,
                    tier text, in_price numeric, out_price numeric, typical_in integer, typical_out integer)
                """, logger: logger)
            var slot = 0
            for scope in Self.scopes {
                for _ in 0..<scope.5 {
                    try await connection.query("""
                        INSERT INTO seed_wheel VALUES (\(slot), \(scope.0), \(scope.1), \(scope.2), \(scope.3), \(scope.4),
                                                       \(scope.6)::numeric, \(scope.7)::numeric, \(scope.8), \(scope.9))
                        """, logger: logger)
                    slot += 1
                }
            }
            // Every month of the range gets its partition first, so nothing waits in the default.
            try await connection.query("""
                SELECT ensure_usage_partition(m::date)
                FROM generate_series(date_trunc('month', \(start) AT TIME ZONE 'UTC'), date_trunc('month', \(end) AT TIME ZONE 'UTC'), interval '1 month') m
                """, logger: logger)
            let wheel = slot
            for day in 0..<days {
                let dayStart = start.addingTimeInterval(Double(day) * dayLength)
                let count = rows / days + (day < rows % days ? 1 : 0)
                guard count > 0 else { continue }
                // u → time of day x = u - a/2π·(sin 2π(u - c) - sin(-2πc)), a = 0.6, c = 13/24: a density of
                // x about 1/(1 - a·cos 2π(x - c)), quiet at night and busiest near 13:00 UTC.
                try await connection.query("""
                    INSERT INTO usage_records (id, occurred_at, component, provider, model, provider_key, model_key, task_type, tier,
                                               input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, cost_usd,
                                               pricing_status, origin, request_id)
                    SELECT (lpad(to_hex((extract(epoch FROM tt.t) * 1000)::bigint), 12, '0') || substr(md5(r.g::text || r.r2::text), 1, 20))::uuid,
                           tt.t, w.component, w.provider, w.model, w.provider, w.model, w.task_type, w.tier,
                           tok.i, tok.o, tok.cr, rea.rs,
                           CASE WHEN w.in_price IS NOT NULL THEN trim_scale(tok.i * w.in_price + tok.o * w.out_price + tok.cr * w.in_price / 10) END,
                           CASE WHEN w.in_price IS NULL THEN 'unpriced' ELSE 'caller_priced' END, 'dev_seed', 'seed:' || r.g
                    FROM (
                        SELECT g, floor(random() * \(wheel))::integer AS slot, random() AS u, 0.25 + 1.5 * random() AS size, random() AS r2
                        FROM generate_series(1, \(count)) g
                    ) r
                    JOIN seed_wheel w USING (slot),
                    LATERAL (SELECT \(dayStart)::timestamptz + make_interval(secs => 86399.999 * least(0.999999, greatest(0.0,
                                 r.u - 0.6 / (2 * pi()) * (sin(2 * pi() * (r.u - 13.0 / 24)) - sin(-2 * pi() * 13.0 / 24))))) AS t) tt,
                    LATERAL (SELECT (w.typical_in * r.size)::bigint AS i, (w.typical_out * (0.5 + r.r2))::bigint AS o,
                                    CASE WHEN w.provider = 'anthropic' THEN (w.typical_in * r.r2)::bigint ELSE 0 END AS cr) tok,
                    LATERAL (SELECT CASE WHEN w.model = 'o3' THEN (tok.o * 0.6)::bigint ELSE 0 END AS rs) rea
                    ORDER BY tt.t
                    """, logger: logger)
                progress(day + 1, days)
            }
            try await connection.query("SELECT usage_rollup_fold()", logger: logger)
            try await connection.query("ANALYZE usage_records", logger: logger)
            try await connection.query("ANALYZE usage_hourly", logger: logger)
        }
    }
}
