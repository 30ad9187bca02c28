SET client_min_messages = warning;
-- Set-up for timing budget_engine_run alone, one backend, no HTTP (docs/PERFORMANCE.md,
-- docs/bench-engine-run.sh). Run it in a throwaway database: it adds a budget, an enforced daily
-- limit and the helpers below, and every timed batch writes allocations and usage.
--
-- A batch is N allocates and the commits of the previous batch's N allocations, in the shape
-- the server sends (EngineCall.batch): the allocation and record with their scope, the window
-- with its limit, and the caller's request hash. Batches are made ahead (bench_engine_make) so
-- that making them is not timed; the timed script (docs/bench-engine-run.pgbench.sql) reads the
-- next one as text and passes it as the server does, as a text parameter cast to jsonb.

CREATE SCHEMA IF NOT EXISTS bench_engine;

INSERT INTO budgets (name, owner, description, timezone, active)
SELECT 'bench-engine', 'bench', 'docs/bench-engine-run.sql', 'UTC', true
WHERE NOT EXISTS (SELECT 1 FROM budgets WHERE name = 'bench-engine' AND deleted_at IS NULL);

INSERT INTO limits (id, version, budget_id, component, period, metric, amount, policy)
SELECT gen_random_uuid(), 1, b.id, 'bench-engine', 'daily', 'cost_usd', 1000000, 'enforce'
FROM budgets b
WHERE b.name = 'bench-engine' AND b.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM limits l WHERE l.budget_id = b.id AND l.valid_to IS NULL);

CREATE TABLE IF NOT EXISTS bench_engine.batches (n bigint PRIMARY KEY, payload text NOT NULL);
CREATE TABLE IF NOT EXISTS bench_engine.ids (n bigint, i integer, id uuid NOT NULL, PRIMARY KEY (n, i));

-- Allocation and usage ids: time-ordered (version 7, as Budget makes them) or random (version 4,
-- as it made them before; set bench_engine.ids to v4).
CREATE OR REPLACE FUNCTION bench_engine.new_id() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN current_setting('bench_engine.ids', true) = 'v4' THEN gen_random_uuid()
                ELSE encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                                                    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid END
$$;
CREATE SEQUENCE IF NOT EXISTS bench_engine.made;
CREATE SEQUENCE IF NOT EXISTS bench_engine.next;

-- The batch numbered p_n: p_calls allocates, and the commits of batch p_n - 1's allocations.
CREATE OR REPLACE FUNCTION bench_engine.batch(p_n bigint, p_calls integer) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_limit  limits;
    v_budget text;
    v_gen    bigint;
    v_day    timestamptz := date_trunc('day', now(), 'UTC');
    v_scope  jsonb := '{"component":"bench-engine","provider":"benchprov","model":"bench-model","task_type":"bench","tags":[]}';
    v_window jsonb;
    v_out    jsonb := '[]';
    v_id     text;
    v_prior  text;
BEGIN
    SELECT l.* INTO v_limit FROM limits l JOIN budgets b ON b.id = l.budget_id
    WHERE b.name = 'bench-engine' AND b.deleted_at IS NULL AND l.valid_to IS NULL;
    SELECT name INTO v_budget FROM budgets WHERE id = v_limit.budget_id;
    SELECT generation INTO v_gen FROM catalog_generation;
    v_window := jsonb_build_object('limit_id', upper(v_limit.id::text), 'limit_version', v_limit.version,
        'budget_id', upper(v_limit.budget_id::text), 'budget_name', v_budget, 'scope', jsonb_build_object('component', v_limit.component),
        'period', v_limit.period, 'metric', v_limit.metric, 'policy', v_limit.policy, 'warn_at', v_limit.warn_at::text,
        'amount', v_limit.amount::text, 'window_key', to_char(v_day AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'window_start', to_char(v_day AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'window_end', to_char((v_day + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
    FOR k IN 1 .. p_calls LOOP
        v_id := upper(bench_engine.new_id()::text);
        INSERT INTO bench_engine.ids VALUES (p_n, k, v_id::uuid);
        v_out := v_out || jsonb_build_array(jsonb_build_object(
            'op', 'allocate',
            'allocation', jsonb_build_object('id', v_id, 'scope', v_scope, 'priority', 'normal', 'reserved_cost_usd', '0.0105',
                                             'reserved_tokens', 1500, 'expires_at', now() + interval '1 hour', 'metadata', '{}'::jsonb),
            'windows', jsonb_build_array(v_window || jsonb_build_object('request', '0.0105')),
            'generation', v_gen, 'request_hash', md5(v_id) || md5(v_id), 'idempotency_key', NULL));
        v_prior := (SELECT ids.id::text FROM bench_engine.ids WHERE ids.n = p_n - 1 AND ids.i = k);
        IF v_prior IS NOT NULL THEN
            v_out := v_out || jsonb_build_array(jsonb_build_object(
                'op', 'commit', 'allocation_id', v_prior,
                'record', jsonb_build_object('id', upper(bench_engine.new_id()::text), 'occurred_at', now(), 'scope', v_scope,
                    'usage', '{"input_tokens":1000,"output_tokens":400,"cache_read_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0}'::jsonb,
                    'cost_usd', '0.009', 'pricing_status', 'priced', 'allocation_id', upper(v_prior), 'origin', 'api', 'metadata', '{}'::jsonb,
                    'windows', jsonb_build_array(v_window || jsonb_build_object('request', '0.009'))),
                'generation', v_gen, 'request_hash', md5(v_prior) || md5(v_prior), 'idempotency_key', NULL));
        END IF;
    END LOOP;
    RETURN v_out;
END $$;

-- Makes the next p_batches batches of p_calls allocates (and as many commits) and points the
-- timed script at the first of them.
CREATE OR REPLACE FUNCTION bench_engine.make(p_batches integer, p_calls integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_first bigint;
    v_n     bigint;
BEGIN
    TRUNCATE bench_engine.batches;
    DELETE FROM bench_engine.ids WHERE n < (SELECT last_value - 1 FROM bench_engine.made);
    FOR i IN 1 .. p_batches LOOP
        v_n := nextval('bench_engine.made');
        v_first := coalesce(v_first, v_n);
        INSERT INTO bench_engine.batches VALUES (v_n, bench_engine.batch(v_n, p_calls)::text);
    END LOOP;
    PERFORM setval('bench_engine.next', v_first, false);
    RETURN v_first;
END $$;
