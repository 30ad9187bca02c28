-- Alert thresholds per limit: besides `warn_at`, a limit may name further fractions of its amount
-- (e.g. 0.5, 0.8, 0.95, 1.0) at which a `threshold_crossed` event is raised — once per limit,
-- window and threshold, never once per request.
--
-- What counts: the window's committed spend (`spent`). Reservations do not count towards these
-- thresholds, since an allocation may be released unused; `warn_at` keeps its behaviour from 0003
-- (a reservation reaching it warns the caller and records the crossing, under the same dedupe key).

ALTER TABLE limits ADD COLUMN thresholds numeric[]
    CHECK (thresholds IS NULL OR (cardinality(thresholds) BETWEEN 1 AND 20 AND 0 < ALL (thresholds) AND 1.5 >= ALL (thresholds)));
COMMENT ON COLUMN limits.thresholds IS 'Fractions of amount that raise threshold_crossed (NULL: warn_at only). warn_at is always one of the effective thresholds.';

ALTER TABLE limit_windows ADD COLUMN alerted_thresholds numeric[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN limit_windows.alerted_thresholds IS 'Thresholds (other than warn_at, which uses warned_at) already raised in this window.';

-- As in 0003, plus the limit's further thresholds (`w.thresholds`, decimal strings). Called with
-- the window row locked by the caller; touches no other row, so locking order and atomicity are
-- those of the calling function.
CREATE OR REPLACE FUNCTION limit_window_add_spend(w jsonb, p_delta numeric) RETURNS limit_windows LANGUAGE plpgsql AS $$
DECLARE
    v limit_windows;
    v_amount numeric := (w->>'amount')::numeric;
    v_warn   numeric := (w->>'warn_at')::numeric;
    v_new    numeric[];
    t        numeric;
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
        IF v_amount > 0 AND jsonb_typeof(w->'thresholds') = 'array' THEN
            v_new := ARRAY(SELECT trim_scale(x::numeric) FROM jsonb_array_elements_text(w->'thresholds') x
                           WHERE x::numeric <> v_warn AND NOT (x::numeric = ANY (v.alerted_thresholds))
                             AND v.spent >= v_amount * x::numeric
                           ORDER BY x::numeric);
            IF cardinality(v_new) > 0 THEN
                UPDATE limit_windows SET alerted_thresholds = alerted_thresholds || v_new
                WHERE limit_id = v.limit_id AND window_key = v.window_key;
                FOREACH t IN ARRAY v_new LOOP
                    PERFORM record_budget_event('threshold_crossed', v.limit_id, v.window_key,
                        format('threshold:%s:%s:%s', v.limit_id, v.window_key, t),
                        w || jsonb_build_object('spent', v.spent::text, 'threshold', t::text));
                END LOOP;
            END IF;
        END IF;
        IF v.exceeded_at IS NULL AND v.spent > v_amount THEN
            UPDATE limit_windows SET exceeded_at = now() WHERE limit_id = v.limit_id AND window_key = v.window_key;
            PERFORM record_budget_event('limit_exceeded', v.limit_id, v.window_key,
                format('exceeded:%s:%s', v.limit_id, v.window_key), w || jsonb_build_object('spent', v.spent::text));
        END IF;
    END IF;
    RETURN v;
END $$;
