-- budget_engine_run plans every lookup on an index, whatever the statistics say.
--
-- Why: a connection plans the function's statements on its first batch and keeps those generic
-- plans. On a new database that happens while `allocations`, `allocation_windows` and
-- `limit_windows` are empty and not yet analysed, and the planner then chooses sequential scans
-- joined by hash: every later batch read the whole `allocations` table (2,445 sequential scans
-- reading 11.4 million rows in a 5-second benchmark), until autovacuum's first ANALYZE made the
-- connection re-plan, which on a new cluster came 20-30 seconds after the start. Every statement
-- in this function looks up a batch's worth of rows by key, so an index lookup in a nested loop
-- is the right plan at any table size.
--
-- jit is off because the disabled paths carry a cost far above jit_above_cost, and a JIT
-- compilation on every batch costs more than the statements themselves (measured: a third of
-- the throughput).
--
-- The one statement in the call tree that must read a range of the ledger (the spend of a window
-- created mid-period, limit_window_backfill) gets the default plan choices back.
ALTER FUNCTION budget_engine_run(jsonb)
    SET enable_seqscan = off
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    SET jit = off;

ALTER FUNCTION limit_window_backfill(uuid, text, timestamptz, timestamptz, uuid[])
    SET enable_seqscan = on
    SET enable_hashjoin = on
    SET enable_mergejoin = on;
