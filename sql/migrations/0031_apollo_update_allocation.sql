-- Apollo's update_allocation (/api/v1/compat/apollo/allocations/{context_id}/update): a top-up
-- (more tokens), an extension (a later expiry), or both, of a context's current allocation, which
-- keeps its id.
--
-- A top-up is reserved by budget_allocate as an allocation of its own for the added tokens, with
-- the context's scope and priority, so it is decided like any allocation: a hard limit denies it,
-- priority 10 bypasses (recorded), warn thresholds are noted, and a denied top-up is on record as
-- a denied allocation while the context's allocation stays as it was. A granted top-up's shares
-- are then moved onto the context's allocation, and the top-up's own row is closed as released
-- with nothing left to free (metadata apollo_top_up_of names the allocation it went to). The
-- windows' reserved sums do not change in the move; from then on the context's allocation
-- reserves the added tokens too: usage shrinks them, release and expiry free them.
--
-- The expiry is checked before anything is written: the new one (p_expires_at, or the current
-- expiry plus p_extend_seconds) must lie in the future and at most 30 days ahead, else the answer
-- is 'bad_expiry' and nothing changes. Only an active allocation (not released, not expired) can
-- be updated ('inactive' otherwise).
CREATE FUNCTION apollo_update_allocation(p_context_id text, p_allocation_id uuid, p_top_up jsonb, p_windows jsonb, p_tokens bigint,
                                         p_extend_seconds bigint, p_expires_at timestamptz, p_generation bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    c            apollo_allocations;
    a            allocations;
    w            jsonb;
    v_expires_at timestamptz;
    v_top_up     uuid := (p_top_up->>'id')::uuid;
    v_result     jsonb := jsonb_build_object('outcome', 'updated', 'limits', '[]'::jsonb, 'bypassed', '[]'::jsonb);
    v_bypass     boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    PERFORM pg_advisory_xact_lock(7310, hashtext(p_context_id));   -- as apollo_allocate: one write per context at a time
    SELECT * INTO c FROM apollo_allocations WHERE context_id = p_context_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    IF c.allocation_id <> p_allocation_id THEN
        RETURN jsonb_build_object('outcome', 'changed');
    END IF;
    SELECT * INTO a FROM allocations WHERE id = c.allocation_id FOR UPDATE;
    IF c.released_at IS NOT NULL OR a.status <> 'active' OR a.expires_at <= now() THEN
        RETURN jsonb_build_object('outcome', 'inactive',
            'status', CASE WHEN c.released_at IS NOT NULL THEN 'released' WHEN a.status = 'active' THEN 'expired' ELSE a.status END);
    END IF;

    v_expires_at := coalesce(p_expires_at, a.expires_at + make_interval(secs => coalesce(p_extend_seconds, 0)));
    IF v_expires_at <= now() OR v_expires_at > now() + interval '30 days' THEN
        RETURN jsonb_build_object('outcome', 'bad_expiry', 'expires_at', v_expires_at);
    END IF;

    IF p_tokens > 0 THEN
        -- The top-up's windows and the allocation's own, locked in the global order first.
        FOR w IN
            SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
            FROM (SELECT value FROM jsonb_array_elements(p_windows)
                  UNION ALL
                  SELECT jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                            'window_start', lw.window_start, 'window_end', lw.window_end)
                  FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
                  WHERE aw.allocation_id = c.allocation_id) x
            ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
        LOOP
            PERFORM limit_window_lock((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz,
                                      (w->>'window_end')::timestamptz);
        END LOOP;

        v_result := budget_allocate(p_top_up, p_windows, p_generation, NULL, 'apollo');
        IF v_result->>'outcome' <> 'granted' THEN
            RETURN v_result;   -- denied, and on record; the context's allocation is as it was
        END IF;
        v_bypass := coalesce((v_result->'allocation'->>'bypass')::boolean, false);

        INSERT INTO allocation_windows (allocation_id, limit_id, window_key, reserved)
        SELECT c.allocation_id, aw.limit_id, aw.window_key, aw.reserved FROM allocation_windows aw WHERE aw.allocation_id = v_top_up
        ON CONFLICT (allocation_id, limit_id, window_key) DO UPDATE SET reserved = allocation_windows.reserved + excluded.reserved;
        DELETE FROM allocation_windows WHERE allocation_id = v_top_up;
        UPDATE allocations SET status = 'released', finished_at = now(),
                               metadata = metadata || jsonb_build_object('apollo_top_up_of', c.allocation_id)
        WHERE id = v_top_up;
        UPDATE allocations
        SET reserved_tokens = reserved_tokens + (p_top_up->>'reserved_tokens')::bigint,
            reserved_cost_usd = CASE WHEN reserved_cost_usd IS NULL AND p_top_up->>'reserved_cost_usd' IS NULL THEN NULL
                                     ELSE coalesce(reserved_cost_usd, 0) + coalesce((p_top_up->>'reserved_cost_usd')::numeric, 0) END,
            bypass = bypass OR v_bypass
        WHERE id = c.allocation_id;
        UPDATE apollo_allocations SET tokens_allocated = tokens_allocated + p_tokens, bypass = bypass OR v_bypass
        WHERE context_id = p_context_id;
    END IF;

    IF v_expires_at <> a.expires_at THEN
        UPDATE allocations SET expires_at = v_expires_at WHERE id = c.allocation_id;
        UPDATE apollo_allocations SET expires_at = v_expires_at WHERE context_id = p_context_id;
    END IF;
    RETURN jsonb_build_object('outcome', 'updated', 'limits', coalesce(v_result->'limits', '[]'), 'bypassed', coalesce(v_result->'bypassed', '[]'));
END $$;

CREATE FUNCTION apollo_update_allocation_keyed(p_context_id text, p_allocation_id uuid, p_top_up jsonb, p_windows jsonb, p_tokens bigint,
                                               p_extend_seconds bigint, p_expires_at timestamptz, p_generation bigint,
                                               p_idempotency_key text, p_request_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_answer jsonb := idempotency_begin('apollo.update:' || p_context_id, p_idempotency_key, p_request_hash);
BEGIN
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    RETURN apollo_keep_answer('apollo.update:' || p_context_id, p_idempotency_key, p_context_id,
                              apollo_update_allocation(p_context_id, p_allocation_id, p_top_up, p_windows, p_tokens,
                                                       p_extend_seconds, p_expires_at, p_generation));
END $$;
