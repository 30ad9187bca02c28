-- The budget engine: limits (versioned), prices (versioned), the usage ledger (partitioned by
-- month), allocations (reservations), limit-window counters, events and idempotency keys.
--
-- Money and amounts are NUMERIC without a fixed scale, so nothing is ever rounded; token
-- counts are BIGINT. Provider and model are kept raw, and as *_key (trimmed, lower-cased)
-- for matching.

-- Limits -------------------------------------------------------------------------------------

CREATE TABLE limits (
    id          uuid NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    budget_id   uuid NOT NULL REFERENCES budgets (id),
    component   text,
    provider    text,          -- a provider key (trimmed, lower-cased)
    model       text,          -- a model key
    task_type   text,
    tier        text,
    tag         text,
    period      text NOT NULL CHECK (period IN ('hourly', 'daily', 'weekly', 'monthly', 'per_session', 'per_task')),
    metric      text NOT NULL CHECK (metric IN ('cost_usd', 'tokens')),
    amount      numeric NOT NULL CHECK (amount >= 0),
    policy      text NOT NULL CHECK (policy IN ('ignore', 'warn', 'enforce')),
    warn_at     numeric NOT NULL DEFAULT 0.8 CHECK (warn_at > 0 AND warn_at <= 1),
    valid_from  timestamptz NOT NULL DEFAULT now(),
    valid_to    timestamptz,
    changed_by  text,
    PRIMARY KEY (id, version),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX limits_one_current_version ON limits (id) WHERE valid_to IS NULL;
CREATE INDEX limits_current_by_budget ON limits (budget_id) WHERE valid_to IS NULL;
COMMENT ON TABLE limits IS 'Versions of limits: changing amount, policy or warn_at closes the current version (valid_to) and adds the next. Filter, period and metric never change for a limit id.';

-- Prices -------------------------------------------------------------------------------------

CREATE TABLE prices (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider              text NOT NULL,
    model                 text NOT NULL,
    provider_key          text NOT NULL,
    model_key             text NOT NULL,
    input_per_token       numeric NOT NULL CHECK (input_per_token >= 0),
    output_per_token      numeric NOT NULL CHECK (output_per_token >= 0),
    cache_read_per_token  numeric CHECK (cache_read_per_token >= 0),
    cache_write_per_token numeric CHECK (cache_write_per_token >= 0),
    reasoning_per_token   numeric CHECK (reasoning_per_token >= 0),
    status                text NOT NULL DEFAULT 'manual' CHECK (status IN ('verified', 'single_source', 'conflict', 'manual')),
    source                text NOT NULL DEFAULT 'manual',
    set_by                text,
    effective_from        timestamptz NOT NULL DEFAULT now(),
    effective_to          timestamptz
);
CREATE UNIQUE INDEX prices_one_current ON prices (provider_key, model_key) WHERE effective_to IS NULL;
CREATE INDEX prices_history ON prices (provider_key, model_key, effective_from DESC);
COMMENT ON TABLE prices IS 'Price versions in USD per token; the current one has effective_to NULL. Usage records point at the version that priced them.';

-- The catalog generation ------------------------------------------------------------------------
-- Budget instances cache budgets, current limits and current prices. Every change bumps the
-- generation; writers pass the generation they decided with and are told to reload when it moved.

CREATE TABLE catalog_generation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL
);
INSERT INTO catalog_generation VALUES (true, 1);

CREATE FUNCTION bump_catalog_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Exclusive against the shared lock every ledger writer holds: a writer never commits
    -- against a catalog that changed under it.
    PERFORM pg_advisory_xact_lock(7301);
    UPDATE catalog_generation SET generation = generation + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER budgets_bump_catalog AFTER INSERT OR UPDATE OR DELETE ON budgets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
CREATE TRIGGER limits_bump_catalog AFTER INSERT OR UPDATE OR DELETE ON limits
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
CREATE TRIGGER prices_bump_catalog AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();

-- The usage ledger ------------------------------------------------------------------------------

CREATE TABLE usage_records (
    id                 uuid NOT NULL,
    occurred_at        timestamptz NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    component          text,
    provider           text,
    model              text,
    provider_key       text,
    model_key          text,
    task_type          text,
    tier               text,
    tags               text[] NOT NULL DEFAULT '{}',
    session_id         text,
    task_id            text,
    input_tokens       bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens      bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cache_read_tokens  bigint NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
    cache_write_tokens bigint NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
    reasoning_tokens   bigint NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
    cost_usd           numeric CHECK (cost_usd >= 0),   -- NULL when unpriced: unknown, not free
    pricing_status     text NOT NULL CHECK (pricing_status IN ('priced', 'caller_priced', 'unpriced')),
    price_id           uuid,
    allocation_id      uuid,
    request_id         text,
    origin             text NOT NULL DEFAULT 'api',
    metadata           jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, occurred_at),
    CHECK ((pricing_status = 'unpriced') = (cost_usd IS NULL))
) PARTITION BY RANGE (occurred_at);

