-- Hourly rollups of the ledger, exact for every write path, and the ledger's partition upkeep
-- (settling far-off rows, retention of raw partitions).
--
-- How the rollups stay exact
-- --------------------------
-- Three statement-level AFTER triggers on the partitioned parent `usage_records` (INSERT, UPDATE,
-- DELETE), each with a transition table, append the statement's aggregated change to
-- `usage_rollup_deltas` — one row per (UTC hour, component, provider key, model key, task type,
-- tier) the statement touched, with signed sums. They fire for every statement that names the
-- parent: the engine's `ledger_append`, the Rhetor import's INSERT … SELECT, `budget_reprice`'s
-- UPDATE of cost and status, and `budget dev seed`. A delta commits or rolls back with the rows it
-- describes, so the ledger and the deltas never disagree.
--
-- Appending (never updating) deltas keeps the write path free of a shared hot row: concurrent
-- writers of the same hour and scope insert separate delta rows instead of waiting for each other.
-- `usage_rollup_fold()` (run by `budget serve` every few seconds, and callable any time) moves the
-- deltas into `usage_hourly` in one transaction. Readers take `usage_hourly` plus the deltas not
-- folded yet in ONE statement (see the view `report.usage_hourly`), so whatever a fold is doing,
-- a report sees a consistent, exact total.
--
-- What does not fire the triggers, on purpose: `ensure_usage_partition` moving rows from the
-- default partition into a new month (the DELETE names the partition, not the parent, and the
-- INSERT goes into a table not yet attached: the rows only change place), and dropping old raw
-- partitions for retention (DETACH + DROP is not DML: the rollups keep those months).
--
-- Hours are UTC hours. Reports in a zone whose offset is a whole number of hours regroup them
-- exactly; other zones (Asia/Kolkata, +05:30) are answered from the raw ledger (see docs/REPORTING.md).

CREATE TABLE usage_hourly (
    hour               timestamptz NOT NULL,   -- start of the UTC hour
    component          text,
    provider           text,                   -- provider key (trimmed, lower-cased), as limits match it
    model              text,                   -- model key
    task_type          text,
    tier               text,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    reasoning_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd           numeric NOT NULL DEFAULT 0,   -- sum of the known costs (unpriced rows add nothing)
    records            bigint NOT NULL DEFAULT 0,
    unpriced_records   bigint NOT NULL DEFAULT 0,    -- rows whose cost is unknown (cost_usd NULL)
    CONSTRAINT usage_hourly_scope UNIQUE NULLS NOT DISTINCT (hour, component, provider, model, task_type, tier)
);
COMMENT ON TABLE usage_hourly IS 'Folded hourly rollups of usage_records per UTC hour and scope. Exact together with usage_rollup_deltas (read report.usage_hourly).';

-- No key and no index: a delta is only ever appended, then read and deleted all at once by the
-- fold, so each ledger write adds one heap row and nothing more.
CREATE TABLE usage_rollup_deltas (
    hour               timestamptz NOT NULL,
    component          text,
    provider           text,
    model              text,
    task_type          text,
    tier               text,
    input_tokens       bigint NOT NULL,
    output_tokens      bigint NOT NULL,
    cache_read_tokens  bigint NOT NULL,
    cache_write_tokens bigint NOT NULL,
    reasoning_tokens   bigint NOT NULL,
    cost_usd           numeric NOT NULL,
    records            bigint NOT NULL,
    unpriced_records   bigint NOT NULL
);
COMMENT ON TABLE usage_rollup_deltas IS 'Append-only signed changes to usage_hourly written by the usage_records triggers; moved into usage_hourly by usage_rollup_fold().';

-- One function per event: a trigger with transition tables may have only one event.
CREATE FUNCTION usage_rollup_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_rollup_deltas (hour, component, provider, model, task_type, tier, input_tokens, output_tokens,
                                     cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
    SELECT date_trunc('hour', occurred_at, 'UTC'), component, provider_key, model_key, task_type, tier,
           sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens),
           coalesce(sum(cost_usd), 0), count(*), count(*) FILTER (WHERE cost_usd IS NULL)
    FROM usage_rollup_new
    GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END $$;

