-- Small planner statistics for the engine's bookkeeping tables: `allocations`,
-- `allocation_windows` and `usage_rollup_deltas` sample 3,000 rows per analysis instead of 30,000.
--
-- Why: under load autovacuum analyses these tables often. Every commit updates its allocation,
-- every allocation adds its windows' shares, and every ledger row adds a rollup delta that the
-- fold deletes again. ANALYZE samples 300 rows per unit of the largest statistics target of a
-- table's columns (default 100, i.e. 30,000 rows) and sorts the sample column by column. That
-- is CPU taken from the engine's batches on the same cores; in a timeline of a benchmark run,
-- autovacuum's pass over these tables was the largest of the episodes that make the slowest
-- hundredth of calls (docs/PERFORMANCE.md).
--
-- What the statistics are for here: nothing reads these tables by anything but a key. The
-- engine's statements look rows up by id (their plans are index plans whatever the statistics
-- say, 0020), the sweeper finds expired reservations on the partial index of `allocations`, and
-- the fold reads `usage_rollup_deltas` whole. A target of 10 still gives each column a
-- most-common-values list and a histogram for the planner's estimates.
--
-- Measured (docs/PERFORMANCE.md): ANALYZE allocations on 330,000 rows took 225-285 ms before
-- and 21 ms after; in a benchmark run, autovacuum's analysis of `allocations` took 95 ms before
-- and 19 ms after. The ledger (`usage_records`) keeps its statistics: reports plan on them.
-- The columns 0022 left without statistics stay without.
ALTER TABLE allocations
    ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN status SET STATISTICS 10,
    ALTER COLUMN component SET STATISTICS 10,
    ALTER COLUMN provider SET STATISTICS 10,
    ALTER COLUMN model SET STATISTICS 10,
    ALTER COLUMN task_type SET STATISTICS 10,
    ALTER COLUMN tier SET STATISTICS 10,
    ALTER COLUMN tags SET STATISTICS 10,
    ALTER COLUMN session_id SET STATISTICS 10,
    ALTER COLUMN task_id SET STATISTICS 10,
    ALTER COLUMN priority SET STATISTICS 10,
    ALTER COLUMN reserved_cost_usd SET STATISTICS 10,
    ALTER COLUMN reserved_tokens SET STATISTICS 10,
    ALTER COLUMN price_id SET STATISTICS 10,
    ALTER COLUMN bypass SET STATISTICS 10,
    ALTER COLUMN request_id SET STATISTICS 10,
    ALTER COLUMN created_at SET STATISTICS 10,
    ALTER COLUMN expires_at SET STATISTICS 10,
    ALTER COLUMN finished_at SET STATISTICS 10,
    ALTER COLUMN usage_id SET STATISTICS 10;

ALTER TABLE allocation_windows
    ALTER COLUMN allocation_id SET STATISTICS 10,
    ALTER COLUMN limit_id SET STATISTICS 10,
    ALTER COLUMN window_key SET STATISTICS 10,
    ALTER COLUMN reserved SET STATISTICS 10;

ALTER TABLE usage_rollup_deltas
    ALTER COLUMN hour SET STATISTICS 10,
    ALTER COLUMN component SET STATISTICS 10,
    ALTER COLUMN provider SET STATISTICS 10,
    ALTER COLUMN model SET STATISTICS 10,
    ALTER COLUMN task_type SET STATISTICS 10,
    ALTER COLUMN tier SET STATISTICS 10,
    ALTER COLUMN input_tokens SET STATISTICS 10,
    ALTER COLUMN output_tokens SET STATISTICS 10,
    ALTER COLUMN cache_read_tokens SET STATISTICS 10,
    ALTER COLUMN cache_write_tokens SET STATISTICS 10,
    ALTER COLUMN reasoning_tokens SET STATISTICS 10,
    ALTER COLUMN cost_usd SET STATISTICS 10,
    ALTER COLUMN records SET STATISTICS 10,
    ALTER COLUMN unpriced_records SET STATISTICS 10;
