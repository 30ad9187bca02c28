-- Rhetor import, step 2: the staged rows become Budget's budget, limit versions and ledger rows.
-- Runs in the importer's transaction after the staging tables are filled; nothing here commits.
-- Parameters come from the one row of rhetor_import_params. Read top to bottom; each statement
-- says what it does and why.

-- Exclusive against every ledger writer (they hold this lock shared while they write), so window
-- counters recomputed below cannot race with live traffic. Writers wait for the import to finish.
SELECT pg_advisory_xact_lock(7301);

-- A file that rewrote history is not "a newer export of the same database": refuse it.
DO $$
DECLARE
    v_ids text;
BEGIN
    SELECT string_agg(s.legacy_id::text, ', ' ORDER BY s.legacy_id) INTO v_ids
    FROM (SELECT s.legacy_id
          FROM rhetor_usage_staging s
          JOIN rhetor_import_params p ON true
          JOIN legacy_usage l ON l.legacy_source = p.source AND l.legacy_id = s.legacy_id
          WHERE l.row_hash <> md5(row(s.raw_timestamp, s.provider, s.model, s.component, s.task_type,
                                      s.input_tokens, s.output_tokens, s.cost, s.metadata)::text)
          ORDER BY s.legacy_id LIMIT 10) s;
    IF v_ids IS NOT NULL THEN
        RAISE EXCEPTION 'usage rows % differ from the rows imported earlier from this source; is this the same Rhetor database? (use --source to import another one)', v_ids
            USING ERRCODE = 'BUD01';
    END IF;
END $$;

-- The budget that receives the limits: the live budget of that name, or a new one.
INSERT INTO budgets (name, owner, description, timezone)
SELECT p.budget_name, 'rhetor_import', 'Imported from Rhetor''s budget database', p.timezone
FROM rhetor_import_params p
WHERE NOT EXISTS (SELECT 1 FROM budgets b WHERE b.deleted_at IS NULL AND lower(b.name) = lower(p.budget_name));

UPDATE import_runs r SET budget_id = b.id
FROM rhetor_import_params p, budgets b
WHERE r.id = p.run_id AND b.deleted_at IS NULL AND lower(b.name) = lower(p.budget_name);

-- Rhetor's hard-coded price table (which models Rhetor knew). A row with cost 0 for a model it
-- did not know was not free: Rhetor could not price it. Such rows arrive as `unpriced`.
CREATE TEMP TABLE rhetor_known_models (provider text, model text) ON COMMIT DROP;
INSERT INTO rhetor_known_models VALUES
    ('anthropic', 'claude-3-opus-20240229'), ('anthropic', 'claude-3-sonnet-20240229'),
    ('anthropic', 'claude-3-haiku-20240307'), ('anthropic', 'claude-3-5-sonnet-20240620'),
    ('openai', 'gpt-4'), ('openai', 'gpt-4-turbo'), ('openai', 'gpt-4o'), ('openai', 'gpt-3.5-turbo'),
    ('ollama', 'llama3'), ('simulated', 'simulated-standard');

-- Settings → limit versions. A chain is the settings of one (period, provider) in time order;
-- provider 'all' is a global limit. Each setting is a version valid from its start_date until
-- the next setting of its chain (Rhetor deactivated the old row when it inserted the new one).
-- limit_amount 0 means "no limit" in Rhetor: it opens no version, but still ends the one before.
-- Already imported settings are skipped, unless Rhetor changed them in place since (its
-- set_enforcement_policy updates the active row): then the change becomes a new version now.
DO $$
DECLARE
    p          rhetor_import_params;
    v_budget   uuid;
    s          record;
    v_known    legacy_limit_settings;
    v_was_known boolean;
    v_limit    uuid;
    v_current  limits;
    v_version  integer;
    v_to       timestamptz;
    v_note     text;
