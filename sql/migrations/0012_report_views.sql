-- The `report` schema: documented, read-only views for analysts and any SQL tool (examples in
-- docs/REPORTING.md). Spend views read the hourly rollups (folded + not yet folded deltas), so
-- they are exact and fast; days and months here are UTC (for other zones use
-- GET /api/v1/reports/spend, or regroup report.usage_hourly with AT TIME ZONE).
-- Provider and model are the keys the engine matches on (trimmed, lower-cased).

CREATE SCHEMA report;
COMMENT ON SCHEMA report IS 'Read-only reporting views over the Budget ledger (see docs/REPORTING.md).';

CREATE VIEW report.usage_hourly AS
SELECT hour, component, provider, model, task_type, tier,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM (
    SELECT hour, component, provider, model, task_type, tier, input_tokens, output_tokens, cache_read_tokens,
           cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records FROM public.usage_hourly
    UNION ALL
    SELECT hour, component, provider, model, task_type, tier, input_tokens, output_tokens, cache_read_tokens,
           cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records FROM public.usage_rollup_deltas
) h
GROUP BY hour, component, provider, model, task_type, tier
HAVING sum(records) <> 0;
COMMENT ON VIEW report.usage_hourly IS 'Exact usage per UTC hour and scope (component, provider key, model key, task_type, tier): token sums by kind, cost_usd (sum of known costs), records, unpriced_records. Includes rows whose raw partitions were dropped for retention.';

CREATE VIEW report.spend_daily AS
SELECT (date_trunc('day', hour, 'UTC') AT TIME ZONE 'UTC')::date AS day, component, provider, model, task_type,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM report.usage_hourly
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW report.spend_daily IS 'Spend per UTC day by component, provider, model and task_type (tiers summed). Filter on day; group further as needed.';

CREATE VIEW report.spend_monthly AS
SELECT (date_trunc('month', hour, 'UTC') AT TIME ZONE 'UTC')::date AS month, component, provider, model, task_type,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cache_read_tokens)::bigint AS cache_read_tokens, sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM report.usage_hourly
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW report.spend_monthly IS 'Spend per UTC month (first day of the month) by component, provider, model and task_type.';

-- Windows are computed in the budget's zone as the engine does (top of the hour, local
-- midnight, Monday 00:00, the 1st 00:00). A window nobody has touched yet has no counter row:
-- its spend is then read from the ledger.
CREATE VIEW report.limit_status AS
WITH current_limits AS (
    SELECT l.*, b.name AS budget_name, b.timezone
    FROM public.limits l JOIN public.budgets b ON b.id = l.budget_id
    WHERE l.valid_to IS NULL AND b.deleted_at IS NULL AND b.active
      AND l.period IN ('hourly', 'daily', 'weekly', 'monthly')
), windows AS (
    SELECT c.*, s.local_start,
           (s.local_start AT TIME ZONE c.timezone) AS window_start,
           ((s.local_start + CASE c.period WHEN 'hourly' THEN interval '1 hour' WHEN 'daily' THEN interval '1 day'
                                           WHEN 'weekly' THEN interval '7 days' ELSE interval '1 month' END) AT TIME ZONE c.timezone) AS window_end
    FROM current_limits c,
         LATERAL (SELECT date_trunc(CASE c.period WHEN 'hourly' THEN 'hour' WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                                    now() AT TIME ZONE c.timezone) AS local_start) s
), measured AS (
    SELECT w.*, lw.reserved AS counter_reserved,
           coalesce(lw.spent, public.limit_window_backfill(w.id, '', w.window_start, w.window_end)) AS spent
    FROM windows w
    LEFT JOIN public.limit_windows lw ON lw.limit_id = w.id AND lw.window_start = w.window_start AND lw.window_end = w.window_end
)
SELECT budget_id, budget_name, id AS limit_id, version AS limit_version,
       component, provider, model, task_type, tier, tag,
       period, metric, policy, amount, warn_at, timezone, window_start, window_end,
       spent, coalesce(counter_reserved, 0) AS reserved,
       amount - spent - coalesce(counter_reserved, 0) AS remaining,
       CASE WHEN spent > amount THEN 'exceeded'
            WHEN amount > 0 AND spent >= amount * warn_at THEN 'warning'
            WHEN amount = 0 AND spent > 0 THEN 'exceeded'
            ELSE 'ok' END AS state
