-- Prices from public catalogues: the sources' fetch state, each sync run with its per-source
-- outcome, the raw observations (JSONB, as the source wrote them), the conflicts found, the audit
-- trail of manual overrides, and an alias table an admin can extend.

ALTER TABLE prices
    ADD COLUMN batch_input_per_token  numeric CHECK (batch_input_per_token >= 0),
    ADD COLUMN batch_output_per_token numeric CHECK (batch_output_per_token >= 0),
    ADD COLUMN provenance             jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN sync_run_id            bigint;
COMMENT ON COLUMN prices.provenance IS 'Per price field: the sources whose values agreed, with value and weight ([] for manual prices).';

CREATE TABLE price_sources (
    name            text PRIMARY KEY,
    format          text NOT NULL CHECK (format IN ('litellm', 'llm_prices', 'genai_prices', 'langfuse', 'portkey', 'openrouter')),
    url             text NOT NULL,
    weight          numeric NOT NULL CHECK (weight > 0),
    lineage         text,
    refresh_seconds integer NOT NULL,
    enabled         boolean NOT NULL,
    validators      jsonb NOT NULL DEFAULT '{}',   -- per document URL: {etag, last_modified}
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    last_error      text
);
COMMENT ON TABLE price_sources IS 'The configured price sources (mirrored from the built-in list or BUDGET_PRICE_SOURCES_FILE at each sync) and their fetch state.';

CREATE TABLE price_sync_runs (
    id          bigserial PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    dry_run     boolean NOT NULL,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    outcomes    jsonb NOT NULL DEFAULT '[]',   -- per source: status, observations, skipped, error
    changed     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0,
    conflicts   integer NOT NULL DEFAULT 0,
    error       text
);

CREATE TABLE price_observations (
    id           bigserial PRIMARY KEY,
    sync_run_id  bigint NOT NULL REFERENCES price_sync_runs (id),
    source       text NOT NULL,
    document_url text NOT NULL,
    format       text NOT NULL,
    raw_provider text,
    raw_model    text NOT NULL,
    provider_key text NOT NULL,
    model_key    text NOT NULL,
    region       text,
    prices       jsonb NOT NULL,   -- per field, USD per token as decimal strings
    raw_entry    jsonb NOT NULL
);
CREATE INDEX price_observations_model ON price_observations (provider_key, model_key, sync_run_id DESC);
CREATE INDEX price_observations_document ON price_observations (document_url, sync_run_id DESC);

CREATE TABLE price_conflicts (
    provider_key text NOT NULL,
    model_key    text NOT NULL,
    region       text NOT NULL DEFAULT '',
    sync_run_id  bigint NOT NULL REFERENCES price_sync_runs (id),
    fields       jsonb NOT NULL,   -- per field: every source's value and weight
    detected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_key, model_key, region)
);
COMMENT ON TABLE price_conflicts IS 'Models whose sources disagree with no quorum, as of the latest sync that saw them; the current price stays.';

CREATE TABLE price_audit (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text,
    action     text NOT NULL CHECK (action IN ('override_set', 'override_removed')),
    provider   text NOT NULL,
    model      text NOT NULL,
    old_price  jsonb,
    new_price  jsonb
);

CREATE TABLE model_aliases (
    provider           text NOT NULL,
    model              text NOT NULL,
    canonical_provider text NOT NULL,
    canonical_model    text NOT NULL,
    note               text,
    PRIMARY KEY (provider, model)
);
COMMENT ON TABLE model_aliases IS 'Extra (provider, model) → canonical names, consulted before the built-in normalisation rules.';

ALTER TABLE budget_events DROP CONSTRAINT budget_events_type_check;
ALTER TABLE budget_events ADD CONSTRAINT budget_events_type_check CHECK (type IN (
    'threshold_crossed', 'limit_exceeded', 'allocation_denied', 'critical_bypass', 'unpriced_usage',
    'price_changed', 'price_conflict', 'price_sync_failed'));
