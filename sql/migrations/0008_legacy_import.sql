-- Imports from the systems Budget replaces (Rhetor's SQLite ledger first). Every imported row
-- keeps its origin: which source, which legacy id, the raw timestamp text and the cost exactly as
-- the legacy system stored it. (legacy_source, legacy_id) is unique, which is what makes an import
-- idempotent: a row already imported is never imported again.

CREATE TABLE import_runs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('rhetor')),
    source        text NOT NULL,            -- e.g. 'rhetor' or 'rhetor:host-a' (--source)
    file_name     text NOT NULL,
    file_sha256   text NOT NULL,
    timezone      text NOT NULL,            -- the zone naive legacy timestamps were read in
    budget_id     uuid REFERENCES budgets (id),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    rows_in_file  bigint NOT NULL,
    rows_added    bigint NOT NULL DEFAULT 0,
    settings_in_file bigint NOT NULL DEFAULT 0,
    limit_versions_added bigint NOT NULL DEFAULT 0,
    reconciliation jsonb
);
COMMENT ON TABLE import_runs IS 'One row per committed import (dry runs and failed imports roll back and leave none).';

CREATE TABLE legacy_usage (
    legacy_source text NOT NULL,
    legacy_id     bigint NOT NULL,
    usage_id      uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,     -- with usage_id, the ledger row's key
    raw_timestamp text NOT NULL,
    legacy_cost   numeric,                  -- the legacy cost as stored (shortest decimal of Rhetor's double)
    row_hash      text NOT NULL,            -- md5 of the legacy row, to notice a file that rewrote history
    import_run_id bigint NOT NULL REFERENCES import_runs (id),
    PRIMARY KEY (legacy_source, legacy_id)
);
COMMENT ON TABLE legacy_usage IS 'Which ledger row each imported legacy row became; unique per (legacy_source, legacy_id).';

CREATE TABLE legacy_limit_settings (
    legacy_source text NOT NULL,
    legacy_id     bigint NOT NULL,
    limit_id      uuid,                     -- NULL for Rhetor rows with limit_amount 0 ("no limit")
    version       integer,
    row_hash      text NOT NULL,
    note          text,
    import_run_id bigint NOT NULL REFERENCES import_runs (id),
    PRIMARY KEY (legacy_source, legacy_id)
);
COMMENT ON TABLE legacy_limit_settings IS 'Which limit version each legacy budget setting became.';
