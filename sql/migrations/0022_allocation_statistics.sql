-- No planner statistics for the columns of `allocations` that no query filters, joins or groups on.
--
-- Why: every commit updates its allocation's row, so autovacuum analyses `allocations` often
-- (whenever a tenth of the table has changed), and each analysis samples up to 30,000 rows and
-- builds statistics for every column. commit_result (a commit's first answer, about 700 bytes of
-- JSON), commit_hash and metadata are only ever read back by id. Their statistics were about two
-- fifths of each analysis: ANALYZE allocations took 278-331 ms with them and 160-198 ms without,
-- on 34,000 rows (docs/PERFORMANCE.md). On a busy server that work competes for the CPU with the
-- engine's batches, and a timeline of a benchmark put autovacuum's passes over allocations among
-- the episodes that make the slowest hundredth of calls.
ALTER TABLE allocations
    ALTER COLUMN commit_result SET STATISTICS 0,
    ALTER COLUMN commit_hash SET STATISTICS 0,
    ALTER COLUMN metadata SET STATISTICS 0;
