#!/usr/bin/env bash
# `make test`: every suite, then one summary line "N passed, N failed".
#   0. size limits (issue 18): tools/check-sizes.mjs as one counted test, after its own tests
#   1. C++ unit tests (GoogleTest via CTest), on SQLite and on PostgreSQL
#   2. black-box API tests (tests/api) against a live server on SQLite, then on PostgreSQL
#   3. browser tests (tests/e2e) in headless Debian Chromium (playwright-core)
# With arguments, only those: `tests/run.sh sizes unit tests/api/session.test.mjs tests/e2e/admin.test.mjs`
# ("sizes" for the size limits, "unit" for the C++ tests; DOUDI_TEST_DBS=sqlite or postgresql limits
# the API files to one database).
# PostgreSQL 15 is started here on loopback in a throw-away cluster and stopped at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/build/doudi"
WORK=$(mktemp -d /tmp/doudi-test.XXXXXX)
chmod 755 "$WORK"
PASSWORD='Demo@2026pw'
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=${DOUDI_TEST_PG_PORT:-55432}
PASSED=0
FAILED=0
RUN_SIZES=1; RUN_UNIT=1; API_FILES=(tests/api); E2E_FILES=(tests/e2e)
if [ $# -gt 0 ]; then
  RUN_SIZES=0; RUN_UNIT=0; API_FILES=(); E2E_FILES=()
  for a in "$@"; do
    case "$a" in
      sizes) RUN_SIZES=1 ;;
      unit) RUN_UNIT=1 ;;
      tests/api/*) API_FILES+=("$a") ;;
      tests/e2e/*) E2E_FILES+=("$a") ;;
      *) echo "unknown argument $a (sizes, unit, tests/api/FILE or tests/e2e/FILE)"; exit 2 ;;
    esac
  done
fi
DBS=${DOUDI_TEST_DBS:-sqlite postgresql}
SERVER_PID=""
TOTP_SECRETS="{}"

log() { printf '\n==> %s\n' "$*"; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  if [ -d "$WORK/pg" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Adds the counts of a node --test TAP log.
count_node() {
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  if [ -z "$p" ] && [ -z "$f" ]; then f=1; echo "   (suite did not run: see above)"; fi
  PASSED=$((PASSED + ${p:-0})); FAILED=$((FAILED + ${f:-0}))
  echo "   $2: ${p:-0} passed, ${f:-0} failed"
}

start_pg() {
  log "starting PostgreSQL 15 on 127.0.0.1:$PG_PORT"
  mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log"; return 1; }
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$WORK/pg/server.log"; return 1; }
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE doudi LOGIN" >/dev/null
}
pg_url() {  # a fresh database per use
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $1 OWNER doudi" >/dev/null
  echo "postgresql://doudi@127.0.0.1:$PG_PORT/$1"
}

# Starts a server on a fresh, migrated, seeded database; sets SERVER_PID and URL.
start_server() {
  local db="$1" port
  port=$(free_port)
  # The audit chain's keys and anchors (src/audit/chain_keys.h), one directory per database:
  # exported, so the tests' `doudi audit verify` and second servers find them too.
  export DOUDI_AUDIT_DIR="$WORK/audit-$port"
  "$BIN" migrate --db "$db" >/dev/null || return 1
  "$BIN" seed-demo --db "$db" --password "$PASSWORD" --json >"$WORK/seed.json" || return 1
  # The TOTP secrets of the demo admin and auditor: the suites compute their login codes.
  TOTP_SECRETS=$(node -e 'const o={};for(const u of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).users)if(u.totp_secret)o[u.username]=u.totp_secret;console.log(JSON.stringify(o))' "$WORK/seed.json") || return 1
  URL="http://127.0.0.1:$port"
  SERVER_LOG="$WORK/server-$port.log"
  "$BIN" serve --db "$db" --listen "127.0.0.1:$port" --web "$ROOT/web/dist" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -sf "$URL/api/v1/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start:"; cat "$WORK/server-$port.log"; return 1
}
# SIGTERM must stop the server cleanly (graceful shutdown).
stop_server() {
  kill -TERM "$SERVER_PID"
  if wait "$SERVER_PID"; then PASSED=$((PASSED + 1)); echo "   graceful shutdown: ok"
  else FAILED=$((FAILED + 1)); echo "   graceful shutdown: FAILED (exit $?)"; fi
  SERVER_PID=""
}

run_node_suite() {  # $1 name, $2 db url, then the files or folders
  local out="$WORK/$1.tap" name="$1" db="$2"
  shift 2
  DOUDI_URL="$URL" DOUDI_DB="$db" DOUDI_BIN="$BIN" DOUDI_PASSWORD="$PASSWORD" DOUDI_SERVER_LOG="$SERVER_LOG" \
    DOUDI_TOTP_SECRETS="$TOTP_SECRETS" DOUDI_SESSION_CACHE="$WORK/sessions-${URL##*:}" \
    node --test --test-concurrency=1 --test-reporter=tap "$@" >"$out" 2>&1
  grep -E '^not ok|^# (pass|fail)' "$out" | head -40
  grep -qE '^not ok' "$out" && grep -B2 -A30 -E '^\s*not ok' "$out" | head -150
  count_node "$out" "$name"
}

# Issue 18's limits (no source file over 800 lines, no function over 80) minus the exceptions of
# docs/architecture.md ("Size exceptions"): one counted test, run first.
if [ $RUN_SIZES = 1 ]; then
  log "size limits (tools/check-sizes.mjs)"
  node --test --test-reporter=tap tests/tools/ >"$WORK/sizes-tool.tap" 2>&1
  grep -qE '^not ok' "$WORK/sizes-tool.tap" && grep -B2 -A30 -E '^\s*not ok' "$WORK/sizes-tool.tap" | head -80
  count_node "$WORK/sizes-tool.tap" "the size check's own tests"
  if node tools/check-sizes.mjs >"$WORK/sizes.log" 2>&1; then
    PASSED=$((PASSED + 1)); echo "   size limits: ok"
  else
    head -100 "$WORK/sizes.log"; FAILED=$((FAILED + 1)); echo "   size limits: FAILED (exceptions go under \"Size exceptions\" in docs/architecture.md)"
  fi
fi

PG_OK=1
if [ $RUN_UNIT = 1 ] || { [ ${#API_FILES[@]} -gt 0 ] && [[ " $DBS " == *" postgresql "* ]]; }; then
  start_pg || PG_OK=0
  [ $PG_OK = 1 ] || { echo "PostgreSQL did not start"; FAILED=$((FAILED + 1)); }
else PG_OK=0; fi

if [ $RUN_UNIT = 1 ]; then
log "C++ unit tests (SQLite$([ $PG_OK = 1 ] && echo ' and PostgreSQL'))"
UNIT_PG=""
[ $PG_OK = 1 ] && UNIT_PG=$(pg_url doudi_unit)
DOUDI_TEST_PG_URL="$UNIT_PG" ctest --test-dir build --output-on-failure -j2 >"$WORK/ctest.log" 2>&1
grep -E 'tests passed|Failed|\*\*\*' "$WORK/ctest.log" | head -30
total=$(grep -oE 'tests failed out of [0-9]+' "$WORK/ctest.log" | awk '{print $5}')
nfail=$(grep -oE '[0-9]+ tests failed out of' "$WORK/ctest.log" | awk '{print $1}')
if [ -z "$total" ]; then cat "$WORK/ctest.log"; FAILED=$((FAILED + 1)); else
  PASSED=$((PASSED + total - nfail)); FAILED=$((FAILED + nfail)); fi
fi

if [ ${#API_FILES[@]} -gt 0 ] && [[ " $DBS " == *" sqlite "* ]]; then
log "API tests on SQLite"
if start_server "sqlite:$WORK/api.db"; then
  run_node_suite api-sqlite "sqlite:$WORK/api.db" "${API_FILES[@]}"
  stop_server
else FAILED=$((FAILED + 1)); fi
fi

if [ $PG_OK = 1 ] && [ ${#API_FILES[@]} -gt 0 ] && [[ " $DBS " == *" postgresql "* ]]; then
  log "API tests on PostgreSQL"
  PGDB=$(pg_url doudi_api)
  if start_server "$PGDB"; then
    run_node_suite api-postgresql "$PGDB" "${API_FILES[@]}"
    stop_server
  else FAILED=$((FAILED + 1)); fi
fi

if [ ${#E2E_FILES[@]} -gt 0 ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
  log "browser tests (headless Chromium)"
  if start_server "sqlite:$WORK/e2e.db"; then
    run_node_suite e2e "sqlite:$WORK/e2e.db" "${E2E_FILES[@]}"
    stop_server
  else FAILED=$((FAILED + 1)); fi
fi

echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
