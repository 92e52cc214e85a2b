#!/usr/bin/env bash
# bench/monitoring: the monitoring match (registry persons × one department feed, by citizen id)
# three ways on the same CSV files: our engine (bench_monitoring_engine), DuckDB (@duckdb/node-api,
# reading the CSVs itself) and PostgreSQL 15 (COPY, then the join, timed apart). Each peer runs
# RUNS times (default 3), interleaved; the table shows the best wall time, the spread (best–worst),
# the peak memory and the ratio to DuckDB, and the script checks that all three found the same
# number of matches as the generator put in. Not part of `make test`.
#
# Usage: bench/monitoring/run.sh [persons] [feed_rows]      (defaults 5000000 20000000)
#   RUNS=5 bench/monitoring/run.sh     more runs
#   SKIP_PG=1 bench/monitoring/run.sh  engine and DuckDB only
# Data goes to /tmp/doudi-bench-monitoring-<persons>-<rows>/ and is reused when present.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PERSONS=${1:-5000000}
ROWS=${2:-20000000}
RUNS=${RUNS:-3}
DATA=/tmp/doudi-bench-monitoring-$PERSONS-$ROWS
PG_BIN=/usr/lib/postgresql/15/bin
WORK=$(mktemp -d /tmp/doudi-bench-mon.XXXXXX)
chmod 755 "$WORK"
PG_PID=""

cleanup() {
  if [ -d "$WORK/pg" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || die "/usr/bin/time missing: apt-get install time"
  log "installing GNU time (Debian package time)"
  apt-get install -y -q time >/dev/null || die "apt-get install time failed"
fi

log "building bench_monitoring_gen bench_monitoring_engine"
cmake --build build -j2 --target bench_monitoring_gen bench_monitoring_engine >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log"; die "build failed (configure first: cmake -S . -B build)"; }

if [ ! -s "$DATA/expected.txt" ]; then
  log "generating $PERSONS persons and $ROWS feed rows into $DATA"
  rm -rf "$DATA.tmp" && mkdir -p "$DATA.tmp" || die "cannot create $DATA.tmp"
  "$ROOT/build/bench_monitoring_gen" "$DATA.tmp" "$PERSONS" "$ROWS" >&2 || die "generator failed"
  rm -rf "$DATA" && mv "$DATA.tmp" "$DATA"
fi
chmod 755 "$DATA" && chmod 644 "$DATA"/*
EXPECTED=$(cat "$DATA/expected.txt")
CSV_MB=$(( ($(stat -c %s "$DATA/registry.csv") + $(stat -c %s "$DATA/feed.csv")) / 1000000 ))

if [ ! -d bench/monitoring/node_modules/@duckdb/node-api ]; then
  log "installing @duckdb/node-api (npm ci in bench/monitoring)"
  (cd bench/monitoring && npm ci --no-audit --no-fund >/dev/null 2>&1) || die "npm ci failed in bench/monitoring"
fi

# Runs a command under /usr/bin/time -v; prints "wall_s matched peak_mb process_wall_s cpu_s"
# from its RESULT line (internal wall time) and time's report (peak RSS, elapsed, user + system).
timed() {
  local out="$WORK/out.txt" tv="$WORK/time.txt"
  /usr/bin/time -v -o "$tv" "$@" >"$out" 2>&1 || { cat "$out" >&2; echo "0 0 0 0 0"; return 1; }
  local wall matched rss elapsed cpu
  wall=$(sed -n 's/.*RESULT [a-z]* wall_s=\([0-9.]*\).*/\1/p' "$out")
  matched=$(sed -n 's/.*RESULT .* matched=\([0-9]*\).*/\1/p' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$tv")
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$tv")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$tv")
  echo "$wall $matched $rss $elapsed $cpu"
}

# ---- PostgreSQL 15 -------------------------------------------------------------------------
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PG_PORT=""
psql_pg() { PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
now() { date +%s.%N; }

start_pg() {
  PG_PORT=$(free_port)
  log "starting a throw-away PostgreSQL 15 on 127.0.0.1:$PG_PORT"
  mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log"; return 1; }
  # Settings for a bulk batch job: no durability, enough memory for the hash join.
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c shared_buffers=1GB -c work_mem=512MB -c max_wal_size=8GB -c max_parallel_workers_per_gather=2" \
    start >/dev/null || { cat "$WORK/pg/server.log"; return 1; }
  PG_PID=$(head -1 "$WORK/pg/postmaster.pid")
}

# Sums the proportional set size (PSS) of the cluster's processes every 0.2 s until told to
# stop; writes the peak in MB to $1.
sample_pg_memory() {
  local out=$1 peak=0 sum pid
  while [ ! -e "$out.stop" ]; do
    sum=0
    for pid in $PG_PID $(pgrep -P "$PG_PID"); do
      sum=$((sum + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)))
    done
    [ "$sum" -gt "$peak" ] && peak=$sum
    sleep 0.2
  done
  echo $((peak / 1024)) >"$out"
}

# One PostgreSQL run: prints "copy_s join_s matched peak_mb".
run_pg() {
  psql_pg -c "DROP TABLE IF EXISTS registry, feed, matches" >/dev/null
  psql_pg -c "CREATE UNLOGGED TABLE registry (citizen_id text, name text, household_id text);
              CREATE UNLOGGED TABLE feed (citizen_id text, event_date text, amount text, source text)" >/dev/null
  rm -f "$WORK/pgmem" "$WORK/pgmem.stop"
  sample_pg_memory "$WORK/pgmem" &
  local sampler=$! t0 t1 t2 matched
  t0=$(now)
  psql_pg -c "COPY registry FROM '$DATA/registry.csv' (FORMAT csv, HEADER true)" >/dev/null &&
    psql_pg -c "COPY feed FROM '$DATA/feed.csv' (FORMAT csv, HEADER true)" >/dev/null &&
    psql_pg -c "ANALYZE registry; ANALYZE feed" >/dev/null || { touch "$WORK/pgmem.stop"; wait $sampler; return 1; }
  t1=$(now)
  psql_pg -c "CREATE UNLOGGED TABLE matches AS
              SELECT r.household_id, f.citizen_id, f.event_date, f.amount, f.source
              FROM feed f JOIN registry r USING (citizen_id)" >/dev/null || { touch "$WORK/pgmem.stop"; wait $sampler; return 1; }
  matched=$(psql_pg -c "SELECT count(*) FROM matches")
  t2=$(now)
  touch "$WORK/pgmem.stop"
  wait $sampler
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc) $matched $(cat "$WORK/pgmem")"
}

