-- Daily rollups (UTC days) beside the hourly ones, folded from the same deltas in the same
-- transaction, so reports by day, week or month in UTC read about 24 times fewer rows (90 days
-- by model: a few thousand rows instead of tens of thousands). Zones other than UTC keep reading
-- the hourly rollups (a local day is not a UTC day). Exact as the hourly rollups are: readers add
-- the unfolded deltas (see ReportRepository).

CREATE TABLE usage_daily (
    day                timestamptz NOT NULL,   -- 00:00 UTC of the day
    component          text,
    provider           text,
    model              text,
    task_type          text,
    tier               text,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    reasoning_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd           numeric NOT NULL DEFAULT 0,
    records            bigint NOT NULL DEFAULT 0,
    unpriced_records   bigint NOT NULL DEFAULT 0,
    CONSTRAINT usage_daily_scope UNIQUE NULLS NOT DISTINCT (day, component, provider, model, task_type, tier)
);
COMMENT ON TABLE usage_daily IS 'Folded rollups of usage_records per UTC day and scope; the sum of usage_hourly''s hours of that day. Exact together with usage_rollup_deltas.';

INSERT INTO usage_daily (day, component, provider, model, task_type, tier, input_tokens, output_tokens, cache_read_tokens,
                         cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
SELECT date_trunc('day', hour, 'UTC'), component, provider, model, task_type, tier, sum(input_tokens), sum(output_tokens),
       sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd), sum(records), sum(unpriced_records)
FROM usage_hourly
GROUP BY 1, 2, 3, 4, 5, 6;

-- The fold of 0011, now writing both resolutions from the one set of moved deltas.
CREATE OR REPLACE FUNCTION usage_rollup_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7311);
    WITH moved AS (
        DELETE FROM usage_rollup_deltas RETURNING *
    ), grouped AS (
        SELECT hour, component, provider, model, task_type, tier,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
               sum(cache_write_tokens) AS cache_write_tokens, sum(reasoning_tokens) AS reasoning_tokens, sum(cost_usd) AS cost_usd,
               sum(records) AS records, sum(unpriced_records) AS unpriced_records, count(*) AS deltas
        FROM moved GROUP BY hour, component, provider, model, task_type, tier
    ), hourly AS (
        INSERT INTO usage_hourly AS h (hour, component, provider, model, task_type, tier, input_tokens, output_tokens,
                                       cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
        SELECT hour, component, provider, model, task_type, tier, input_tokens, output_tokens, cache_read_tokens,
               cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records
        FROM grouped
        ON CONFLICT ON CONSTRAINT usage_hourly_scope DO UPDATE SET
            input_tokens       = h.input_tokens + EXCLUDED.input_tokens,
            output_tokens      = h.output_tokens + EXCLUDED.output_tokens,
            cache_read_tokens  = h.cache_read_tokens + EXCLUDED.cache_read_tokens,
            cache_write_tokens = h.cache_write_tokens + EXCLUDED.cache_write_tokens,
            reasoning_tokens   = h.reasoning_tokens + EXCLUDED.reasoning_tokens,
            cost_usd           = h.cost_usd + EXCLUDED.cost_usd,
            records            = h.records + EXCLUDED.records,
            unpriced_records   = h.unpriced_records + EXCLUDED.unpriced_records
    ), daily AS (
        INSERT INTO usage_daily AS d (day, component, provider, model, task_type, tier, input_tokens, output_tokens,
                                      cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
        SELECT date_trunc('day', hour, 'UTC'), component, provider, model, task_type, tier, sum(input_tokens), sum(output_tokens),
               sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd), sum(records), sum(unpriced_records)
        FROM grouped
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT usage_daily_scope DO UPDATE SET
            input_tokens       = d.input_tokens + EXCLUDED.input_tokens,
            output_tokens      = d.output_tokens + EXCLUDED.output_tokens,
            cache_read_tokens  = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
            cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
            reasoning_tokens   = d.reasoning_tokens + EXCLUDED.reasoning_tokens,
            cost_usd           = d.cost_usd + EXCLUDED.cost_usd,
            records            = d.records + EXCLUDED.records,
            unpriced_records   = d.unpriced_records + EXCLUDED.unpriced_records
    )
    -- (Data-modifying CTEs always run to completion, referenced or not.)
    SELECT coalesce(sum(deltas), 0) INTO v_count FROM grouped;
    RETURN v_count;
END $$;

-- The daily and monthly spend views read the daily rollups (same columns as in 0012).
CREATE OR REPLACE VIEW report.spend_daily AS
SELECT (day AT TIME ZONE 'UTC')::date AS day, component, provider, model, task_type,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM (
    SELECT day, component, provider, model, task_type, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
           reasoning_tokens, cost_usd, records, unpriced_records FROM public.usage_daily
    UNION ALL
    SELECT date_trunc('day', hour, 'UTC'), component, provider, model, task_type, input_tokens, output_tokens, cache_read_tokens,
           cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records FROM public.usage_rollup_deltas
) d
GROUP BY 1, 2, 3, 4, 5
HAVING sum(records) <> 0;

CREATE OR REPLACE VIEW report.spend_monthly AS
SELECT date_trunc('month', day)::date AS month, component, provider, model, task_type,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM report.spend_daily
GROUP BY 1, 2, 3, 4, 5;
