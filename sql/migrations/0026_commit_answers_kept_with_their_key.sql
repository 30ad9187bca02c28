-- budget_commit keeps every answer it gives under the caller's Idempotency-Key.
--
-- Why: 0003's budget_commit took the key (idempotency_begin inserts it with no response yet) and
-- then returned early, without idempotency_finish, when the allocation was not found, had been
-- released, or had been committed before. The transaction committed the key with no response,
-- so a retry with the same key found it "in progress" for ever: the server answered 500. Seen
-- through HTTP: release an allocation, commit it with a key (409, right), commit again with the
-- same key (500). Now each of those answers is stored with the key, as the granted and committed
-- answers always were, and a retry replays it (the same 404 or 409, or the first commit's 200).
--
-- Keys left without an answer by the old function are removed, so that their retries run again
-- and get the answer this function gives (no commit's work was ever done under such a key: a
-- commit stores its answer in the transaction that does the work).
--
-- Otherwise the function is 0003's, unchanged: the same locks in the same order, the same
-- writes and answers. Keyed calls in a batch run call by call through budget_engine_batch (0016),
-- which calls this function, until 0028 takes them set-based and keeps their answers the same way.
CREATE OR REPLACE FUNCTION budget_commit(p_allocation_id uuid, p_record jsonb, p_generation bigint, p_request_hash text, p_idempotency_key text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_generation bigint;
    v_replay     jsonb;
    v_operation  text := 'commit:' || p_allocation_id;
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
    v_replay := idempotency_begin(v_operation, p_idempotency_key, p_request_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay;
    END IF;

    SELECT * INTO a FROM allocations WHERE id = p_allocation_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN idempotency_finish(v_operation, p_idempotency_key, jsonb_build_object('outcome', 'not_found'));
    END IF;
    IF a.status = 'committed' THEN
        IF a.commit_hash = p_request_hash THEN
            RETURN idempotency_finish(v_operation, p_idempotency_key, a.commit_result) || jsonb_build_object('replayed', true);
        END IF;
        RETURN idempotency_finish(v_operation, p_idempotency_key,
            jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was already committed with a different body'));
    END IF;
    IF a.status = 'released' THEN
        RETURN idempotency_finish(v_operation, p_idempotency_key,
            jsonb_build_object('outcome', 'conflict', 'message', 'the allocation was released; record the usage with POST /api/v1/usage instead'));
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
    RETURN idempotency_finish(v_operation, p_idempotency_key, v_result);
END $$;

DELETE FROM idempotency_keys WHERE operation LIKE 'commit:%' AND response IS NULL;
