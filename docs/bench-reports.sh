#!/bin/bash
# Report latency benchmark (docs/PERFORMANCE.md): docs/bench-reports.sh PORT RUNS
# The dates match a ledger seeded on 2026-11-21 with `budget dev seed --rows 10000000 --days 90`.
PORT=${1:-8131}; RUNS=${2:-20}
B="http://127.0.0.1:$PORT/api/v1/reports/spend"
q() { # name query
  local name=$1 query=$2 times=()
  curl -s -o /dev/null "$B?$query"   # warm-up
  for i in $(seq $RUNS); do times+=($(curl -s -o /dev/null -w '%{time_total}' "$B?$query")); done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "%-45s runs=%d p50=%.1f ms max=%.1f ms\n", n, NR, a[int((NR+1)/2)]*1000, a[NR]*1000}'
}
q "month by component (UTC)"        "from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&bucket=month&group_by=component"
q "90 days, daily by model (UTC)"   "from=2026-08-24T00:00:00Z&to=2026-11-22T00:00:00Z&bucket=day&group_by=model"
q "90 days, daily by model (Berlin)" "from=2026-08-24T00:00:00Z&to=2026-11-22T00:00:00Z&bucket=day&group_by=model&timezone=Europe/Berlin"
q "month, hourly by component,model" "from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&bucket=hour&group_by=component,model"
