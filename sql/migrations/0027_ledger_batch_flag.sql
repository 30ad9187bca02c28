-- The ledger says which usage was made through a provider's batch API.
--
-- Why: a batch call is priced at the model's batch rates when it is recorded (CostCalculator), but
-- the ledger did not keep that it was one. A later reprice (automatic for unpriced rows when a
-- price arrives, or `budget reprice`) then priced it at the ordinary rates: for a model whose
-- batch rates are half, twice the cost. Now every row has `batch`, the record JSON carries
-- `"batch": true` for a batch call, and the repricer applies the batch rates to such rows. Rows
-- recorded before this migration cannot be told apart and keep `false`.
--
-- ledger_append (0003: POST /usage, /usage/batch and per-call commits) is redefined with the
-- column and otherwise unchanged; budget_engine_run (batched commits) writes it from 0028 on.

ALTER TABLE usage_records ADD COLUMN batch boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION ledger_append(p_records jsonb, p_extra_locks jsonb DEFAULT '[]') RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w     jsonb;
    v_new uuid[];
BEGIN
    -- The rows first (they touch no shared row), then the windows they count against.
    INSERT INTO usage_records (id, occurred_at, component, provider, model, provider_key, model_key, task_type, tier, tags,
                               session_id, task_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                               reasoning_tokens, cost_usd, pricing_status, price_id, allocation_id, request_id, origin, metadata, batch)
    SELECT (r->>'id')::uuid, (r->>'occurred_at')::timestamptz, r->'scope'->>'component', r->'scope'->>'provider', r->'scope'->>'model',
           lower(btrim(r->'scope'->>'provider')), lower(btrim(r->'scope'->>'model')), r->'scope'->>'task_type', r->'scope'->>'tier',
           coalesce(ARRAY(SELECT jsonb_array_elements_text(r->'scope'->'tags')), '{}'),
           r->'scope'->>'session_id', r->'scope'->>'task_id',
           (r->'usage'->>'input_tokens')::bigint, (r->'usage'->>'output_tokens')::bigint, (r->'usage'->>'cache_read_tokens')::bigint,
           (r->'usage'->>'cache_write_tokens')::bigint, (r->'usage'->>'reasoning_tokens')::bigint,
           (r->>'cost_usd')::numeric, r->>'pricing_status', (r->>'price_id')::uuid, (r->>'allocation_id')::uuid,
           r->>'request_id', r->>'origin', coalesce(r->'metadata', '{}'), coalesce((r->>'batch')::boolean, false)
    FROM jsonb_array_elements(p_records) r;

    PERFORM record_budget_event('unpriced_usage', NULL, NULL,
        format('unpriced:%s:%s', lower(btrim(r->'scope'->>'provider')), lower(btrim(r->'scope'->>'model'))),
        jsonb_build_object('provider', r->'scope'->>'provider', 'model', r->'scope'->>'model'))
    FROM jsonb_array_elements(p_records) r WHERE r->>'pricing_status' = 'unpriced';

    v_new := ARRAY(SELECT (r->>'id')::uuid FROM jsonb_array_elements(p_records) r);

    -- Lock (creating with the spend already in the ledger, less the new rows) every window
    -- touched, in the global order, then add the spend.
    FOR w IN
        SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
        FROM (SELECT jsonb_array_elements(r->'windows') AS value FROM jsonb_array_elements(p_records) r
              UNION ALL SELECT jsonb_array_elements(p_extra_locks)) x
        ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
    LOOP
        PERFORM limit_window_lock((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz,
                                  (w->>'window_end')::timestamptz, v_new);
    END LOOP;

    FOR w IN
        SELECT (array_agg(x.value))[1] || jsonb_build_object('request', sum((x.value->>'request')::numeric)::text)
        FROM (SELECT jsonb_array_elements(r->'windows') AS value FROM jsonb_array_elements(p_records) r) x
        GROUP BY (x.value->>'limit_id')::uuid, x.value->>'window_key'
    LOOP
        PERFORM limit_window_add_spend(w, (w->>'request')::numeric);
    END LOOP;
END $$;
