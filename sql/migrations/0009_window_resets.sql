-- Window resets: an audited "start this period's window again, now" (Rhetor's reset).
--
-- Windows are computed from event time; a reset cuts the natural window (midnight, Monday, the
-- 1st) at `reset_at`, and calls from then on count in a new window with its own counter row
-- (key = the natural key + "@reset:" + reset_at). Spend before the reset stays in the ledger and
-- in the earlier window; it no longer counts against the window that follows the reset.
--
-- A reset changes how engines compute windows, so it moves the catalog generation like a limit
-- change: a writer that decided with the catalog of before the reset is told it is stale and
-- decides again. `reset_at` is taken after the catalog lock is held exclusively (no ledger writer
-- is in flight), rounded up to the next millisecond (the precision windows travel in), so every
-- usage committed before the reset lies before it.

CREATE TABLE window_resets (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    budget_id  uuid NOT NULL REFERENCES budgets (id),
    period     text CHECK (period IN ('hourly', 'daily', 'weekly', 'monthly')),   -- NULL with limit_id: every period of that limit
    limit_id   uuid,                                                               -- NULL: every limit of the budget with that period
    reset_at   timestamptz NOT NULL,
    reset_by   text,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (period IS NOT NULL OR limit_id IS NOT NULL)
);
CREATE INDEX window_resets_by_budget ON window_resets (budget_id, reset_at);
COMMENT ON TABLE window_resets IS 'Audited window resets: the window of a period (or of one limit) starts again at reset_at. Append-only.';

CREATE FUNCTION window_resets_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'window_resets is append-only (an audit trail)';
END $$;
CREATE TRIGGER window_resets_no_change BEFORE UPDATE OR DELETE ON window_resets
    FOR EACH ROW EXECUTE FUNCTION window_resets_append_only();
CREATE TRIGGER window_resets_bump_catalog AFTER INSERT ON window_resets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();

-- Records a reset. Waits until no ledger writer is in flight (they hold the catalog lock shared)
-- and takes the time only then.
CREATE FUNCTION budget_reset_window(p_budget_id uuid, p_period text, p_limit_id uuid, p_by text, p_reason text)
RETURNS window_resets LANGUAGE plpgsql AS $$
DECLARE
    v window_resets;
BEGIN
    PERFORM pg_advisory_xact_lock(7301);
    INSERT INTO window_resets (budget_id, period, limit_id, reset_at, reset_by, reason)
    VALUES (p_budget_id, p_period, p_limit_id,
            date_trunc('milliseconds', clock_timestamp()) + interval '1 millisecond', p_by, p_reason)
    RETURNING * INTO v;
    RETURN v;
END $$;

-- record-cost of the Rhetor compatibility API finds allocations by the caller's request id.
CREATE INDEX allocations_request_id ON allocations (request_id, created_at DESC) WHERE request_id IS NOT NULL;
