-- Group commit: the allocate and commit calls that arrive while an earlier batch is in flight
-- run together, in order, in ONE transaction and one round trip. Each call is the same function
-- a lone call uses (budget_allocate, budget_commit), so its rules and its answer are unchanged;
-- what the batch saves is a transaction, a WAL flush and a round trip per call, and the queue of
-- callers waiting on a hot window row.
--
-- Locks are taken up front, in the orders every other writer uses: the catalog lock (shared),
-- the allocation rows of the commits (by id: release and the expiry sweeper lock an allocation
-- before its windows), then every window any call touches (by limit_id, window_key). The calls
-- then find their locks held already, so two batches cannot deadlock on windows however their
-- calls are ordered. Should anything else fail (a deadlock on an idempotency key, a bug in one
-- call), the whole batch rolls back and the caller runs each call on its own.
--
-- p_calls: [{"op":"allocate","allocation":{…},"windows":[…],"generation":n,"idempotency_key":…,"request_hash":…},
--           {"op":"commit","allocation_id":"…","record":{…},"generation":n,"idempotency_key":…,"request_hash":…}]
-- Returns the calls' answers as a JSON array, in the same order.
CREATE FUNCTION budget_engine_batch(p_calls jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_call    jsonb;
    v_window  jsonb;
    v_out     jsonb := '[]';
    v_commits uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301);

    v_commits := ARRAY(SELECT (c->>'allocation_id')::uuid FROM jsonb_array_elements(p_calls) c WHERE c->>'op' = 'commit');
    PERFORM 1 FROM allocations WHERE id = ANY (v_commits) ORDER BY id FOR UPDATE;

    FOR v_window IN
        SELECT DISTINCT ON ((x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C") x.value
        FROM (SELECT jsonb_array_elements(c->'windows') AS value FROM jsonb_array_elements(p_calls) c WHERE c->>'op' = 'allocate'
              UNION ALL
              SELECT jsonb_array_elements(c->'record'->'windows') FROM jsonb_array_elements(p_calls) c WHERE c->>'op' = 'commit'
              UNION ALL
              SELECT jsonb_build_object('limit_id', lw.limit_id, 'window_key', lw.window_key,
                                        'window_start', lw.window_start, 'window_end', lw.window_end)
              FROM allocation_windows aw JOIN limit_windows lw ON lw.limit_id = aw.limit_id AND lw.window_key = aw.window_key
              WHERE aw.allocation_id = ANY (v_commits)) x
        ORDER BY (x.value->>'limit_id')::uuid, x.value->>'window_key' COLLATE "C"
    LOOP
        PERFORM limit_window_lock((v_window->>'limit_id')::uuid, v_window->>'window_key', (v_window->>'window_start')::timestamptz,
                                  (v_window->>'window_end')::timestamptz);
    END LOOP;

    FOR v_call IN SELECT e.value FROM jsonb_array_elements(p_calls) WITH ORDINALITY AS e(value, n) ORDER BY e.n LOOP
        v_out := v_out || jsonb_build_array(CASE v_call->>'op'
            WHEN 'allocate' THEN budget_allocate(v_call->'allocation', v_call->'windows', (v_call->>'generation')::bigint,
                                                 v_call->>'idempotency_key', v_call->>'request_hash')
            WHEN 'commit' THEN budget_commit((v_call->>'allocation_id')::uuid, v_call->'record', (v_call->>'generation')::bigint,
                                             v_call->>'request_hash', v_call->>'idempotency_key')
        END);
        IF jsonb_typeof(v_out->-1) = 'null' THEN
            RAISE EXCEPTION 'budget_engine_batch: unknown op %', v_call->>'op';
        END IF;
    END LOOP;
    RETURN v_out;
END $$;
