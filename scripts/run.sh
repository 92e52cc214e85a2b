#!/usr/bin/env bash
# `make run`: migrate and seed the embedded SQLite database (first time only), print the
# demo logins and serve the app.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_PATH="${1:-var/doudi.db}"
LISTEN="${2:-127.0.0.1:8080}"
PASSWORD="${DOUDI_DEMO_PASSWORD:-Doudi@2026}"
mkdir -p "$(dirname "$DB_PATH")"
build/doudi migrate --db "sqlite:$DB_PATH" >/dev/null
build/doudi seed-demo --db "sqlite:$DB_PATH" --county 370725 --password "$PASSWORD"
echo
echo "兜底 doudi 已启动：http://$LISTEN  （Ctrl+C 停止）"
exec build/doudi serve --db "sqlite:$DB_PATH" --listen "$LISTEN"