FROM measured;
COMMENT ON VIEW report.limit_status IS 'The current window of every current hourly/daily/weekly/monthly limit of active budgets: spent, reserved, remaining and state (ok, warning, exceeded). per_session/per_task windows: see public.limit_windows.';

CREATE VIEW report.top_spenders AS
SELECT rank() OVER (ORDER BY sum(cost_usd) DESC) AS rank, component,
       sum(cost_usd) AS cost_usd, sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records,
       sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::bigint AS tokens,
       (array_agg(model ORDER BY cost_usd DESC))[1] AS costliest_model
FROM report.usage_hourly
WHERE hour >= date_trunc('hour', now(), 'UTC') - interval '30 days'
GROUP BY component;
COMMENT ON VIEW report.top_spenders IS 'Components ranked by known cost over the last 30 days (UTC hours), with tokens, records and unpriced records. For other periods, group report.spend_daily.';

CREATE VIEW report.unpriced_usage AS
SELECT provider, model, sum(records)::bigint AS records_total, sum(unpriced_records)::bigint AS unpriced_records,
       min(hour) FILTER (WHERE unpriced_records > 0) AS first_hour, max(hour) FILTER (WHERE unpriced_records > 0) AS last_hour,
       (SELECT p.id FROM public.prices p WHERE p.provider_key = h.provider AND p.model_key = h.model AND p.effective_to IS NULL) AS current_price_id
FROM report.usage_hourly h
GROUP BY provider, model
HAVING sum(unpriced_records) > 0;
COMMENT ON VIEW report.unpriced_usage IS 'Provider/model pairs with usage whose cost is unknown (pricing_status unpriced): how many rows, when; current_price_id set means `budget reprice` can price them now.';

CREATE VIEW report.price_history AS
SELECT provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
       cache_write_per_token, reasoning_per_token, status, source, set_by, effective_from, effective_to,
       effective_to IS NULL AS current, id AS price_id,
       (SELECT count(*) FROM public.usage_records u WHERE u.price_id = p.id) AS priced_records
FROM public.prices p;
COMMENT ON VIEW report.price_history IS 'Every price version (USD per token) with its validity, status and source; priced_records counts the ledger rows it priced (kept raw rows only). Filter by provider_key/model_key.';

CREATE VIEW report.token_vs_cost AS
SELECT (date_trunc('day', hour, 'UTC') AT TIME ZONE 'UTC')::date AS day, provider, model,
       sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::bigint AS tokens,
       sum(cost_usd) AS cost_usd,
       CASE WHEN sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE unpriced_records = 0) > 0
            THEN round(sum(cost_usd) FILTER (WHERE unpriced_records = 0) * 1000
                       / sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) FILTER (WHERE unpriced_records = 0), 10) END AS usd_per_1k_tokens,
       sum(records)::bigint AS records, sum(unpriced_records)::bigint AS unpriced_records
FROM report.usage_hourly
GROUP BY 1, 2, 3;
COMMENT ON VIEW report.token_vs_cost IS 'Tokens against cost per UTC day and model; usd_per_1k_tokens is the effective price over hours without unpriced rows (rounded to 10 places, display only).';

CREATE VIEW report.ledger_partitions AS
SELECT c.relname::text AS partition, r.range_from, r.range_to, r.range_from IS NULL AS is_default,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END AS row_estimate,
       pg_total_relation_size(c.oid) AS total_bytes, pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid, LATERAL public.usage_partition_range(c.oid) r
WHERE i.inhparent = 'public.usage_records'::regclass
UNION ALL
SELECT partition || ' (dropped)', range_from, range_to, false, rows, 0, 'dropped ' || to_char(dropped_at, 'YYYY-MM-DD')
FROM public.ledger_dropped_partitions;
COMMENT ON VIEW report.ledger_partitions IS 'The ledger''s partitions: name, UTC range (NULL for the default partition), row estimate (from the last ANALYZE; NULL if never analysed), size; and partitions dropped for retention with their exact row count.';
