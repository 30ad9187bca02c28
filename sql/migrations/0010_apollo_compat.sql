-- Apollo compatibility (/api/v1/compat/apollo): Apollo's policies and per-context allocations
-- kept on top of the engine. A policy IS a Budget limit (metric tokens, filter tier [+ component,
-- task_type]) in the budget named 'apollo'; this table only remembers Apollo's words for it.
-- An allocation IS an engine allocation (reservation); this table maps Apollo's context_id to it
-- and counts what Apollo counted (tokens allocated and used).

CREATE TABLE apollo_policies (
    policy_id         text PRIMARY KEY CHECK (length(btrim(policy_id)) BETWEEN 1 AND 200),
    limit_id          uuid NOT NULL UNIQUE,
    policy_type       text NOT NULL CHECK (policy_type IN ('ignore', 'warn', 'soft_limit', 'hard_limit')),
    enabled           boolean NOT NULL DEFAULT true,
    action_threshold  numeric NOT NULL DEFAULT 0.95,
    start_date        timestamptz,
    end_date          timestamptz,
    metadata          jsonb NOT NULL DEFAULT '{}',
    -- 'default': seeded when the apollo budget was created (Apollo's _create_default_policies);
    -- 'api' or 'import': set by a caller. An imported policy file replaces the seeded defaults,
    -- as Apollo uses its file instead of the defaults when the file exists.
    source            text NOT NULL CHECK (source IN ('default', 'api', 'import')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE apollo_policies IS 'Apollo policy ids and types of the limits of the apollo budget (Apollo compatibility).';

CREATE TABLE apollo_allocations (
    context_id        text PRIMARY KEY CHECK (length(context_id) BETWEEN 1 AND 500),
    allocation_id     uuid NOT NULL,           -- the current engine allocation (allocations.id)
    component         text,
    provider          text,
    model             text,
    task_type         text NOT NULL,
    tier              text NOT NULL CHECK (tier IN ('local_lightweight', 'local_midweight', 'remote_heavyweight')),
    priority          integer NOT NULL CHECK (priority BETWEEN 1 AND 10),
    tokens_allocated  bigint NOT NULL CHECK (tokens_allocated >= 0),
    tokens_used       bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
    bypass            boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    released_at       timestamptz,
    metadata          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX apollo_allocations_by_tier ON apollo_allocations (tier) WHERE released_at IS NULL;
COMMENT ON TABLE apollo_allocations IS 'Apollo context_id → its current engine allocation, with Apollo''s tokens allocated and used.';

-- Allocate for a context: the previous allocation of the context (if any) is released and the
-- new one reserved in ONE transaction, so the context never holds two reservations. The
-- windows of both are locked first, in the global order, so concurrent re-allocations cannot
-- deadlock. A denied request leaves the context without an active allocation (the caller asked
-- to replace it); the denial itself is recorded by budget_allocate.
CREATE FUNCTION apollo_allocate(p_context jsonb, p_allocation jsonb, p_windows jsonb, p_generation bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    v_context    text := p_context->>'context_id';
    v_previous   apollo_allocations;
    w            jsonb;
    v_result     jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    -- One allocate per context at a time (the row may not exist yet, so a row lock cannot do it).
    PERFORM pg_advisory_xact_lock(7310, hashtext(v_context));
    SELECT * INTO v_previous FROM apollo_allocations WHERE context_id = v_context FOR UPDATE;

    FOR w IN
        SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
        FROM (SELECT value FROM jsonb_array_elements(p_windows)
              UNION ALL
              SELECT jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                        'window_start', lw.window_start, 'window_end', lw.window_end)
              FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
              JOIN allocations a ON a.id = aw.allocation_id AND a.status = 'active'
              WHERE v_previous.allocation_id IS NOT NULL AND aw.allocation_id = v_previous.allocation_id) x
        ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
    LOOP
        PERFORM limit_window_lock((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz, (w->>'window_end')::timestamptz);
    END LOOP;

    IF v_previous.allocation_id IS NOT NULL THEN
        PERFORM budget_release(v_previous.allocation_id);
        UPDATE apollo_allocations SET released_at = coalesce(released_at, now()) WHERE context_id = v_context;
    END IF;

    v_result := budget_allocate(p_allocation, p_windows, p_generation, NULL, 'apollo');
    IF v_result->>'outcome' = 'granted' THEN
        INSERT INTO apollo_allocations (context_id, allocation_id, component, provider, model, task_type, tier, priority,
                                        tokens_allocated, tokens_used, bypass, created_at, expires_at, released_at, metadata)
        VALUES (v_context, (p_allocation->>'id')::uuid, p_context->>'component', p_context->>'provider', p_context->>'model',
                p_context->>'task_type', p_context->>'tier', (p_context->>'priority')::integer,
                (p_context->>'tokens_allocated')::bigint, 0, coalesce((v_result->'allocation'->>'bypass')::boolean, false),
                now(), (p_allocation->>'expires_at')::timestamptz, NULL, coalesce(p_context->'metadata', '{}'))
        ON CONFLICT (context_id) DO UPDATE SET
            allocation_id = excluded.allocation_id, component = excluded.component, provider = excluded.provider,
            model = excluded.model, task_type = excluded.task_type, tier = excluded.tier, priority = excluded.priority,
            tokens_allocated = excluded.tokens_allocated, tokens_used = 0, bypass = excluded.bypass,
            created_at = excluded.created_at, expires_at = excluded.expires_at, released_at = NULL, metadata = excluded.metadata;
    END IF;
    RETURN v_result;
END $$;

-- Record usage against a context's allocation; may be called many times per allocation.
--
-- Exactness: every token lands in the ledger (ledger_append adds it to every window it counts
-- against), and the allocation's open reservation on each of those windows shrinks by the same
-- amount in the same transaction, never below 0. So per window the allocation counts
-- max(reserved, used): reserved tokens that are then used are never counted twice, and usage
-- beyond the reservation (overuse) is counted in full. Release or expiry frees only what is left.
-- Usage after release or expiry is still recorded (it happened); it only has no reservation to shrink.
-- `p_allocation_id` is the allocation the caller priced the record for; if the context was
-- re-allocated meanwhile the answer is 'changed' and the caller retries.
CREATE FUNCTION apollo_record_usage(p_context_id text, p_allocation_id uuid, p_record jsonb, p_generation bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    c            apollo_allocations;
    a            allocations;
    v_reserved   jsonb;
    v_tokens     bigint := (p_record->'usage'->>'input_tokens')::bigint + (p_record->'usage'->>'output_tokens')::bigint
                           + (p_record->'usage'->>'cache_read_tokens')::bigint + (p_record->'usage'->>'cache_write_tokens')::bigint;
    v_before     bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    SELECT * INTO c FROM apollo_allocations WHERE context_id = p_context_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    IF c.allocation_id <> p_allocation_id THEN
        RETURN jsonb_build_object('outcome', 'changed');
    END IF;
    SELECT * INTO a FROM allocations WHERE id = c.allocation_id FOR UPDATE;
    v_before := c.tokens_used;

    IF a.status = 'active' THEN
        SELECT coalesce(jsonb_agg(jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                                     'window_start', lw.window_start, 'window_end', lw.window_end)), '[]')
        INTO v_reserved
        FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
        WHERE aw.allocation_id = a.id;
        PERFORM ledger_append(jsonb_build_array(p_record), v_reserved);
        -- Every window is locked by ledger_append now: shrink the reservation by the spend just added.
        WITH used AS (
            SELECT aw.limit_id, aw.window_key, least(aw.reserved, sum((x.value->>'request')::numeric)) AS delta
            FROM allocation_windows aw
            JOIN jsonb_array_elements(p_record->'windows') x
              ON (x.value->>'limit_id')::uuid = aw.limit_id AND x.value->>'window_key' = aw.window_key
            WHERE aw.allocation_id = a.id
            GROUP BY aw.limit_id, aw.window_key, aw.reserved
        ), shrunk AS (
            UPDATE allocation_windows aw SET reserved = aw.reserved - used.delta
            FROM used WHERE aw.allocation_id = a.id AND aw.limit_id = used.limit_id AND aw.window_key = used.window_key
            RETURNING aw.limit_id, aw.window_key, used.delta
        )
        UPDATE limit_windows lw SET reserved = greatest(lw.reserved - shrunk.delta, 0)
        FROM shrunk WHERE lw.limit_id = shrunk.limit_id AND lw.window_key = shrunk.window_key;
    ELSE
        PERFORM ledger_append(jsonb_build_array(p_record));
    END IF;

    UPDATE apollo_allocations SET tokens_used = tokens_used + v_tokens WHERE context_id = p_context_id
    RETURNING * INTO c;
    RETURN jsonb_build_object('outcome', 'recorded', 'record', p_record - 'windows',
        'tokens_used_before', v_before, 'tokens_used', c.tokens_used, 'tokens_allocated', c.tokens_allocated,
        'allocation_status', CASE WHEN a.status = 'active' AND a.expires_at <= now() THEN 'expired' ELSE a.status END);
END $$;

-- Release a context's allocation: frees what it still reserves.
CREATE FUNCTION apollo_release(p_context_id text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    c        apollo_allocations;
    v_result jsonb;
BEGIN
    SELECT * INTO c FROM apollo_allocations WHERE context_id = p_context_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    v_result := budget_release(c.allocation_id);
    UPDATE apollo_allocations SET released_at = coalesce(released_at, now()) WHERE context_id = p_context_id;
    RETURN v_result;
END $$;
