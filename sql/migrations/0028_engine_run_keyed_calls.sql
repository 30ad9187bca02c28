-- budget_engine_run (0019) takes calls that carry an Idempotency-Key too.
--
-- Why: a batch holding one keyed call went the per-call way (budget_engine_batch, 0016), and the
-- server sent keyed calls in batches of their own for that reason: correct, but each keyed call
-- cost about what a whole set-based batch costs (0.74 ms for one keyed allocate in the database,
-- 1.3-1.5 ms for a batch of 16 without keys), so callers that retry safely, with a key on every
-- call, got a fraction of the throughput (docs/PERFORMANCE.md, "Keyed calls in the set-based batch").
--
-- What a key does here is what idempotency_begin and idempotency_finish do for budget_allocate
-- and budget_commit (0003, 0026), for the whole batch at once:
--   * after the windows are locked (the order budget_engine_batch takes its locks in), the keys of
--     the batch's calls of the current generation are inserted in the order of the keys; an
--     insert that finds the key (used before, or by a transaction in flight, which it waits for)
--     takes nothing;
--   * a call whose key was used before gets what idempotency_begin gives: the kept answer marked
--     replayed, or idempotency_conflict for another request;
--   * a call that took its key runs as any other call and gets the same compact answer; what is
--     kept with the key is the full answer budget_allocate or budget_commit would give and keep,
--     so that a retry, whichever way it goes, replays the same thing. Its not-found and conflict
--     answers are kept too, as 0026 keeps them.
-- A batch in which one key appears twice still goes the per-call way, so that the second call
-- replays the first one's answer. Otherwise nothing changes: the same locks in the same order,
-- the same decisions and writes. The equivalence test against budget_allocate and budget_commit
-- (BudgetStoreTests) covers keyed calls.
--
-- The ledger rows it writes also carry the batch flag of 0027 (`batch`, from the record's JSON).
--
-- The planner settings of 0020 are repeated here: CREATE OR REPLACE sets a function's settings anew.
-- An allocate's windows with their counters ("<spent> <reserved>" pairs, in the windows' order),
-- as budget_allocate lists them in the answers it keeps with a key.
CREATE FUNCTION engine_window_states(p_windows jsonb, p_counters text[]) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_states jsonb := '[]';
BEGIN
    FOR j IN 1 .. coalesce(jsonb_array_length(p_windows), 0) LOOP
        v_states := v_states || jsonb_build_array(p_windows->(j - 1)
                                                  || jsonb_build_object('spent', p_counters[2 * j - 1], 'reserved', p_counters[2 * j]));
    END LOOP;
    RETURN v_states;
END $$;

CREATE OR REPLACE FUNCTION budget_engine_run(p_calls jsonb) RETURNS jsonb[] LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off AS $$
DECLARE
    v_generation bigint;
    v_commits    uuid[];
    v_call       jsonb;
    v_windows    jsonb;
    v_c          integer;             -- index loops (the names c and n are aliases in the queries)
    v_n          integer;
    v_bypassed_ids text[];
    v_window     jsonb;
    v_row        limit_windows;
    v_out        jsonb[] := '{}';
    -- Window counters, one slot per window the batch touches.
    k_keys       text[] := '{}';       -- limit_id || ' ' || window_key
    k_limit      uuid[] := '{}';
    k_window     text[] := '{}';
    s_spent      numeric[] := '{}';
    s_reserved   numeric[] := '{}';
    s_warned     boolean[] := '{}';
    s_exceeded   boolean[] := '{}';
    s_next       numeric[] := '{}';    -- lowest further threshold not raised yet (NULL: none)
    s_next_known boolean[] := '{}';
    s_touched    boolean[] := '{}';
    -- The commits' allocations, as they are before the batch.
    a_ids        uuid[] := '{}';
    a_status     text[] := '{}';
    a_expired    boolean[] := '{}';
    a_hash       text[] := '{}';
    a_result     jsonb[] := '{}';
    a_reserved   jsonb[] := '{}';      -- [{"limit_id","window_key","reserved"}]: its shares (freed if it is active)
    -- What the batch writes.
    w_allocations jsonb[] := '{}';
    w_shares      jsonb[] := '{}';
    w_commits     jsonb[] := '{}';
    w_records     jsonb[] := '{}';
    w_bypasses    jsonb[] := '{}';     -- recorded once the allocation's windows are written (budget_event_fill keys them by window)
    -- Per call.
    i            integer;
    j            integer;
    w            jsonb;
    v_id         uuid;
    v_request    numeric;
    v_amount     numeric;
    v_denied     jsonb;
    v_bypassed   jsonb;
    v_critical   boolean;
    v_result     jsonb;
    v_expired    boolean;
    v_record     jsonb;
    v_new        numeric[];
    v_counters   text[];
    v_denied_at  integer;
    t            numeric;
    -- Idempotency keys.
    v_keyed      boolean;             -- some call has a key
    v_new_keys   text[] := '{}';      -- operation || ' ' || key, for the keys this batch took
    v_key_op     text;                -- the current call's key operation (NULL: no key, or a key used before)
    v_replay     jsonb;
    v_states     jsonb;
    w_keys       jsonb[] := '{}';     -- [{"operation","key","response"}]: answers to keep with their keys
