-- The engine's atomic operations. Budget computes in Swift which limits and windows a call
-- touches (from its cached catalog) and passes them here as JSON; each function then checks and
-- writes in ONE transaction and ONE round trip, holding row locks only while it runs.
--
-- Every writer holds the catalog lock shared and compares the catalog generation it decided
-- with; a stale caller gets {"outcome":"stale"} and retries with a fresh catalog. Window rows are
-- locked in (limit_id, window_key) order everywhere, so concurrent writers cannot deadlock, and as
-- the LAST step of each function: a hot window row is held only from its lock to the commit.

-- Spend already in the ledger for a window of a limit (used when its counter row is created).
CREATE FUNCTION limit_window_backfill(p_limit_id uuid, p_key text, p_start timestamptz, p_end timestamptz, p_exclude uuid[] DEFAULT '{}')
RETURNS numeric LANGUAGE sql STABLE AS $$
    WITH l AS (SELECT * FROM limits WHERE id = p_limit_id ORDER BY version DESC LIMIT 1)
    SELECT coalesce(sum(CASE WHEN l.metric = 'cost_usd' THEN coalesce(u.cost_usd, 0)
                             ELSE u.input_tokens::numeric + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens END), 0)
    FROM l JOIN usage_records u ON
            (l.component IS NULL OR u.component = l.component)
        AND (l.provider  IS NULL OR u.provider_key = l.provider)
        AND (l.model     IS NULL OR u.model_key = l.model)
        AND (l.task_type IS NULL OR u.task_type = l.task_type)
        AND (l.tier      IS NULL OR u.tier = l.tier)
        AND (l.tag       IS NULL OR l.tag = ANY (u.tags))
        AND CASE l.period
                WHEN 'per_session' THEN u.session_id = substr(p_key, 9)   -- 'session:' prefix
                WHEN 'per_task'    THEN u.task_id = substr(p_key, 6)      -- 'task:' prefix
                ELSE u.occurred_at >= p_start AND u.occurred_at < p_end
            END
        AND u.id <> ALL (p_exclude)   -- rows written by the calling transaction add their spend themselves
$$;

