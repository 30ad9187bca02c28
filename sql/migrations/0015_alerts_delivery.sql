-- Alerts are the rows of budget_events. This adds what delivering them needs: the budget an
-- alert belongs to, its threshold, acknowledgement, per-budget webhooks with a delivery log, and
-- a notification on channel `budget_alerts` (payload: the alert id) when an alert is first raised
-- — not when a repeat only bumps `occurrences` — so every Budget instance can stream it.

ALTER TABLE budget_events
    ADD COLUMN budget_id       uuid,
    ADD COLUMN threshold       numeric,
    ADD COLUMN acknowledged_at timestamptz,
    ADD COLUMN acknowledged_by text;

UPDATE budget_events e SET budget_id = l.budget_id
FROM (SELECT DISTINCT ON (id) id, budget_id FROM limits ORDER BY id, version DESC) l
WHERE l.id = e.limit_id;
UPDATE budget_events SET threshold = trim_scale(coalesce(details->>'threshold', details->>'warn_at')::numeric)
WHERE type = 'threshold_crossed';

CREATE INDEX budget_events_by_budget ON budget_events (budget_id, id);
CREATE INDEX budget_events_unacknowledged ON budget_events (id) WHERE acknowledged_at IS NULL;

-- Fills what the engine's callers of record_budget_event do not pass. A critical bypass is keyed
-- per limit and window (as denials are) instead of per allocation, so a burst of critical calls
-- past a limit is one alert whose occurrences count the bypasses. A BEFORE trigger runs before
-- the ON CONFLICT check, so the rewritten dedupe key is the one deduplicated on.
CREATE FUNCTION budget_event_fill() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_window text;
BEGIN
    IF NEW.limit_id IS NOT NULL AND NEW.budget_id IS NULL THEN
        NEW.budget_id := (SELECT budget_id FROM limits WHERE id = NEW.limit_id ORDER BY version DESC LIMIT 1);
    END IF;
    IF NEW.type = 'threshold_crossed' AND NEW.threshold IS NULL THEN
        NEW.threshold := trim_scale(coalesce(NEW.details->>'threshold', NEW.details->>'warn_at')::numeric);
    END IF;
    IF NEW.type = 'critical_bypass' AND NEW.window_key IS NULL AND NEW.limit_id IS NOT NULL AND NEW.details ? 'allocation_id' THEN
        SELECT window_key INTO v_window FROM allocation_windows
        WHERE allocation_id = (NEW.details->>'allocation_id')::uuid AND limit_id = NEW.limit_id
        ORDER BY window_key LIMIT 1;
        IF v_window IS NOT NULL THEN
            NEW.window_key := v_window;
            NEW.dedupe_key := format('bypass:%s:%s', NEW.limit_id, v_window);
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER budget_events_fill BEFORE INSERT ON budget_events FOR EACH ROW EXECUTE FUNCTION budget_event_fill();

-- Webhooks --------------------------------------------------------------------------------------

CREATE TABLE webhooks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    budget_id   uuid NOT NULL REFERENCES budgets (id),
    url         text NOT NULL,
    secret      text NOT NULL,
    types       text[],           -- NULL: every type of the budget's alerts
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    deleted_at  timestamptz,
    deleted_by  text
);
CREATE INDEX webhooks_by_budget ON webhooks (budget_id) WHERE deleted_at IS NULL;
COMMENT ON TABLE webhooks IS 'Per budget: where alerts are POSTed (signed with HMAC-SHA256 of the body under secret). Global alerts (no budget: price_*, unpriced_usage) go to webhooks whose types name them.';

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    alert_id         bigint NOT NULL REFERENCES budget_events (id),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, alert_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id DESC);

CREATE TABLE webhook_delivery_attempts (
    delivery_id  bigint NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text,
    duration_ms  integer,
    PRIMARY KEY (delivery_id, attempt)
);
COMMENT ON TABLE webhook_delivery_attempts IS 'The delivery log: one row per POST attempt.';

-- A new alert: queue it for the webhooks that want it and tell every listening instance, both
-- in the transaction that raised it (rolled back with it; sent only when it commits).
CREATE FUNCTION budget_event_raised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (webhook_id, alert_id, next_attempt_at)
    SELECT h.id, NEW.id, now() FROM webhooks h
    WHERE h.deleted_at IS NULL
      AND CASE WHEN NEW.budget_id IS NULL THEN NEW.type = ANY (coalesce(h.types, '{}'))
               ELSE h.budget_id = NEW.budget_id AND (h.types IS NULL OR NEW.type = ANY (h.types)) END;
    PERFORM pg_notify('budget_alerts', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER budget_events_raised AFTER INSERT ON budget_events FOR EACH ROW EXECUTE FUNCTION budget_event_raised();