BEGIN
    -- What this function does not take on itself goes the per-call way: unknown operations, two
    -- commits of one allocation, or one idempotency key used twice in the batch.
    v_keyed := jsonb_path_exists(p_calls, '$[*] ? (@.idempotency_key.type() == "string")');
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_calls) c WHERE c->>'op' NOT IN ('allocate', 'commit') OR c->>'op' IS NULL)
       OR (SELECT count(*) <> count(DISTINCT c->>'allocation_id') FROM jsonb_array_elements(p_calls) c WHERE c->>'op' = 'commit')
       OR (v_keyed AND (SELECT count(*) <> count(DISTINCT (CASE WHEN c->>'op' = 'allocate' THEN 'allocate' ELSE 'commit:' || (c->>'allocation_id') END)
                                                     || ' ' || (c->>'idempotency_key'))
                        FROM jsonb_array_elements(p_calls) c WHERE jsonb_typeof(c->'idempotency_key') = 'string')) THEN
        RETURN ARRAY(SELECT e.value FROM jsonb_array_elements(budget_engine_batch(p_calls)) WITH ORDINALITY AS e(value, n) ORDER BY e.n);
    END IF;

    PERFORM pg_advisory_xact_lock_shared(7301);
    SELECT generation INTO v_generation FROM catalog_generation;

    -- The commits' allocations, locked by id (as release and the sweeper lock them), with what
    -- an active one still reserves.
    v_commits := ARRAY(SELECT (c->>'allocation_id')::uuid FROM jsonb_array_elements(p_calls) c
                       WHERE c->>'op' = 'commit' AND (c->>'generation')::bigint = v_generation);
    IF cardinality(v_commits) > 0 THEN
        FOR v_id, v_call IN
            SELECT a.id, jsonb_build_object('status', a.status, 'expired', a.status = 'expired' OR a.expires_at <= now(),
                                            'commit_hash', a.commit_hash, 'commit_result', a.commit_result)
            FROM allocations a WHERE a.id = ANY (v_commits) ORDER BY a.id FOR UPDATE
        LOOP
            a_ids := a_ids || v_id;
            a_status := a_status || (v_call->>'status');
            a_expired := a_expired || (v_call->>'expired')::boolean;
            a_hash := a_hash || (v_call->>'commit_hash');
            a_result := a_result || (v_call->'commit_result');
            a_reserved := a_reserved || '[]'::jsonb;
        END LOOP;
        FOR v_id, v_call IN
            SELECT aw.allocation_id, jsonb_agg(jsonb_build_object('limit_id', aw.limit_id, 'window_key', aw.window_key, 'reserved', aw.reserved))
            FROM allocation_windows aw
            WHERE aw.allocation_id = ANY (v_commits)   -- freed below only for an allocation still active
            GROUP BY aw.allocation_id
        LOOP
            a_reserved[array_position(a_ids, v_id)] := v_call;
        END LOOP;
    END IF;

    -- Every window any call touches, locked (created with the ledger's spend if new) in the global order.
    FOR v_window IN
        SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
        FROM (SELECT jsonb_array_elements(c->'windows') AS value FROM jsonb_array_elements(p_calls) c
              WHERE c->>'op' = 'allocate' AND (c->>'generation')::bigint = v_generation
              UNION ALL
              SELECT jsonb_array_elements(c->'record'->'windows') FROM jsonb_array_elements(p_calls) c
              WHERE c->>'op' = 'commit' AND (c->>'generation')::bigint = v_generation
              UNION ALL
              SELECT jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                        'window_start', lw.window_start, 'window_end', lw.window_end)
              FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
              WHERE aw.allocation_id = ANY (v_commits)) x
        ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
    LOOP
        v_row := limit_window_lock((v_window->>'limit_id')::uuid, v_window->>'window_key', (v_window->>'window_start')::timestamptz,
                                   (v_window->>'window_end')::timestamptz);
        k_keys := k_keys || ((v_row.limit_id)::text || ' ' || v_row.window_key);
        k_limit := k_limit || v_row.limit_id;
        k_window := k_window || v_row.window_key;
        s_spent := s_spent || v_row.spent;
        s_reserved := s_reserved || v_row.reserved;
        s_warned := s_warned || (v_row.warned_at IS NOT NULL);
        s_exceeded := s_exceeded || (v_row.exceeded_at IS NOT NULL);
        s_next := s_next || NULL::numeric;
        s_next_known := s_next_known || false;
        s_touched := s_touched || false;
    END LOOP;

    -- The idempotency keys of the calls (of the current generation), taken in the order of the
    -- keys, after the windows, as budget_engine_batch takes them (0016), so that batches cannot
    -- deadlock on them. A key taken before answers its call below from what it stored.
    IF v_keyed THEN
        WITH taken AS (
            INSERT INTO idempotency_keys (operation, key, request_hash)
            SELECT k.operation, k.key, k.request_hash
            FROM (SELECT CASE WHEN c->>'op' = 'allocate' THEN 'allocate' ELSE 'commit:' || (c->>'allocation_id')::uuid END AS operation,
                         c->>'idempotency_key' AS key, c->>'request_hash' AS request_hash
                  FROM jsonb_array_elements(p_calls) c
                  WHERE jsonb_typeof(c->'idempotency_key') = 'string' AND (c->>'generation')::bigint = v_generation) k
            ORDER BY k.operation, k.key
            ON CONFLICT DO NOTHING
            RETURNING operation || ' ' || key AS operation_key)
        SELECT coalesce(array_agg(t.operation_key), '{}') INTO v_new_keys FROM taken t;
    END IF;

    -- The calls, in order.
    FOR v_c IN 0 .. jsonb_array_length(p_calls) - 1 LOOP
        v_call := p_calls->v_c;
        IF (v_call->>'generation')::bigint <> v_generation THEN
            v_out := v_out || jsonb_build_object('outcome', 'stale', 'generation', v_generation);
            CONTINUE;
        END IF;
        -- A keyed call: its full answer (as budget_allocate and budget_commit give it) is kept with
        -- its key; a key used before answers from what it kept.
        IF v_keyed THEN
            v_key_op := NULL;
            IF jsonb_typeof(v_call->'idempotency_key') = 'string' THEN
                v_key_op := CASE WHEN v_call->>'op' = 'allocate' THEN 'allocate' ELSE 'commit:' || (v_call->>'allocation_id')::uuid END;
                IF NOT (v_key_op || ' ' || (v_call->>'idempotency_key')) = ANY (v_new_keys) THEN
                    v_replay := idempotency_begin(v_key_op, v_call->>'idempotency_key', v_call->>'request_hash');
                    IF v_replay IS NOT NULL THEN
                        v_out := v_out || v_replay;
                        CONTINUE;
                    END IF;
                END IF;
            END IF;
        END IF;

        IF v_call->>'op' = 'allocate' THEN
            v_id := (v_call->'allocation'->>'id')::uuid;
            v_critical := v_call->'allocation'->>'priority' = 'critical';
            v_counters := '{}';
            v_denied := NULL;
            v_denied_at := NULL;
            v_bypassed := '[]';
            v_bypassed_ids := '{}';
            v_windows := v_call->'windows';
            FOR j IN 1 .. coalesce(jsonb_array_length(v_windows), 0) LOOP
                w := v_windows->(j - 1);
                i := array_position(k_keys, ((w->>'limit_id')::uuid)::text || ' ' || (w->>'window_key'));
                IF w->>'policy' = 'enforce' AND s_spent[i] + s_reserved[i] + (w->>'request')::numeric > (w->>'amount')::numeric THEN
                    IF v_critical THEN
                        v_bypassed := v_bypassed || jsonb_build_array(w->>'limit_id');
                        v_bypassed_ids := v_bypassed_ids || (w->>'limit_id');
                    ELSIF v_denied IS NULL THEN
                        v_denied := w || jsonb_build_object('spent', s_spent[i]::text, 'reserved', s_reserved[i]::text);
                        v_denied_at := j;
                    END IF;
                END IF;
                v_counters := v_counters || s_spent[i]::text || s_reserved[i]::text;
            END LOOP;
            IF v_key_op IS NOT NULL THEN
                v_states := engine_window_states(v_windows, v_counters);   -- as the call found them, for the kept answer
            END IF;

            w_shares := w_shares || jsonb_build_object('allocation_id', v_id, 'windows', v_call->'windows');
            IF v_denied IS NOT NULL THEN
                w_allocations := w_allocations || (v_call->'allocation' || jsonb_build_object('status', 'denied', 'bypass', false));
                PERFORM record_budget_event('allocation_denied', (v_denied->>'limit_id')::uuid, v_denied->>'window_key',
                    format('denied:%s:%s', v_denied->>'limit_id', v_denied->>'window_key'), v_denied);
                IF v_key_op IS NOT NULL THEN
                    v_result := jsonb_build_object('outcome', 'denied', 'denied_by', v_denied, 'limits', v_states,
                                                   'allocation', v_call->'allocation');
                    w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
                END IF;
                v_out := v_out || to_jsonb(concat_ws('|', 'denied', v_denied_at, array_to_string(v_counters, ' ')));
                CONTINUE;
            END IF;

            -- Reserve, and note a warn threshold crossed by this reservation (once per window).
            FOR j IN 1 .. coalesce(jsonb_array_length(v_windows), 0) LOOP
                w := v_windows->(j - 1);
                i := array_position(k_keys, ((w->>'limit_id')::uuid)::text || ' ' || (w->>'window_key'));
                v_request := (w->>'request')::numeric;
                v_amount := (w->>'amount')::numeric;
                IF NOT s_warned[i] AND w->>'policy' <> 'ignore' AND v_amount > 0
                   AND s_spent[i] + s_reserved[i] + v_request >= v_amount * (w->>'warn_at')::numeric THEN
                    s_warned[i] := true;
                    UPDATE limit_windows SET warned_at = now() WHERE limit_id = k_limit[i] AND window_key = k_window[i];
                    PERFORM record_budget_event('threshold_crossed', k_limit[i], k_window[i],
                        format('threshold:%s:%s:%s', w->>'limit_id', w->>'window_key', w->>'warn_at'),   -- as budget_allocate keys it
                        w || jsonb_build_object('spent', s_spent[i]::text, 'reserved', (s_reserved[i] + v_request)::text));
                END IF;
                s_reserved[i] := s_reserved[i] + v_request;
                s_touched[i] := true;
                v_counters[2 * j] := (v_counters[2 * j]::numeric + v_request)::text;
            END LOOP;

            IF jsonb_array_length(v_bypassed) > 0 THEN
                w_bypasses := w_bypasses || jsonb_build_object('allocation_id', v_id, 'limits', v_bypassed);
            END IF;
            w_allocations := w_allocations || (v_call->'allocation' || jsonb_build_object('status', 'active', 'bypass', jsonb_array_length(v_bypassed) > 0));
            IF v_key_op IS NOT NULL THEN
                -- v_counters now holds each window's reserved + request, as budget_allocate's granted answer lists it.
                v_result := jsonb_build_object('outcome', 'granted', 'limits', engine_window_states(v_windows, v_counters), 'bypassed', v_bypassed,
                    'allocation', v_call->'allocation' || jsonb_build_object('bypass', jsonb_array_length(v_bypassed) > 0));
                w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
            END IF;
            v_out := v_out || to_jsonb(concat_ws('|', 'granted', array_to_string(v_counters, ' '),
                                                 array_to_string(v_bypassed_ids, ' ')));
            CONTINUE;
        END IF;

        -- Commit: the usage record and the release of the reservation.
        v_id := (v_call->>'allocation_id')::uuid;
        v_record := v_call->'record';
        j := array_position(a_ids, v_id);
        -- The answers that change nothing are kept with the key too, as budget_commit keeps them (0026).
        IF j IS NULL THEN
            v_result := jsonb_build_object('outcome', 'not_found');
            IF v_key_op IS NOT NULL THEN
                w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
            END IF;
            v_out := v_out || v_result;
            CONTINUE;
        END IF;
        IF a_status[j] = 'committed' THEN
            IF a_hash[j] = v_call->>'request_hash' THEN
                v_result := a_result[j];
            ELSE
                v_result := jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was already committed with a different body');
            END IF;
            IF v_key_op IS NOT NULL THEN
                w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
            END IF;
            IF a_hash[j] = v_call->>'request_hash' THEN
                v_result := v_result || jsonb_build_object('replayed', true);
            END IF;
            v_out := v_out || v_result;
            CONTINUE;
        END IF;
        IF a_status[j] = 'released' THEN
            v_result := jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was released; record the usage with POST /api/v1/usage instead');
            IF v_key_op IS NOT NULL THEN
                w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
            END IF;
            v_out := v_out || v_result;
            CONTINUE;
        END IF;

        v_result := jsonb_build_object('outcome', 'committed', 'record', v_record - 'windows', 'reservation_expired', a_expired[j]);
        w_commits := w_commits || jsonb_build_object('id', v_id, 'commit_hash', v_call->>'request_hash', 'commit_result', v_result,
                                                     'usage_id', v_record->>'id');
        w_records := w_records || v_record;
        IF v_record->>'pricing_status' = 'unpriced' THEN
            PERFORM record_budget_event('unpriced_usage', NULL, NULL,
                format('unpriced:%s:%s', lower(btrim(v_record->'scope'->>'provider')), lower(btrim(v_record->'scope'->>'model'))),
                jsonb_build_object('provider', v_record->'scope'->>'provider', 'model', v_record->'scope'->>'model'));
        END IF;

        -- The spend, with the events limit_window_add_spend raises (0014).
        v_windows := v_record->'windows';
        FOR v_n IN 0 .. coalesce(jsonb_array_length(v_windows), 0) - 1 LOOP
            w := v_windows->v_n;
            i := array_position(k_keys, ((w->>'limit_id')::uuid)::text || ' ' || (w->>'window_key'));
            v_request := (w->>'request')::numeric;
            v_amount := (w->>'amount')::numeric;
            s_spent[i] := s_spent[i] + v_request;
            s_touched[i] := true;
            CONTINUE WHEN w->>'policy' = 'ignore';
            w := w || jsonb_build_object('request', v_request::text);
            IF NOT s_warned[i] AND v_amount > 0 AND s_spent[i] >= v_amount * (w->>'warn_at')::numeric THEN
                s_warned[i] := true;
                UPDATE limit_windows SET warned_at = now() WHERE limit_id = k_limit[i] AND window_key = k_window[i];
                PERFORM record_budget_event('threshold_crossed', k_limit[i], k_window[i],
                    format('threshold:%s:%s:%s', k_limit[i], k_window[i], (w->>'warn_at')::numeric), w || jsonb_build_object('spent', s_spent[i]::text));
            END IF;
            IF v_amount > 0 AND jsonb_typeof(w->'thresholds') = 'array' THEN
                IF NOT s_next_known[i] THEN
                    s_next[i] := (SELECT min(x::numeric) FROM jsonb_array_elements_text(w->'thresholds') x, limit_windows lw
                                  WHERE lw.limit_id = k_limit[i] AND lw.window_key = k_window[i]
                                    AND x::numeric <> (w->>'warn_at')::numeric AND NOT (x::numeric = ANY (lw.alerted_thresholds)));
                    s_next_known[i] := true;
                END IF;
                IF s_next[i] IS NOT NULL AND s_spent[i] >= v_amount * s_next[i] THEN
                    v_new := ARRAY(SELECT trim_scale(x::numeric) FROM jsonb_array_elements_text(w->'thresholds') x, limit_windows lw
                                   WHERE lw.limit_id = k_limit[i] AND lw.window_key = k_window[i]
                                     AND x::numeric <> (w->>'warn_at')::numeric AND NOT (x::numeric = ANY (lw.alerted_thresholds))
                                     AND s_spent[i] >= v_amount * x::numeric
                                   ORDER BY x::numeric);
                    UPDATE limit_windows SET alerted_thresholds = alerted_thresholds || v_new
                    WHERE limit_id = k_limit[i] AND window_key = k_window[i];
                    FOREACH t IN ARRAY v_new LOOP
                        PERFORM record_budget_event('threshold_crossed', k_limit[i], k_window[i],
                            format('threshold:%s:%s:%s', k_limit[i], k_window[i], t),
                            w || jsonb_build_object('spent', s_spent[i]::text, 'threshold', t::text));
                    END LOOP;
                    s_next_known[i] := false;
                END IF;
            END IF;
            IF NOT s_exceeded[i] AND s_spent[i] > v_amount THEN
                s_exceeded[i] := true;
                UPDATE limit_windows SET exceeded_at = now() WHERE limit_id = k_limit[i] AND window_key = k_window[i];
                PERFORM record_budget_event('limit_exceeded', k_limit[i], k_window[i],
                    format('exceeded:%s:%s', k_limit[i], k_window[i]), w || jsonb_build_object('spent', s_spent[i]::text));
            END IF;
        END LOOP;

        -- Then what an active allocation reserved is freed.
        IF a_status[j] = 'active' THEN
            FOR v_n IN 0 .. coalesce(jsonb_array_length(a_reserved[j]), 0) - 1 LOOP
                w := a_reserved[j]->v_n;
                i := array_position(k_keys, ((w->>'limit_id')::uuid)::text || ' ' || (w->>'window_key'));
                s_reserved[i] := greatest(s_reserved[i] - (w->>'reserved')::numeric, 0);
                s_touched[i] := true;
            END LOOP;
        END IF;
        a_status[j] := 'committed';
        IF v_key_op IS NOT NULL THEN
            w_keys := w_keys || jsonb_build_object('operation', v_key_op, 'key', v_call->>'idempotency_key', 'response', v_result);
        END IF;
        v_out := v_out || to_jsonb(concat_ws('|', 'committed', a_expired[j]));
    END LOOP;

    -- The writes.
    IF cardinality(w_allocations) > 0 THEN
        INSERT INTO allocations (id, status, component, provider, model, task_type, tier, tags, session_id, task_id, priority,
                                 reserved_cost_usd, reserved_tokens, price_id, bypass, request_id, metadata, expires_at, finished_at)
        SELECT (a->>'id')::uuid, a->>'status', a->'scope'->>'component', a->'scope'->>'provider', a->'scope'->>'model',
               a->'scope'->>'task_type', a->'scope'->>'tier',
               coalesce(ARRAY(SELECT jsonb_array_elements_text(a->'scope'->'tags')), '{}'),
               a->'scope'->>'session_id', a->'scope'->>'task_id', a->>'priority',
               (a->>'reserved_cost_usd')::numeric, (a->>'reserved_tokens')::bigint, (a->>'price_id')::uuid, (a->>'bypass')::boolean,
               a->>'request_id', coalesce(a->'metadata', '{}'), (a->>'expires_at')::timestamptz,
               CASE WHEN a->>'status' = 'denied' THEN now() END
        FROM unnest(w_allocations) a;

        INSERT INTO allocation_windows (allocation_id, limit_id, window_key, reserved)
        SELECT (s->>'allocation_id')::uuid, (x->>'limit_id')::uuid, x->>'window_key', (x->>'request')::numeric
        FROM unnest(w_shares) s, jsonb_array_elements(s->'windows') x;

        PERFORM record_budget_event('critical_bypass', (l #>> '{}')::uuid, NULL,
            format('bypass:%s', b->>'allocation_id'), jsonb_build_object('allocation_id', (b->>'allocation_id')::uuid))
        FROM unnest(w_bypasses) b, jsonb_array_elements(b->'limits') l;
    END IF;

    IF cardinality(w_commits) > 0 THEN
        UPDATE allocations a SET status = 'committed', finished_at = now(), commit_hash = c->>'commit_hash',
                                 commit_result = c->'commit_result', usage_id = (c->>'usage_id')::uuid
        FROM unnest(w_commits) c
        WHERE a.id = (c->>'id')::uuid;

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
        FROM unnest(w_records) r;
    END IF;

    IF cardinality(w_keys) > 0 THEN
        UPDATE idempotency_keys k SET response = x->'response'
        FROM unnest(w_keys) x
        WHERE k.operation = x->>'operation' AND k.key = x->>'key';
    END IF;

    UPDATE limit_windows lw SET spent = x.spent, reserved = x.reserved
    FROM unnest(k_limit, k_window, s_spent, s_reserved, s_touched) AS x(limit_id, window_key, spent, reserved, touched)
    WHERE x.touched AND lw.limit_id = x.limit_id AND lw.window_key = x.window_key;

    RETURN v_out;
END $$;