BEGIN
    SELECT * INTO p FROM rhetor_import_params;
    SELECT id INTO v_budget FROM budgets WHERE deleted_at IS NULL AND lower(name) = lower(p.budget_name);

    FOR s IN
        SELECT st.*, x.starts, x.provider_key,
               lead(x.starts) OVER (PARTITION BY st.period, x.provider_key ORDER BY x.starts, st.legacy_id) AS next_start,
               md5(row(st.period, st.provider, st.limit_amount, st.enforcement, st.start_date, st.active)::text) AS hash
        FROM rhetor_settings_staging st,
             LATERAL (SELECT st.start_date::timestamp AT TIME ZONE p.timezone AS starts,
                             nullif(lower(btrim(st.provider)), 'all') AS provider_key) x
        ORDER BY x.starts, st.legacy_id
    LOOP
        SELECT * INTO v_known FROM legacy_limit_settings WHERE legacy_source = p.source AND legacy_id = s.legacy_id;
        v_was_known := FOUND;
        CONTINUE WHEN v_was_known AND v_known.row_hash = s.hash;

        -- The limit of this chain: the budget's cost limit with exactly this filter.
        SELECT id INTO v_limit FROM limits
        WHERE budget_id = v_budget AND period = s.period AND metric = 'cost_usd'
          AND provider IS NOT DISTINCT FROM s.provider_key
          AND component IS NULL AND model IS NULL AND task_type IS NULL AND tier IS NULL AND tag IS NULL
        ORDER BY (valid_to IS NULL) DESC, valid_from DESC LIMIT 1;
        v_current := NULL;
        IF v_limit IS NOT NULL THEN
            SELECT * INTO v_current FROM limits WHERE id = v_limit AND valid_to IS NULL;
        END IF;

        IF v_was_known THEN
            -- Changed in place since the last import: Rhetor kept no history, Budget starts a version now
            -- (or, when the setting was since superseded, ends it where its successor starts).
            IF v_current.id IS NOT NULL AND v_current.version = v_known.version THEN
                UPDATE limits SET valid_to = greatest(coalesce(s.next_start, now()), valid_from)
                WHERE id = v_current.id AND version = v_current.version;
            END IF;
            v_version := NULL;
            IF s.active = 1 AND s.next_start IS NULL AND coalesce(s.limit_amount, 0) > 0 THEN
                v_limit := coalesce(v_limit, gen_random_uuid());
                SELECT coalesce(max(version), 0) + 1 INTO v_version FROM limits WHERE id = v_limit;
                INSERT INTO limits (id, version, budget_id, provider, period, metric, amount, policy, warn_at, thresholds, valid_from, changed_by)
                VALUES (v_limit, v_version, v_budget, s.provider_key, s.period, 'cost_usd', s.limit_amount,
                        coalesce(s.enforcement, 'warn'), coalesce(v_current.warn_at, 0.8), v_current.thresholds,
                        greatest(now(), s.starts), 'rhetor_import:' || p.source);
            END IF;
            UPDATE legacy_limit_settings SET row_hash = s.hash, limit_id = CASE WHEN v_version IS NULL THEN limit_id ELSE v_limit END,
                   version = coalesce(v_version, version), note = 'changed in place in Rhetor; new version from the import', import_run_id = p.run_id
            WHERE legacy_source = p.source AND legacy_id = s.legacy_id;
            CONTINUE;
        END IF;

        -- A new setting ends the chain's current version.
        IF v_current.id IS NOT NULL THEN
            UPDATE limits SET valid_to = greatest(s.starts, valid_from) WHERE id = v_current.id AND version = v_current.version;
        END IF;

        v_version := NULL;
        v_note := NULL;
        IF coalesce(s.limit_amount, 0) > 0 THEN
            v_limit := coalesce(v_limit, gen_random_uuid());
            SELECT coalesce(max(version), 0) + 1 INTO v_version FROM limits WHERE id = v_limit;
            v_to := CASE WHEN s.next_start IS NOT NULL THEN greatest(s.next_start, s.starts)
                         WHEN s.active = 1 THEN NULL
                         ELSE greatest(now(), s.starts) END;   -- inactive with no successor: ended by the import at the latest
            -- warn_at and alert thresholds an operator gave the limit carry over to its next version.
            INSERT INTO limits (id, version, budget_id, provider, period, metric, amount, policy, warn_at, thresholds, valid_from, valid_to, changed_by)
            VALUES (v_limit, v_version, v_budget, s.provider_key, s.period, 'cost_usd', s.limit_amount,
                    coalesce(s.enforcement, 'warn'), coalesce(v_current.warn_at, 0.8), v_current.thresholds, s.starts, v_to, 'rhetor_import:' || p.source);
        ELSE
            v_note := 'limit_amount 0: no limit in Rhetor';
        END IF;
        INSERT INTO legacy_limit_settings (legacy_source, legacy_id, limit_id, version, row_hash, note, import_run_id)
        VALUES (p.source, s.legacy_id, CASE WHEN v_version IS NULL THEN NULL ELSE v_limit END, v_version, s.hash, v_note, p.run_id);
    END LOOP;
END $$;

