#!/bin/bash
# Times budget_engine_run alone (one backend, no HTTP), for the definition in place and for
# other definitions of it, in alternating rounds (docs/PERFORMANCE.md).
#
#   docs/bench-engine-run.sh DATABASE_URL [ROUNDS] [VARIANT.sql ...]
#
# DATABASE_URL must be a throwaway database with Budget's schema, e.g. a private cluster made
# for it (stop it afterwards with `budget db stop`):
#   BUDGET_DATA_DIR=/tmp/bench-engine budget migrate
#   docs/bench-engine-run.sh "$(BUDGET_DATA_DIR=/tmp/bench-engine budget db url)"
# Each VARIANT.sql redefines budget_engine_run;
# the definition found at the start is put back at the end. Needs pg_stat_statements loaded
# (in shared_preload_libraries, and the extension created) for the executor's own time per batch; without it only pgbench's
# latency (which adds the commit's WAL flush) is printed.
# Settings: BATCHES (batches per round, 600), CALLS (allocates per batch, and as many commits, 7),
# IDS (v7: time-ordered allocation and usage ids, as Budget makes them; v4: random ones).
set -euo pipefail
url=$1; rounds=${2:-3}; shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
batches=${BATCHES:-600}; calls=${CALLS:-7}
psql "$url" -qX -v ON_ERROR_STOP=1 -f "$here/bench-engine-run.sql" >/dev/null
shipped=$(mktemp); trap 'psql "$url" -qX -v ON_ERROR_STOP=1 -f "$shipped" >/dev/null; rm -f "$shipped"' EXIT
psql "$url" -qXAt -c "SELECT pg_get_functiondef('budget_engine_run(jsonb)'::regprocedure) || ';'" > "$shipped"
statements=$(psql "$url" -qXAt -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
for round in $(seq 1 "$rounds"); do
    for variant in "$shipped" "$@"; do
        psql "$url" -qX -v ON_ERROR_STOP=1 -f "$variant" >/dev/null
        PGOPTIONS="-c bench_engine.ids=${IDS:-v7}" psql "$url" -qXAt -c "SELECT bench_engine.make($batches, $calls)" >/dev/null
        [ "$statements" = 1 ] && psql "$url" -qXAt -c "SELECT pg_stat_statements_reset()" >/dev/null
        latency=$(pgbench -n -M extended -c 1 -t "$batches" -f "$here/bench-engine-run.pgbench.sql" "$url" 2>&1 | awk '/latency average/ {print $4}')
        executor=""
        [ "$statements" = 1 ] && executor=$(psql "$url" -qXAt -c "SELECT ', executor ' || round(mean_exec_time::numeric, 3) || ' ms' FROM pg_stat_statements WHERE query LIKE 'SELECT count(*) FROM unnest(budget_engine_run%'")
        name=$([ "$variant" = "$shipped" ] && echo "in place" || basename "$variant")
        echo "round $round, $name: $((2 * calls)) calls per batch, latency $latency ms$executor"
    done
done
