-- One batch through budget_engine_run, for pgbench (set-up and use: docs/bench-engine-run.sql,
-- docs/bench-engine-run.sh). The batch is read as text and passed as a parameter, as the server
-- passes it; run pgbench with -M extended so that it is one.
WITH next AS (SELECT nextval('bench_engine.next') AS n) SELECT payload FROM bench_engine.batches, next WHERE batches.n = next.n \gset
SELECT count(*) FROM unnest(budget_engine_run(:payload::jsonb));
