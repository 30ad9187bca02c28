-- Idempotency-Key on the Apollo compatibility writes (allocate, record usage, release).
--
-- Why: every write of the API accepts an Idempotency-Key (issue 3), but the Apollo routes did not.
-- A retried POST /compat/apollo/allocations/{context_id}/usage recorded the usage twice, and a
-- retried release could release the context's next allocation.
--
-- How: each write has a keyed function that takes the key in the same transaction as the work
-- (idempotency_begin, 0003) and keeps the whole answer with it, so a retry gets the first answer
-- back whatever happened since, and a crash either keeps both the work and the key or neither.
-- The answer carries the context's allocation as it stands after the work
-- (apollo_allocation_state), which is what the HTTP answer shows, so a replay shows the same.
-- Without a key the functions do the same work and answer the same way (idempotency_begin and
-- idempotency_finish do nothing for a NULL key). The operations are 'apollo.allocate',
-- 'apollo.usage:<context_id>' and 'apollo.release:<context_id>', so a key never meets the
-- engine's own operations.

-- A context's allocation as the compatibility routes show it (NULL: no such context).
CREATE FUNCTION apollo_allocation_state(p_context_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'context_id', c.context_id, 'allocation_id', c.allocation_id, 'component', c.component, 'provider', c.provider,
        'model', c.model, 'task_type', c.task_type, 'tier', c.tier, 'priority', c.priority,
        'tokens_allocated', c.tokens_allocated, 'tokens_used', c.tokens_used, 'bypass', c.bypass,
        'created_at', c.created_at, 'expires_at', c.expires_at, 'released_at', c.released_at, 'metadata', c.metadata,
        'status', CASE WHEN a.status = 'active' AND a.expires_at <= now() THEN 'expired' ELSE coalesce(a.status, 'released') END,
        'session_id', a.session_id, 'task_id', a.task_id)
    FROM apollo_allocations c LEFT JOIN allocations a ON a.id = c.allocation_id
    WHERE c.context_id = p_context_id
$$;

-- Keeps a write's answer with its key, with the context's allocation after the write. A 'stale'
-- or 'changed' answer is no answer (the caller prices again and calls again with the same key),
-- so the key this transaction took is given back instead.
CREATE FUNCTION apollo_keep_answer(p_operation text, p_key text, p_context_id text, p_result jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF p_result->>'outcome' IN ('stale', 'changed') THEN
        IF p_key IS NOT NULL THEN
            DELETE FROM idempotency_keys WHERE operation = p_operation AND key = p_key;
        END IF;
        RETURN p_result;
    END IF;
    RETURN idempotency_finish(p_operation, p_key, p_result || jsonb_build_object('allocation', apollo_allocation_state(p_context_id)));
END $$;

CREATE FUNCTION apollo_allocate_keyed(p_context jsonb, p_allocation jsonb, p_windows jsonb, p_generation bigint,
                                      p_idempotency_key text, p_request_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_answer jsonb := idempotency_begin('apollo.allocate', p_idempotency_key, p_request_hash);
BEGIN
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    RETURN apollo_keep_answer('apollo.allocate', p_idempotency_key, p_context->>'context_id',
                              apollo_allocate(p_context, p_allocation, p_windows, p_generation));
END $$;

CREATE FUNCTION apollo_record_usage_keyed(p_context_id text, p_allocation_id uuid, p_record jsonb, p_generation bigint,
                                          p_idempotency_key text, p_request_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_answer jsonb := idempotency_begin('apollo.usage:' || p_context_id, p_idempotency_key, p_request_hash);
BEGIN
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    RETURN apollo_keep_answer('apollo.usage:' || p_context_id, p_idempotency_key, p_context_id,
                              apollo_record_usage(p_context_id, p_allocation_id, p_record, p_generation));
END $$;

CREATE FUNCTION apollo_release_keyed(p_context_id text, p_idempotency_key text, p_request_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_answer jsonb := idempotency_begin('apollo.release:' || p_context_id, p_idempotency_key, p_request_hash);
BEGIN
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    RETURN apollo_keep_answer('apollo.release:' || p_context_id, p_idempotency_key, p_context_id, apollo_release(p_context_id));
END $$;
