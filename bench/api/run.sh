#!/usr/bin/env bash
# bench/api: county-sized registry (default 200,000 households) on SQLite and PostgreSQL;
# wrk on loopback, 64 connections, a town clerk's mix vs. /api/v1/health.
# Prints requests/s, p50, p99 and the mix's share of the health route's throughput. The two
# alternate for ROUNDS rounds (default 3): the machine's speed drifts within minutes, so each
# round's share compares runs seconds apart, and the median round is the result.
# Usage: [ROUNDS=n] bench/api/run.sh [households] [seconds] [backends: "sqlite postgresql" by default]
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${1:-200000}
SECS=${2:-15}
BACKENDS=${3:-sqlite postgresql}
ROUNDS=${ROUNDS:-3}
BIN=$ROOT/build/doudi
WORK=$(mktemp -d /tmp/doudi-bench.XXXXXX); chmod 755 "$WORK"
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=55433
PASSWORD='Bench@2026pw'
SPID=""
trap 'kill $SPID 2>/dev/null; [ -d $WORK/pg ] && runuser -u postgres -- $PG_BIN/pg_ctl -D $WORK/pg -m fast stop >/dev/null 2>&1; rm -rf $WORK' EXIT
command -v wrk >/dev/null || { echo "wrk missing: make deps"; exit 1; }
cmake --build build -j2 --target seed_registry >/dev/null || exit 1

parse() {  # wrk output → "rps p50 p99"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$1")
  p50=$(awk '$1=="50%" {print $2}' "$1")
  p99=$(awk '$1=="99%" {print $2}' "$1")
  echo "$rps $p50 $p99"
}

bench_backend() {  # $1 name, $2 url
  local name=$1 db=$2 port=18555
  "$BIN" migrate --db "$db" >/dev/null && "$BIN" seed-demo --db "$db" --password "$PASSWORD" >/dev/null || return 1
  local t0=$(date +%s.%N)
  "$ROOT/build/seed_registry" --db "$db" --households "$N" || return 1
  echo "   load: $(echo "$(date +%s.%N) - $t0" | bc) s"
  "$BIN" serve --db "$db" --listen 127.0.0.1:$port >"$WORK/server-$name.log" 2>&1 &
  SPID=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/api/v1/health >/dev/null && break; sleep 0.1; done
  local login
  login=$(curl -s -c "$WORK/cj" -H 'Content-Type: application/json' \
    -d "{\"username\":\"town_clerk\",\"password\":\"$PASSWORD\"}" http://127.0.0.1:$port/api/v1/session)
  export DOUDI_CSRF=$(echo "$login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["csrf_token"])')
  export DOUDI_COOKIE=$(awk '$6=="doudi_session" {print $7}' "$WORK/cj")
  export DOUDI_ID_FILE=$WORK/ids-$name.txt
  if [[ $db == sqlite:* ]]; then
    sqlite3 "${db#sqlite:}" "SELECT id FROM households WHERE town_code='370725107' ORDER BY random() LIMIT 5000" >"$DOUDI_ID_FILE"
  else
    psql "$db" -At -c "SELECT id FROM households WHERE town_code='370725107' ORDER BY random() LIMIT 5000" >"$DOUDI_ID_FILE"
  fi
  # Warm-up: the health route, then 5 s of the mix (the clerk's pages, searches and households
  # enter the server's caches, as in a server that has been up for a while).
  wrk -t2 -c64 -d3s http://127.0.0.1:$port/api/v1/health >/dev/null
  wrk -t2 -c64 -d5s -s "$ROOT/bench/api/mix.lua" http://127.0.0.1:$port >/dev/null
  local round shares=()
  for round in $(seq "$ROUNDS"); do
    wrk -t2 -c64 -d${SECS}s --latency http://127.0.0.1:$port/api/v1/health >"$WORK/health-$name.txt"
    wrk -t2 -c64 -d${SECS}s --latency -s "$ROOT/bench/api/mix.lua" http://127.0.0.1:$port >"$WORK/mix-$name.txt"
    read -r hr h50 h99 < <(parse "$WORK/health-$name.txt")
    read -r mr m50 m99 < <(parse "$WORK/mix-$name.txt")
    local errs=$(awk '/non-2xx/ {print $2}' "$WORK/mix-$name.txt")
    local share=$(echo "scale=1; 100 * $mr / $hr" | bc)
    shares+=("$share")
    printf '%-11s | %-8s | %9s | %8s | %8s | round %s\n' "$name" health "$hr" "$h50" "$h99" "$round"
    printf '%-11s | %-8s | %9s | %8s | %8s | %s%% of health, %s non-2xx\n' "$name" mix "$mr" "$m50" "$m99" \
      "$share" "${errs:-0}"
  done
  echo "$name: median share of health over $ROUNDS rounds: $(printf '%s\n' "${shares[@]}" | sort -n |
    awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')%"
  kill -TERM $SPID; wait $SPID 2>/dev/null; SPID=""
}

echo "registry: $N households; wrk -t2 -c64 -d${SECS}s on loopback; $(nproc) cores"
echo "backend     | route    |     req/s |      p50 |      p99 | note"
[[ " $BACKENDS " == *" sqlite "* ]] && bench_backend sqlite "sqlite:$WORK/bench.db"
[[ " $BACKENDS " == *" postgresql "* ]] || exit 0
mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg"
runuser -u postgres -- $PG_BIN/initdb -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
runuser -u postgres -- $PG_BIN/pg_ctl -D "$WORK/pg" -l "$WORK/pg/log" -w -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1" start >/dev/null
psql -h 127.0.0.1 -p $PG_PORT -U postgres -qc "CREATE ROLE doudi LOGIN" >/dev/null
psql -h 127.0.0.1 -p $PG_PORT -U postgres -qc "CREATE DATABASE doudi_bench OWNER doudi" >/dev/null
# The server reaches PostgreSQL on the same machine through its Unix socket, as a local
# installation does (docs/operations.md): on loopback TCP every round trip costs both sides
# more in the kernel.
bench_backend postgresql "postgresql://doudi@/doudi_bench?host=$WORK/pg&port=$PG_PORT"