-- The counter row of a window, created (with the ledger's spend so far, less `p_exclude`) if missing, locked.
CREATE FUNCTION limit_window_lock(p_limit_id uuid, p_key text, p_start timestamptz, p_end timestamptz, p_exclude uuid[] DEFAULT '{}')
RETURNS limit_windows LANGUAGE plpgsql AS $$
DECLARE
    v limit_windows;
BEGIN
    SELECT * INTO v FROM limit_windows WHERE limit_id = p_limit_id AND window_key = p_key FOR UPDATE;
    IF FOUND THEN
        RETURN v;
    END IF;
    INSERT INTO limit_windows (limit_id, window_key, window_start, window_end, spent)
    VALUES (p_limit_id, p_key, p_start, p_end, limit_window_backfill(p_limit_id, p_key, p_start, p_end, p_exclude))
    ON CONFLICT DO NOTHING;
    SELECT * INTO v FROM limit_windows WHERE limit_id = p_limit_id AND window_key = p_key FOR UPDATE;
    RETURN v;
END $$;

-- Current counters of windows (check and status), without locking. A window seen for the first
-- time gets its counter row (computed from the ledger, as writers would create it), so later
-- reads are one index lookup instead of a scan of the window's ledger rows.
CREATE FUNCTION budget_window_states(p_windows jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    w       jsonb;
    v       limit_windows;
    v_out   jsonb := '[]';
BEGIN
    FOR w IN SELECT value FROM jsonb_array_elements(p_windows) LOOP
        SELECT * INTO v FROM limit_windows WHERE limit_id = (w->>'limit_id')::uuid AND window_key = w->>'window_key';
        IF NOT FOUND THEN
            INSERT INTO limit_windows (limit_id, window_key, window_start, window_end, spent)
            VALUES ((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz, (w->>'window_end')::timestamptz,
                    limit_window_backfill((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz, (w->>'window_end')::timestamptz))
            ON CONFLICT DO NOTHING;
            SELECT * INTO v FROM limit_windows WHERE limit_id = (w->>'limit_id')::uuid AND window_key = w->>'window_key';
        END IF;
        v_out := v_out || jsonb_build_array(w || jsonb_build_object('spent', v.spent::text, 'reserved', v.reserved::text));
    END LOOP;
    RETURN v_out;
END $$;

-- Idempotency: NULL when the key is new (the caller goes on), the stored response when it was
-- used with the same request, {"outcome":"idempotency_conflict"} when with another request.
-- A concurrent first use of the key makes this wait until that transaction ends.
CREATE FUNCTION idempotency_begin(p_operation text, p_key text, p_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v idempotency_keys;
BEGIN
    IF p_key IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO idempotency_keys (operation, key, request_hash) VALUES (p_operation, p_key, p_hash) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v FROM idempotency_keys WHERE operation = p_operation AND key = p_key;
    IF v.request_hash <> p_hash THEN
        RETURN jsonb_build_object('outcome', 'idempotency_conflict');
    END IF;
    IF v.response IS NULL THEN
        -- Only possible for operations whose key and work are not one transaction (admin writes).
        RETURN jsonb_build_object('outcome', 'idempotency_in_progress');
    END IF;
    RETURN v.response || jsonb_build_object('replayed', true);
END $$;

CREATE FUNCTION idempotency_finish(p_operation text, p_key text, p_response jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NOT NULL THEN
        UPDATE idempotency_keys SET response = p_response WHERE operation = p_operation AND key = p_key;
    END IF;
    RETURN p_response;
END $$;

-- Adds spend to a locked window and records threshold/exceeded events once per window.
CREATE FUNCTION limit_window_add_spend(w jsonb, p_delta numeric) RETURNS limit_windows LANGUAGE plpgsql AS $$
DECLARE
    v limit_windows;
    v_amount numeric := (w->>'amount')::numeric;
    v_warn   numeric := (w->>'warn_at')::numeric;
BEGIN
    UPDATE limit_windows SET spent = spent + p_delta
    WHERE limit_id = (w->>'limit_id')::uuid AND window_key = w->>'window_key'
    RETURNING * INTO v;
    IF w->>'policy' <> 'ignore' THEN
        IF v.warned_at IS NULL AND v_amount > 0 AND v.spent >= v_amount * v_warn THEN
            UPDATE limit_windows SET warned_at = now() WHERE limit_id = v.limit_id AND window_key = v.window_key;
            PERFORM record_budget_event('threshold_crossed', v.limit_id, v.window_key,
                format('threshold:%s:%s:%s', v.limit_id, v.window_key, v_warn), w || jsonb_build_object('spent', v.spent::text));
        END IF;
        IF v.exceeded_at IS NULL AND v.spent > v_amount THEN
            UPDATE limit_windows SET exceeded_at = now() WHERE limit_id = v.limit_id AND window_key = v.window_key;
            PERFORM record_budget_event('limit_exceeded', v.limit_id, v.window_key,
                format('exceeded:%s:%s', v.limit_id, v.window_key), w || jsonb_build_object('spent', v.spent::text));
        END IF;
    END IF;
    RETURN v;
END $$;

-- Allocate: reserve `request` on every window, or nothing when an enforce limit would be
-- overrun (unless the priority is critical, which is recorded as a bypass).
CREATE FUNCTION budget_allocate(p_allocation jsonb, p_windows jsonb, p_generation bigint, p_idempotency_key text, p_request_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    v_replay     jsonb;
    w            jsonb;
    v_row        limit_windows;
    v_states     jsonb := '[]';
    v_denied     jsonb;
    v_bypassed   jsonb := '[]';
    v_critical   boolean := p_allocation->>'priority' = 'critical';
    v_result     jsonb;
    v_crossed    jsonb;
    v_id         uuid := (p_allocation->>'id')::uuid;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    v_replay := idempotency_begin('allocate', p_idempotency_key, p_request_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay;
    END IF;

    -- Everything that touches no shared row first.
    INSERT INTO allocations (id, status, component, provider, model, task_type, tier, tags, session_id, task_id, priority,
                             reserved_cost_usd, reserved_tokens, price_id, bypass, request_id, metadata, expires_at)
    SELECT v_id, 'active', s.component, s.provider, s.model, s.task_type, s.tier,
           coalesce(ARRAY(SELECT jsonb_array_elements_text(p_allocation->'scope'->'tags')), '{}'),
           s.session_id, s.task_id, p_allocation->>'priority',
           (p_allocation->>'reserved_cost_usd')::numeric, (p_allocation->>'reserved_tokens')::bigint,
           (p_allocation->>'price_id')::uuid, false,
           p_allocation->>'request_id', coalesce(p_allocation->'metadata', '{}'), (p_allocation->>'expires_at')::timestamptz
    FROM jsonb_to_record(p_allocation->'scope') AS s(component text, provider text, model text, task_type text, tier text, session_id text, task_id text);

    INSERT INTO allocation_windows (allocation_id, limit_id, window_key, reserved)
    SELECT v_id, (value->>'limit_id')::uuid, value->>'window_key', (value->>'request')::numeric
    FROM jsonb_array_elements(p_windows);

    -- Then the windows: lock in the global order, check.
    FOR w IN SELECT value FROM jsonb_array_elements(p_windows)
             ORDER BY (value->>'limit_id')::uuid, value->>'window_key' COLLATE "C" LOOP
        v_row := limit_window_lock((w->>'limit_id')::uuid, w->>'window_key', (w->>'window_start')::timestamptz, (w->>'window_end')::timestamptz);
        IF w->>'policy' = 'enforce' AND v_row.spent + v_row.reserved + (w->>'request')::numeric > (w->>'amount')::numeric THEN
            IF v_critical THEN
                v_bypassed := v_bypassed || jsonb_build_array(w->>'limit_id');
            ELSIF v_denied IS NULL THEN
                v_denied := w || jsonb_build_object('spent', v_row.spent::text, 'reserved', v_row.reserved::text);
            END IF;
        END IF;
        v_states := v_states || jsonb_build_array(w || jsonb_build_object('spent', v_row.spent::text, 'reserved', v_row.reserved::text));
    END LOOP;

    IF v_denied IS NOT NULL THEN
        -- Nothing is reserved; the refused request stays on record as a denied allocation.
        UPDATE allocations SET status = 'denied', finished_at = now() WHERE id = v_id;
        PERFORM record_budget_event('allocation_denied', (v_denied->>'limit_id')::uuid, v_denied->>'window_key',
            format('denied:%s:%s', v_denied->>'limit_id', v_denied->>'window_key'), v_denied);
        v_result := jsonb_build_object('outcome', 'denied', 'denied_by', v_denied, 'limits', v_states, 'allocation', p_allocation);
        RETURN idempotency_finish('allocate', p_idempotency_key, v_result);
    END IF;

    -- Reserve, and note a warn threshold crossed by this reservation (once per window).
    FOR v_crossed IN
        UPDATE limit_windows lw
        SET reserved = lw.reserved + (x.value->>'request')::numeric,
            warned_at = CASE WHEN lw.warned_at IS NULL AND x.value->>'policy' <> 'ignore' AND (x.value->>'amount')::numeric > 0
                                  AND lw.spent + lw.reserved + (x.value->>'request')::numeric >= (x.value->>'amount')::numeric * (x.value->>'warn_at')::numeric
                             THEN now() ELSE lw.warned_at END
        FROM jsonb_array_elements(p_windows) x
        WHERE lw.limit_id = (x.value->>'limit_id')::uuid AND lw.window_key = x.value->>'window_key'
        RETURNING CASE WHEN lw.warned_at = now() THEN x.value || jsonb_build_object('spent', lw.spent::text, 'reserved', lw.reserved::text) END
    LOOP
        IF v_crossed IS NOT NULL THEN
            PERFORM record_budget_event('threshold_crossed', (v_crossed->>'limit_id')::uuid, v_crossed->>'window_key',
                format('threshold:%s:%s:%s', v_crossed->>'limit_id', v_crossed->>'window_key', v_crossed->>'warn_at'), v_crossed);
        END IF;
    END LOOP;

    IF jsonb_array_length(v_bypassed) > 0 THEN
        UPDATE allocations SET bypass = true WHERE id = v_id;
        PERFORM record_budget_event('critical_bypass', (b #>> '{}')::uuid, NULL,
            format('bypass:%s', v_id), jsonb_build_object('allocation_id', v_id))
        FROM jsonb_array_elements(v_bypassed) b;
    END IF;

    -- States after the reservation, in the order the caller gave.
    SELECT coalesce(jsonb_agg(s.value || jsonb_build_object('reserved', ((s.value->>'reserved')::numeric + (s.value->>'request')::numeric)::text)
                              ORDER BY s.ordinality), '[]')
    INTO v_states FROM jsonb_array_elements(v_states) WITH ORDINALITY s;

    v_result := jsonb_build_object('outcome', 'granted', 'limits', v_states, 'bypassed', v_bypassed,
                                   'allocation', p_allocation || jsonb_build_object('bypass', jsonb_array_length(v_bypassed) > 0));
    RETURN idempotency_finish('allocate', p_idempotency_key, v_result);
END $$;

-- Frees what an allocation still reserves (locks its windows in order first).
CREATE FUNCTION allocation_free_reservation(p_allocation_id uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM limit_windows lw JOIN allocation_windows aw ON aw.limit_id = lw.limit_id AND aw.window_key = lw.window_key
    WHERE aw.allocation_id = p_allocation_id
    ORDER BY lw.limit_id, lw.window_key COLLATE "C"
    FOR UPDATE OF lw;
    UPDATE limit_windows lw SET reserved = greatest(lw.reserved - aw.reserved, 0)
    FROM allocation_windows aw
    WHERE aw.allocation_id = p_allocation_id AND aw.limit_id = lw.limit_id AND aw.window_key = lw.window_key;
END $$;

-- Records usage rows and adds their spend to every window they count against. `p_records` is an
-- array of complete ledger rows, each with its "windows" (and each window's "request" = the
-- spend in the limit's metric). Used by commit, POST /usage and POST /usage/batch.
CREATE FUNCTION ledger_append(p_records jsonb, p_extra_locks jsonb DEFAULT '[]') RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w     jsonb;
    v_new uuid[];
BEGIN
    -- The rows first (they touch no shared row), then the windows they count against.
    INSERT INTO usage_records (id, occurred_at, component, provider, model, provider_key, model_key, task_type, tier, tags,
                               session_id, task_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                               reasoning_tokens, cost_usd, pricing_status, price_id, allocation_id, request_id, origin, metadata)
    SELECT (r->>'id')::uuid, (r->>'occurred_at')::timestamptz, r->'scope'->>'component', r->'scope'->>'provider', r->'scope'->>'model',
           lower(btrim(r->'scope'->>'provider')), lower(btrim(r->'scope'->>'model')), r->'scope'->>'task_type', r->'scope'->>'tier',
           coalesce(ARRAY(SELECT jsonb_array_elements_text(r->'scope'->'tags')), '{}'),
           r->'scope'->>'session_id', r->'scope'->>'task_id',
           (r->'usage'->>'input_tokens')::bigint, (r->'usage'->>'output_tokens')::bigint, (r->'usage'->>'cache_read_tokens')::bigint,
           (r->'usage'->>'cache_write_tokens')::bigint, (r->'usage'->>'reasoning_tokens')::bigint,
           (r->>'cost_usd')::numeric, r->>'pricing_status', (r->>'price_id')::uuid, (r->>'allocation_id')::uuid,
           r->>'request_id', r->>'origin', coalesce(r->'metadata', '{}')
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

-- Commit: the usage record and the release of the reservation, in one transaction. Spend that
-- happened is never refused: a commit after expiry still records it and says so.
CREATE FUNCTION budget_commit(p_allocation_id uuid, p_record jsonb, p_generation bigint, p_request_hash text, p_idempotency_key text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    v_replay     jsonb;
    a            allocations;
    v_expired    boolean;
    v_result     jsonb;
    v_reserved   jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    v_replay := idempotency_begin('commit:' || p_allocation_id, p_idempotency_key, p_request_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay;
    END IF;

    SELECT * INTO a FROM allocations WHERE id = p_allocation_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    IF a.status = 'committed' THEN
        IF a.commit_hash = p_request_hash THEN
            RETURN a.commit_result || jsonb_build_object('replayed', true);
        END IF;
        RETURN jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was already committed with a different body');
    END IF;
    IF a.status = 'released' THEN
        RETURN jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was released; record the usage with POST /api/v1/usage instead');
    END IF;

    v_expired := a.status = 'expired' OR a.expires_at <= now();
    v_result := jsonb_build_object('outcome', 'committed', 'record', p_record - 'windows', 'reservation_expired', v_expired);
    UPDATE allocations SET status = 'committed', finished_at = now(), commit_hash = p_request_hash,
                           commit_result = v_result, usage_id = (p_record->>'id')::uuid
    WHERE id = a.id;

    IF a.status = 'active' THEN
        -- Lock the reservation's windows together with the spend windows, in order.
        SELECT coalesce(jsonb_agg(jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                                     'window_start', lw.window_start, 'window_end', lw.window_end)), '[]')
        INTO v_reserved
        FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
        WHERE aw.allocation_id = a.id;
        PERFORM ledger_append(jsonb_build_array(p_record), v_reserved);
        PERFORM allocation_free_reservation(a.id);
    ELSE
        PERFORM ledger_append(jsonb_build_array(p_record));
    END IF;
    RETURN idempotency_finish('commit:' || p_allocation_id, p_idempotency_key, v_result);
END $$;

-- Release: frees the reservation unused. Releasing twice is harmless; releasing a committed
-- allocation is a conflict.
CREATE FUNCTION budget_release(p_allocation_id uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    a allocations;
BEGIN
    SELECT * INTO a FROM allocations WHERE id = p_allocation_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    IF a.status = 'committed' THEN
        RETURN jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was already committed');
    END IF;
    IF a.status = 'active' THEN
        PERFORM allocation_free_reservation(a.id);
        UPDATE allocations SET status = 'released', finished_at = now() WHERE id = a.id;
    END IF;
    RETURN jsonb_build_object('outcome', 'released', 'status', CASE WHEN a.status = 'expired' THEN 'expired' ELSE 'released' END);
END $$;

-- Usage without an allocation (one record or a batch, all or nothing).
CREATE FUNCTION budget_record_usage(p_records jsonb, p_generation bigint, p_idempotency_key text, p_request_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    v_replay     jsonb;
    v_result     jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;
    IF v_generation <> p_generation THEN
        RETURN jsonb_build_object('outcome', 'stale', 'generation', v_generation);
    END IF;
    v_replay := idempotency_begin('usage', p_idempotency_key, p_request_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay;
    END IF;
    PERFORM ledger_append(p_records);
    v_result := jsonb_build_object('outcome', 'recorded',
        'records', (SELECT jsonb_agg(r - 'windows' ORDER BY o) FROM jsonb_array_elements(p_records) WITH ORDINALITY AS e(r, o)));
    RETURN idempotency_finish('usage', p_idempotency_key, v_result);
END $$;

-- The sweeper: releases reservations that outlived their TTL. Returns how many it expired.
-- All windows of the batch are locked in the global order before any is changed.
CREATE FUNCTION budget_expire_allocations(p_batch integer DEFAULT 500) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_ids uuid[];
BEGIN
    v_ids := ARRAY(SELECT id FROM allocations WHERE status = 'active' AND expires_at <= now()
                   ORDER BY expires_at LIMIT p_batch FOR UPDATE SKIP LOCKED);
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM limit_windows lw JOIN allocation_windows aw ON aw.limit_id = lw.limit_id AND aw.window_key = lw.window_key
    WHERE aw.allocation_id = ANY (v_ids)
    ORDER BY lw.limit_id, lw.window_key COLLATE "C"
    FOR UPDATE OF lw;
    UPDATE limit_windows lw SET reserved = greatest(lw.reserved - x.total, 0)
    FROM (SELECT limit_id, window_key, sum(reserved) AS total FROM allocation_windows
          WHERE allocation_id = ANY (v_ids) GROUP BY limit_id, window_key) x
    WHERE lw.limit_id = x.limit_id AND lw.window_key = x.window_key;
    UPDATE allocations SET status = 'expired', finished_at = now() WHERE id = ANY (v_ids);
    RETURN cardinality(v_ids);
END $$;
