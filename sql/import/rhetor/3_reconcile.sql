-- Rhetor import, step 3: reconciliation. The figures of every row in the file (the staging copy)
-- against the figures of the ledger rows this source has produced, over all imports of it:
-- row count, input and output tokens and cost, in total, per provider, per month, per
-- provider+model and per month+provider. Months are those of Rhetor's naive timestamp on the file
-- side, and of the ledger's event time in the import's zone on the ledger side, so the timezone
-- round trip is checked too. Costs compare exactly: the ledger's caller-priced cost, and $0 (what
-- Rhetor stored) for rows it could not price, even after `budget reprice` has priced them.
-- The importer reads this table and rolls everything back on any difference.

CREATE TEMP TABLE rhetor_reconciliation ON COMMIT DROP AS
WITH file_side AS (
    SELECT substr(s.raw_timestamp, 1, 7) AS month, s.provider, s.model,
           1 AS n, coalesce(s.input_tokens, 0) AS input_tokens, coalesce(s.output_tokens, 0) AS output_tokens,
           coalesce(s.cost, 0) AS cost
    FROM rhetor_usage_staging s
), ledger_side AS (
    SELECT to_char(u.occurred_at AT TIME ZONE p.timezone, 'YYYY-MM') AS month, u.provider, u.model,
           1 AS n, u.input_tokens, u.output_tokens,
           CASE WHEN u.pricing_status = 'caller_priced' THEN u.cost_usd ELSE 0 END AS cost
    FROM rhetor_import_params p
    JOIN legacy_usage l ON l.legacy_source = p.source
    JOIN usage_records u ON u.id = l.usage_id AND u.occurred_at = l.occurred_at
), file_figures AS (
    SELECT CASE grouping(month, provider, model) WHEN 7 THEN 'total' WHEN 5 THEN 'provider' WHEN 3 THEN 'month'
                WHEN 4 THEN 'provider_model' WHEN 1 THEN 'month_provider' END AS dimension,
           month, provider, model, sum(n) AS n, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
    FROM file_side
    GROUP BY GROUPING SETS ((), (provider), (month), (provider, model), (month, provider))
), ledger_figures AS (
    SELECT CASE grouping(month, provider, model) WHEN 7 THEN 'total' WHEN 5 THEN 'provider' WHEN 3 THEN 'month'
                WHEN 4 THEN 'provider_model' WHEN 1 THEN 'month_provider' END AS dimension,
           month, provider, model, sum(n) AS n, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
    FROM ledger_side
    GROUP BY GROUPING SETS ((), (provider), (month), (provider, model), (month, provider))
)
SELECT coalesce(f.dimension, l.dimension) AS dimension,
       coalesce(f.month, l.month) AS month, coalesce(f.provider, l.provider) AS provider, coalesce(f.model, l.model) AS model,
       coalesce(f.n, 0) AS file_rows, coalesce(f.input_tokens, 0) AS file_input_tokens,
       coalesce(f.output_tokens, 0) AS file_output_tokens, coalesce(f.cost, 0) AS file_cost,
       coalesce(l.n, 0) AS ledger_rows, coalesce(l.input_tokens, 0) AS ledger_input_tokens,
       coalesce(l.output_tokens, 0) AS ledger_output_tokens, coalesce(l.cost, 0) AS ledger_cost
FROM file_figures f
FULL JOIN ledger_figures l
  ON f.dimension = l.dimension AND f.month IS NOT DISTINCT FROM l.month
 AND f.provider IS NOT DISTINCT FROM l.provider AND f.model IS NOT DISTINCT FROM l.model;