CREATE FUNCTION usage_rollup_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_rollup_deltas (hour, component, provider, model, task_type, tier, input_tokens, output_tokens,
                                     cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
    SELECT date_trunc('hour', occurred_at, 'UTC'), component, provider_key, model_key, task_type, tier,
           -sum(input_tokens), -sum(output_tokens), -sum(cache_read_tokens), -sum(cache_write_tokens), -sum(reasoning_tokens),
           -coalesce(sum(cost_usd), 0), -count(*), -count(*) FILTER (WHERE cost_usd IS NULL)
    FROM usage_rollup_old
    GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END $$;

-- An UPDATE is the new rows minus the old ones; groups whose change is zero write nothing.
CREATE FUNCTION usage_rollup_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_rollup_deltas (hour, component, provider, model, task_type, tier, input_tokens, output_tokens,
                                     cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
    SELECT * FROM (
        SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, component, provider_key, model_key, task_type, tier,
               sum(s * input_tokens) AS i, sum(s * output_tokens) AS o, sum(s * cache_read_tokens) AS cr,
               sum(s * cache_write_tokens) AS cw, sum(s * reasoning_tokens) AS r,
               coalesce(sum(s * cost_usd), 0) AS c, sum(s) AS n, coalesce(sum(s) FILTER (WHERE cost_usd IS NULL), 0) AS un
        FROM (SELECT 1 AS s, * FROM usage_rollup_new UNION ALL SELECT -1 AS s, * FROM usage_rollup_old) x
        GROUP BY 1, 2, 3, 4, 5, 6
    ) d
    WHERE i <> 0 OR o <> 0 OR cr <> 0 OR cw <> 0 OR r <> 0 OR c <> 0 OR n <> 0 OR un <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_records
    REFERENCING NEW TABLE AS usage_rollup_new FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_after_insert();
CREATE TRIGGER usage_rollup_update AFTER UPDATE ON usage_records
    REFERENCING OLD TABLE AS usage_rollup_old NEW TABLE AS usage_rollup_new FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_after_update();
CREATE TRIGGER usage_rollup_delete AFTER DELETE ON usage_records
    REFERENCING OLD TABLE AS usage_rollup_old FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_after_delete();

-- Moves every committed delta into usage_hourly, in one transaction; returns how many deltas.
-- Folds are serialised; deltas committed while a fold runs wait for the next one (readers add
-- them meanwhile).
CREATE FUNCTION usage_rollup_fold() RETURNS bigint LANGUAGE plpgsql AS $$
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
    ), upserted AS (
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
    )
    -- (A data-modifying CTE always runs to completion, referenced or not.) A scope whose rows were
    -- all deleted keeps a row with records = 0; readers skip such groups.
    SELECT coalesce(sum(deltas), 0) INTO v_count FROM grouped;
    RETURN v_count;
END $$;

-- The ledger as it is now (existing deployments).
INSERT INTO usage_hourly (hour, component, provider, model, task_type, tier, input_tokens, output_tokens,
                          cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, records, unpriced_records)
SELECT date_trunc('hour', occurred_at, 'UTC'), component, provider_key, model_key, task_type, tier,
       sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens),
       coalesce(sum(cost_usd), 0), count(*), count(*) FILTER (WHERE cost_usd IS NULL)
FROM usage_records
GROUP BY 1, 2, 3, 4, 5, 6;

-- Partitions --------------------------------------------------------------------------------------

-- The range of a monthly partition, read from the catalog (NULLs for the default partition).
CREATE FUNCTION usage_partition_range(p_partition regclass, OUT range_from timestamptz, OUT range_to timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT m[1]::timestamptz, m[2]::timestamptz
    FROM pg_class c, LATERAL (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS m) x
    WHERE c.oid = p_partition
$$;

-- Rows that went to the default partition because their month had no partition (an import of
-- old usage, a clock a little ahead) get their month's partition, which takes them out of the
-- default. Months beyond `p_months_ahead` stay in the default (a clock years off is an error to
-- look at, not a reason to create partitions). Returns the partitions created.
CREATE FUNCTION usage_partitions_settle(p_months_ahead integer DEFAULT 3) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v_month date;
    v_limit timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead + 1)) AT TIME ZONE 'UTC';
BEGIN
    FOR v_month IN
        SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM usage_records_default
        WHERE occurred_at < v_limit ORDER BY 1
    LOOP
        RETURN NEXT ensure_usage_partition(v_month);
    END LOOP;
END $$;

-- Raw partitions dropped for retention: what they held, so reports can say the raw rows are gone.
CREATE TABLE ledger_dropped_partitions (
    partition   text PRIMARY KEY,
    range_from  timestamptz NOT NULL,
    range_to    timestamptz NOT NULL,
    rows        bigint NOT NULL,
    cost_usd    numeric NOT NULL,
    dropped_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ledger_dropped_partitions IS 'Monthly raw ledger partitions dropped by BUDGET_RAW_RETENTION_MONTHS; their usage remains in usage_hourly.';

-- Detaches and drops the monthly partitions that end before the start of the month `p_keep_months`
-- months ago (UTC), after folding the rollup deltas. The rollups keep those months; the default
-- partition is never touched. Returns the partitions dropped.
CREATE FUNCTION usage_drop_raw_partitions(p_keep_months integer) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v_cutoff timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => p_keep_months)) AT TIME ZONE 'UTC';
    p        record;
    v_rows   bigint;
    v_cost   numeric;
BEGIN
    IF p_keep_months IS NULL OR p_keep_months < 1 THEN
        RAISE EXCEPTION 'retention must keep at least one month (got %)', p_keep_months;
    END IF;
    PERFORM usage_rollup_fold();
    FOR p IN
        SELECT c.oid::regclass AS part, c.relname::text AS name, r.range_from, r.range_to
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid, LATERAL usage_partition_range(c.oid) r
        WHERE i.inhparent = 'usage_records'::regclass AND r.range_to IS NOT NULL AND r.range_to <= v_cutoff
        ORDER BY r.range_from
    LOOP
        EXECUTE format('SELECT count(*), coalesce(sum(cost_usd), 0) FROM %s', p.part) INTO v_rows, v_cost;
        EXECUTE format('ALTER TABLE usage_records DETACH PARTITION %s', p.part);
        EXECUTE format('DROP TABLE %s', p.part);
        INSERT INTO ledger_dropped_partitions (partition, range_from, range_to, rows, cost_usd)
        VALUES (p.name, p.range_from, p.range_to, v_rows, v_cost)
        ON CONFLICT (partition) DO UPDATE SET rows = ledger_dropped_partitions.rows + EXCLUDED.rows,
            cost_usd = ledger_dropped_partitions.cost_usd + EXCLUDED.cost_usd, dropped_at = now();
        RETURN NEXT p.name;
    END LOOP;
END $$;
