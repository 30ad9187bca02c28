// The independent check the rollup tests share: the ledger regrouped by UTC hour and scope,
// compared with report.usage_hourly (folded rollups + unfolded deltas), both ways.
import PostgresNIO

public enum RollupCheck {
    /// Groups present on one side only or with any differing sum, hourly (report.usage_hourly) plus
    /// daily (report.spend_daily, from usage_daily); 0 when the rollups equal the ledger.
    public static let mismatchesSQL: PostgresQuery = """
        WITH raw AS (
            SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, component, provider_key AS provider, model_key AS model, task_type, tier,
                   sum(input_tokens)::numeric AS i, sum(output_tokens)::numeric AS o, sum(cache_read_tokens)::numeric AS cr,
                   sum(cache_write_tokens)::numeric AS cw, sum(reasoning_tokens)::numeric AS r, coalesce(sum(cost_usd), 0) AS c,
                   count(*)::numeric AS n, (count(*) FILTER (WHERE cost_usd IS NULL))::numeric AS un
            FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6
        ), roll AS (
            SELECT hour, component, provider, model, task_type, tier, input_tokens::numeric, output_tokens::numeric,
                   cache_read_tokens::numeric, cache_write_tokens::numeric, reasoning_tokens::numeric, cost_usd,
                   records::numeric, unpriced_records::numeric
            FROM report.usage_hourly
        )
        , raw_daily AS (
            SELECT (date_trunc('day', occurred_at, 'UTC') AT TIME ZONE 'UTC')::date AS day, component, provider_key AS provider,
                   model_key AS model, task_type,
                   sum(input_tokens)::numeric AS i, sum(output_tokens)::numeric AS o, sum(cache_read_tokens)::numeric AS cr,
                   sum(cache_write_tokens)::numeric AS cw, sum(reasoning_tokens)::numeric AS r, coalesce(sum(cost_usd), 0) AS c,
                   count(*)::numeric AS n, (count(*) FILTER (WHERE cost_usd IS NULL))::numeric AS un
            FROM usage_records GROUP BY 1, 2, 3, 4, 5
        ), roll_daily AS (
            SELECT day, component, provider, model, task_type, input_tokens::numeric, output_tokens::numeric,
                   cache_read_tokens::numeric, cache_write_tokens::numeric, reasoning_tokens::numeric, cost_usd,
                   records::numeric, unpriced_records::numeric
            FROM report.spend_daily
        )
        SELECT ((SELECT count(*) FROM ((SELECT * FROM raw EXCEPT SELECT * FROM roll) UNION ALL (SELECT * FROM roll EXCEPT SELECT * FROM raw)) d)
              + (SELECT count(*) FROM ((SELECT * FROM raw_daily EXCEPT SELECT * FROM roll_daily)
                                       UNION ALL (SELECT * FROM roll_daily EXCEPT SELECT * FROM raw_daily)) e))::int
        """

    public static func mismatches(_ client: PostgresClient) async throws -> Int {
        for try await count in try await client.query(mismatchesSQL).decode(Int.self) { return count }
        return -1
    }
}
