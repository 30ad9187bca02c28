-- Repricing: usage recorded as `unpriced` gets its cost once a price is known, and usage priced
-- by a version later found wrong gets the current price; the dollar windows it counts against
-- get the difference — exactly once, however often a reprice runs. Each record names the state
-- it is expected in (unpriced, or priced by `previous_price_id`); a row no longer in it is left.

CREATE FUNCTION budget_reprice(p_records jsonb, p_generation bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    w            jsonb;
    v_updated    uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;

    -- Windows first (created from the ledger as it is now, still unpriced), in the global order.
    FOR w IN
        SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
        FROM (SELECT jsonb_array_elements(r->'windows') AS value FROM jsonb_array_elements(p_records) r) x
        ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
    LOOP
        PERFORM limit_window_lock((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz, (w->>'window_end')::timestamptz);
    END LOOP;

    -- Only rows still as expected change (a concurrent or earlier reprice may have done them).
    WITH changed AS (
        UPDATE usage_records u
        SET cost_usd = (r->>'cost_usd')::numeric, pricing_status = 'priced', price_id = (r->>'price_id')::uuid
        FROM jsonb_array_elements(p_records) r
        WHERE u.id = (r->>'id')::uuid AND u.occurred_at = (r->>'occurred_at')::timestamptz
          AND CASE WHEN r->>'previous_price_id' IS NULL THEN u.pricing_status = 'unpriced'
                   ELSE u.pricing_status = 'priced' AND u.price_id = (r->>'previous_price_id')::uuid END
        RETURNING u.id
    )
    SELECT coalesce(array_agg(id), '{}') INTO v_updated FROM changed;

    FOR w IN
        SELECT (array_agg(x.value))[1] || jsonb_build_object('request', sum((x.value->>'request')::numeric)::text)
        FROM (SELECT jsonb_array_elements(r->'windows') AS value FROM jsonb_array_elements(p_records) r
              WHERE (r->>'id')::uuid = ANY (v_updated)) x
        GROUP BY (x.value->>'limit_id')::uuid, x.value->>'window_key'
    LOOP
        PERFORM limit_window_add_spend(w, (w->>'request')::numeric);
    END LOOP;

    RETURN jsonb_build_object('outcome', 'repriced', 'ids', to_jsonb(v_updated));
END $$;
