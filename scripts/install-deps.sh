#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine: Debian packages with apt, the npm
# packages of the tools/tests (repo root) and of the web app (web/) with `npm ci`.
# Quiet and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libpq-dev libsodium-dev libspdlog-dev
  libcli11-dev libtomlplusplus-dev libxlsxwriter-dev libgtest-dev libgmock-dev
  libssl-dev
  postgresql-15 postgresql-client-15 chromium wrk
  universal-ctags
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

npm_ci() {  # $1: directory with package-lock.json
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci .
[ -f web/package-lock.json ] && npm_ci web
exit 0