# ---- runs ----------------------------------------------------------------------------------
ENGINE=() DUCK=() DUCK500=() PG=()
for i in $(seq "$RUNS"); do
  log "run $i/$RUNS: engine"
  ENGINE+=("$(timed "$ROOT/build/bench_monitoring_engine" "$DATA")")
  log "run $i/$RUNS: DuckDB"
  DUCK+=("$(cd bench/monitoring && timed node duckdb.mjs "$DATA")")
  log "run $i/$RUNS: DuckDB, memory_limit 500MB"
  DUCK500+=("$(cd bench/monitoring && timed node duckdb.mjs "$DATA" 500MB)")
done
if [ -z "${SKIP_PG:-}" ]; then
  if start_pg; then
    for i in $(seq "$RUNS"); do
      log "run $i/$RUNS: PostgreSQL COPY + join"
      PG+=("$(run_pg || echo "0 0 0 0")")
    done
  else
    log "PostgreSQL did not start; skipped"
  fi
fi

# ---- table ---------------------------------------------------------------------------------
# stats FIELD LINES...: "best worst" of field FIELD (1-based) over the lines.
stats() { local f=$1; shift; printf '%s\n' "$@" | awk -v f="$f" 'NR == 1 || $f < lo {lo = $f} NR == 1 || $f > hi {hi = $f} END {printf "%.2f %.2f", lo, hi}'; }
maxof() { local f=$1; shift; printf '%s\n' "$@" | awk -v f="$f" '$f > m {m = $f} END {printf "%.0f", m}'; }
same() { local f=$1; shift; printf '%s\n' "$@" | awk -v f="$f" '{print $f}' | sort -u | paste -sd/; }