-- Rows outside every monthly partition (far past imports, clock skew) land here.
CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT;

CREATE INDEX usage_records_time ON usage_records (occurred_at DESC, id DESC);
CREATE INDEX usage_records_session ON usage_records (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX usage_records_task ON usage_records (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX usage_records_allocation ON usage_records (allocation_id) WHERE allocation_id IS NOT NULL;
COMMENT ON TABLE usage_records IS 'The append-only ledger: one row per LLM call, partitioned by month of occurred_at.';

-- Creates the monthly partition holding `p_month` (UTC months) if it does not exist. Rows of that
-- month already sitting in the default partition are moved into it.
CREATE FUNCTION ensure_usage_partition(p_month date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := date_trunc('month', p_month)::timestamp AT TIME ZONE 'UTC';
    v_end   timestamptz := (date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    v_name  text := format('usage_records_y%sm%s', to_char(p_month, 'YYYY'), to_char(p_month, 'MM'));
BEGIN
    IF to_regclass(v_name) IS NOT NULL THEN
        RETURN v_name;
    END IF;
    PERFORM pg_advisory_xact_lock(7302);
    IF to_regclass(v_name) IS NULL THEN
        EXECUTE format('CREATE TABLE %I (LIKE usage_records INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('WITH moved AS (DELETE FROM usage_records_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
                       'INSERT INTO %I SELECT * FROM moved', v_start, v_end, v_name);
        EXECUTE format('ALTER TABLE usage_records ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_name, v_start, v_end);
    END IF;
    RETURN v_name;
END $$;

-- Partitions from last month to `p_months_ahead` months ahead (called at start-up and daily).
CREATE FUNCTION ensure_usage_partitions(p_months_ahead integer DEFAULT 3) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN -1..p_months_ahead LOOP
        PERFORM ensure_usage_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date);
    END LOOP;
END $$;

SELECT ensure_usage_partitions(3);

-- Limit windows -----------------------------------------------------------------------------
-- One counter row per limit and window: spent (committed usage) and reserved (open allocations),
-- in the limit's metric. Created on first use with the spend already in the ledger.

CREATE TABLE limit_windows (
    limit_id       uuid NOT NULL,
    window_key     text NOT NULL,
    window_start   timestamptz,
    window_end     timestamptz,
    spent          numeric NOT NULL DEFAULT 0,
    reserved       numeric NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    warned_at      timestamptz,   -- when usage first crossed warn_at in this window
    exceeded_at    timestamptz,   -- when usage first went past the amount
    PRIMARY KEY (limit_id, window_key)
);

-- Allocations ----------------------------------------------------------------------------------

CREATE TABLE allocations (
    id                 uuid PRIMARY KEY,
    status             text NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired', 'denied')),
    component          text,
    provider           text,
    model              text,
    task_type          text,
    tier               text,
    tags               text[] NOT NULL DEFAULT '{}',
    session_id         text,
    task_id            text,
    priority           text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    reserved_cost_usd  numeric,
    reserved_tokens    bigint NOT NULL DEFAULT 0,
    price_id           uuid,
    bypass             boolean NOT NULL DEFAULT false,
    request_id         text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    commit_hash        text,
    commit_result      jsonb,
    usage_id           uuid
);
CREATE INDEX allocations_to_expire ON allocations (expires_at) WHERE status = 'active';

CREATE TABLE allocation_windows (
    allocation_id uuid NOT NULL REFERENCES allocations (id),
    limit_id      uuid NOT NULL,
    window_key    text NOT NULL,
    reserved      numeric NOT NULL,
    PRIMARY KEY (allocation_id, limit_id, window_key)
);

-- Events (the raw material of alerts) ------------------------------------------------------------

CREATE TABLE budget_events (
    id          bigserial PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('threshold_crossed', 'limit_exceeded', 'allocation_denied', 'critical_bypass', 'unpriced_usage')),
    limit_id    uuid,
    window_key  text,
    dedupe_key  text NOT NULL UNIQUE,
    occurrences bigint NOT NULL DEFAULT 1,
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    details     jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE budget_events IS 'One row per event kind, limit and window (occurrences counts repeats), so nothing fires per request.';

CREATE FUNCTION record_budget_event(p_type text, p_limit_id uuid, p_window_key text, p_dedupe text, p_details jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO budget_events (type, limit_id, window_key, dedupe_key, details)
    VALUES (p_type, p_limit_id, p_window_key, p_dedupe, p_details)
    ON CONFLICT (dedupe_key) DO UPDATE SET occurrences = budget_events.occurrences + 1, last_at = now();
$$;

-- Idempotency -----------------------------------------------------------------------------------

CREATE TABLE idempotency_keys (
    operation    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operation, key)
);
