-- limit_window_backfill reads only the window's rows, through the ledger's indexes.
--
-- Why: the spend of a window that is created when a call first touches it (the first call of a
-- new hour or day, of a new session or task, or a limit added mid-period) is read from the
-- ledger. 0003 wrote the window's condition as one CASE over the limit's period, which no index
-- and no partition pruning can use: every new window scanned the whole ledger, inside the engine
-- transaction that holds the window locks of every caller in the batch. Measured with 1,000,000
-- ledger rows: 0.27-0.37 s for each new session's first allocation, during which every other
-- call waited. Now each kind of window has its own arm of the query: a session or a task through
-- its index, a time window through the time index within its month's partitions. The sums,
-- filters and metric are 0003's.
CREATE OR REPLACE FUNCTION limit_window_backfill(p_limit_id uuid, p_key text, p_start timestamptz, p_end timestamptz, p_exclude uuid[] DEFAULT '{}')
RETURNS numeric LANGUAGE plpgsql STABLE
SET enable_seqscan = on SET enable_hashjoin = on SET enable_mergejoin = on   -- as 0020 set them (this replaces the definition)
AS $$
DECLARE
    l limits;
BEGIN
    SELECT * INTO l FROM limits WHERE id = p_limit_id ORDER BY version DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- One arm per kind of window; the arms of the other kinds are skipped before they read a row
    -- (their condition on the period is a one-time filter).
    RETURN (SELECT coalesce(sum(CASE WHEN l.metric = 'cost_usd' THEN coalesce(u.cost_usd, 0)
                                     ELSE u.input_tokens::numeric + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens END), 0)
            FROM (SELECT * FROM usage_records s
                  WHERE l.period = 'per_session' AND s.session_id = substr(p_key, 9)       -- 'session:' prefix
                  UNION ALL
                  SELECT * FROM usage_records t
                  WHERE l.period = 'per_task' AND t.task_id = substr(p_key, 6)             -- 'task:' prefix
                  UNION ALL
                  SELECT * FROM usage_records w
                  WHERE l.period NOT IN ('per_session', 'per_task') AND w.occurred_at >= p_start AND w.occurred_at < p_end) u
            WHERE (l.component IS NULL OR u.component = l.component)
              AND (l.provider  IS NULL OR u.provider_key = l.provider)
              AND (l.model     IS NULL OR u.model_key = l.model)
              AND (l.task_type IS NULL OR u.task_type = l.task_type)
              AND (l.tier      IS NULL OR u.tier = l.tier)
              AND (l.tag       IS NULL OR l.tag = ANY (u.tags))
              AND u.id <> ALL (p_exclude));   -- rows written by the calling transaction add their spend themselves
END $$;