read -r duck_best duck_worst < <(stats 1 "${DUCK[@]}")
row() {  # name best worst peak_mb matches cpu_best
  local ratio
  ratio=$(awk -v d="$duck_best" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f×", d / b; else print "-"}')
  printf '| %-34s | %8s s | %6s–%-6s s | %8s | %7s MB | %10s | %10s |\n' "$1" "$2" "$2" "$3" "$6" "$4" "$ratio" "$5"
}

echo
echo "bench/monitoring — $(date +%F), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "registry $PERSONS persons × feed $ROWS rows, $CSV_MB MB of CSV (page cache warm); best of $RUNS runs, interleaved"
echo
printf '| %-34s | %10s | %15s | %8s | %10s | %10s | %10s |\n' "peer" "wall" "spread" "cpu" "peak mem" "vs DuckDB" "matches"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "-----------------" "----------" "------------" "------------" "------------"
cpu_best() { printf '%s s' "$(stats 5 "$@" | cut -d' ' -f1)"; }
read -r b w < <(stats 1 "${ENGINE[@]}"); row "doudi engine (validates ids)" "$b" "$w" "$(maxof 3 "${ENGINE[@]}")" "$(same 2 "${ENGINE[@]}")" "$(cpu_best "${ENGINE[@]}")"
row "DuckDB $(node -p "require('./bench/monitoring/node_modules/@duckdb/node-api/package.json').version" 2>/dev/null)" \
  "$duck_best" "$duck_worst" "$(maxof 3 "${DUCK[@]}")" "$(same 2 "${DUCK[@]}")" "$(cpu_best "${DUCK[@]}")"
read -r b w < <(stats 1 "${DUCK500[@]}"); row "DuckDB, memory_limit 500MB" "$b" "$w" "$(maxof 3 "${DUCK500[@]}")" "$(same 2 "${DUCK500[@]}")" "$(cpu_best "${DUCK500[@]}")"
if [ ${#PG[@]} -gt 0 ]; then
  read -r cb cw < <(stats 1 "${PG[@]}")
  read -r jb jw < <(stats 2 "${PG[@]}")
  totals=(); for r in "${PG[@]}"; do totals+=("$(echo "$r" | awk '{print $1 + $2}')"); done
  read -r tb tw < <(stats 1 "${totals[@]}")
  pgmem="$(maxof 4 "${PG[@]}")"
  row "PostgreSQL 15: COPY + ANALYZE" "$cb" "$cw" "$pgmem" "-" "-"
  row "PostgreSQL 15: join" "$jb" "$jw" "$pgmem" "$(same 3 "${PG[@]}")" "-"
  row "PostgreSQL 15: total" "$tb" "$tw" "$pgmem" "$(same 3 "${PG[@]}")" "-"
fi
echo
echo "vs DuckDB: DuckDB's best wall / this best wall (above 1: faster than DuckDB)"
echo "wall: the engine's and DuckDB's own timers (process start-up excluded; process elapsed: engine" \
     "$(stats 4 "${ENGINE[@]}" | tr ' ' '-') s, DuckDB $(stats 4 "${DUCK[@]}" | tr ' ' '-') s);" \
     "cpu: user + system seconds of the process, best run (steadier than wall on a shared machine);" \
     "peak mem: max RSS (/usr/bin/time -v; node included for DuckDB), PostgreSQL: peak summed PSS of the cluster"

# ---- verify --------------------------------------------------------------------------------
status=0
all=$(printf '%s\n' "${ENGINE[@]}" "${DUCK[@]}" "${DUCK500[@]}" | awk '{print $2}')
[ ${#PG[@]} -gt 0 ] && all="$all"$'\n'$(printf '%s\n' "${PG[@]}" | awk '{print $3}')
if [ "$(echo "$all" | sort -u)" = "$EXPECTED" ]; then
  echo "verify: every run of every peer found $EXPECTED matches, as generated: OK"
else
  echo "verify: MISMATCH — expected $EXPECTED, got: $(echo "$all" | sort | uniq -c | tr '\n' ' ')"
  status=1
fi
exit $status