-- The usage rows not imported before, with their ledger id, event time and pricing status.
-- Ledger ids start with the event time in milliseconds (the layout of UUIDv7), so that a large
-- import appends to the ledger's indexes in time order instead of scattering random keys.
-- Naive timestamps are local time in the chosen zone (PostgreSQL's rules for the hour a DST
-- change skips or repeats). Metadata is Rhetor's JSON text as JSONB; text that is not JSON is kept
-- as {"rhetor_metadata_text": …} rather than lost.
CREATE OR REPLACE FUNCTION pg_temp.rhetor_metadata(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN coalesce(t, '{}')::jsonb;
EXCEPTION WHEN others THEN
    RETURN jsonb_build_object('rhetor_metadata_text', t);
END $$;

CREATE TEMP VIEW rhetor_usage_candidates AS
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(
           floor(extract(epoch FROM s.raw_timestamp::timestamp AT TIME ZONE p.timezone) * 1000)::bigint) FROM 3)
           FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid AS usage_id,
       s.*, s.raw_timestamp::timestamp AT TIME ZONE p.timezone AS occurred_at,
       md5(row(s.raw_timestamp, s.provider, s.model, s.component, s.task_type,
               s.input_tokens, s.output_tokens, s.cost, s.metadata)::text) AS row_hash,
       (s.cost IS NULL OR (s.cost = 0 AND NOT EXISTS (SELECT 1 FROM rhetor_known_models k
                                                     WHERE k.provider = s.provider AND k.model = s.model))) AS unpriced
FROM rhetor_usage_staging s JOIN rhetor_import_params p ON true
WHERE NOT EXISTS (SELECT 1 FROM legacy_usage l WHERE l.legacy_source = p.source AND l.legacy_id = s.legacy_id);

DO $$
BEGIN
    -- Fast path: one cast for all rows; the row-by-row guard only when some text is not JSON.
    BEGIN
        CREATE TEMP TABLE rhetor_usage_new ON COMMIT DROP AS
        SELECT c.*, coalesce(c.metadata, '{}')::jsonb AS metadata_json FROM rhetor_usage_candidates c;
    EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
        CREATE TEMP TABLE rhetor_usage_new ON COMMIT DROP AS
        SELECT c.*, pg_temp.rhetor_metadata(c.metadata) AS metadata_json FROM rhetor_usage_candidates c;
    END;
END $$;
DROP VIEW rhetor_usage_candidates;   -- it depends on the staging tables, which go at commit

-- Monthly partitions for the months the rows fall in, so old rows do not pile up in the default one.
SELECT ensure_usage_partition(m.month)
FROM (SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS month FROM rhetor_usage_new) m;

-- The ledger rows. Costs exactly as Rhetor stored them (caller_priced), or NULL when Rhetor could
-- not price the model (unpriced: `budget reprice` prices them once a price is known).
INSERT INTO usage_records (id, occurred_at, component, provider, model, provider_key, model_key, task_type,
                           input_tokens, output_tokens, cost_usd, pricing_status, request_id, origin, metadata)
SELECT n.usage_id, n.occurred_at, n.component, n.provider, n.model, lower(btrim(n.provider)), lower(btrim(n.model)), n.task_type,
       coalesce(n.input_tokens, 0), coalesce(n.output_tokens, 0),
       CASE WHEN n.unpriced THEN NULL ELSE n.cost END,
       CASE WHEN n.unpriced THEN 'unpriced' ELSE 'caller_priced' END,
       'rhetor:' || n.legacy_id, 'rhetor_import', n.metadata_json
FROM rhetor_usage_new n
ORDER BY n.occurred_at;

INSERT INTO legacy_usage (legacy_source, legacy_id, usage_id, occurred_at, raw_timestamp, legacy_cost, row_hash, import_run_id)
SELECT p.source, n.legacy_id, n.usage_id, n.occurred_at, n.raw_timestamp, n.cost, n.row_hash, p.run_id
FROM rhetor_usage_new n JOIN rhetor_import_params p ON true
ORDER BY n.legacy_id;

-- One unpriced-usage event per model Rhetor could not price (deduplicated as the engine does).
SELECT record_budget_event('unpriced_usage', NULL, NULL,
           format('unpriced:%s:%s', lower(btrim(u.provider)), lower(btrim(u.model))),
           jsonb_build_object('provider', u.provider, 'model', u.model, 'origin', 'rhetor_import', 'rows', u.n))
FROM (SELECT provider, model, count(*) AS n FROM rhetor_usage_new WHERE unpriced GROUP BY provider, model) u;

-- Window counters that already exist and cover the imported time span are recomputed from the
-- ledger (they were built before these rows existed).
UPDATE limit_windows w
SET spent = limit_window_backfill(w.limit_id, w.window_key, w.window_start, w.window_end)
FROM (SELECT min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM rhetor_usage_new) span
WHERE w.window_start IS NOT NULL AND w.window_start <= span.last_at AND w.window_end > span.first_at;

UPDATE import_runs r
SET rows_added = (SELECT count(*) FROM rhetor_usage_new),
    settings_in_file = (SELECT count(*) FROM rhetor_settings_staging),
    limit_versions_added = (SELECT count(*) FROM limits l WHERE l.changed_by = 'rhetor_import:' || p.source
                            AND (l.id, l.version) IN (SELECT limit_id, version FROM legacy_limit_settings WHERE import_run_id = p.run_id))
FROM rhetor_import_params p
WHERE r.id = p.run_id;
