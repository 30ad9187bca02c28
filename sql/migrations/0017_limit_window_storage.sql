-- limit_windows holds few rows that every allocate and commit updates: one hot row per busy
-- limit window, rewritten thousands of times a second. With the default fillfactor the page
-- fills with row versions, updates spill to new pages (no longer HOT), the table and its index
-- bloat, and every lookup walks longer chains: the pair benchmark lost a fifth of its throughput
-- per ten seconds of load until a VACUUM FULL (docs/PERFORMANCE.md). Room on each page keeps the
-- updates HOT, so reading a page prunes the dead versions; autovacuum is told to visit early.
-- (Only pages written from now on honour the fillfactor; an existing bloated table needs one
-- VACUUM FULL limit_windows, at a quiet moment.)
ALTER TABLE limit_windows SET (
    fillfactor = 20,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_cost_delay = 0
);

-- Allocations are updated once (commit, release, expiry) and rollup deltas deleted once folded:
-- both leave a dead row per call, which slowed the benchmark by a third within half a minute
-- before autovacuum's next visit. Vacuum them after a fixed number of dead rows, not a fraction.
ALTER TABLE allocations SET (autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE usage_rollup_deltas SET (autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 0);
