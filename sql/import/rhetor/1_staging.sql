-- Rhetor import, step 1: staging tables for one import, private to its transaction.
-- The importer fills them with COPY: rhetor_usage_staging row for row from Rhetor's `usage` table,
-- rhetor_settings_staging from `budget_settings`, and one row of parameters.

-- Room for the hash joins and sorts of a million-row import to stay in memory (this transaction only).
SET LOCAL work_mem = '256MB';

CREATE TEMP TABLE rhetor_import_params (
    source      text NOT NULL,         -- legacy_source of the rows (--source, default 'rhetor')
    timezone    text NOT NULL,         -- the zone Rhetor's naive timestamps are read in (--timezone)
    budget_name text NOT NULL,         -- the budget the limits go to (--budget)
    run_id      bigint NOT NULL        -- the import_runs row of this import
) ON COMMIT DROP;

CREATE TEMP TABLE rhetor_usage_staging (
    legacy_id     bigint NOT NULL,
    raw_timestamp text NOT NULL,
    provider      text,
    model         text,
    component     text,
    task_type     text,
    input_tokens  bigint,
    output_tokens bigint,
    cost          numeric,             -- the shortest decimal that reads back as Rhetor's double
    metadata      text
) ON COMMIT DROP;

CREATE TEMP TABLE rhetor_settings_staging (
    legacy_id    bigint NOT NULL,
    period       text,
    provider     text,
    limit_amount numeric,
    enforcement  text,
    start_date   text,
    active       bigint
) ON COMMIT DROP;
