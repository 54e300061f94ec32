#!/usr/bin/env bash
# End-to-end test of the admin page: starts a throwaway scimd (embedded
# PostgreSQL in a temp data dir, loopback only), drives headless Chromium
# through the page with playwright-core, then stops scimd with SIGTERM.
#
#   tests/browser/run.sh [path/to/scimd]      (default: target/release/scimd)
#
# Needs: node >= 20, Debian's chromium (CHROMIUM=/usr/bin/chromium), and
# `npm ci` run in tests/browser (done here if node_modules is missing).
# ADMIN_SCREENSHOT=docs/admin-page.png also writes the README screenshot;
# KEEP_TMP=1 keeps the temp dir (logs, phone screenshot) for a look.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-target/release/scimd}
[ -x "$bin" ] || bin="$root/$bin"
if [ ! -x "$bin" ]; then
  echo "run.sh: no scimd binary at ${1:-target/release/scimd}; build it first (cargo build --release)" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "run.sh: $CHROMIUM not found (apt-get install chromium)" >&2; exit 2; }
command -v node >/dev/null || { echo "run.sh: node not found" >&2; exit 2; }

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm ci --no-audit --no-fund)
fi

tmp=$(mktemp -d /tmp/scimd-browser.XXXXXX)
pid=""
cleanup() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: scimd did not stop within 30 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rc=1
    fi
    wait "$pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/scimd.log" ]; then
    echo "---- last lines of the scimd log ----" >&2
    tail -n 40 "$tmp/scimd.log" >&2
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "run.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port (the kernel picks it; a tiny race is acceptable here).
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
secret=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')   # 40 hex characters
base="http://127.0.0.1:$port"

SCIMD_DATA_DIR="$tmp/data" SCIMD_LISTEN="127.0.0.1:$port" AUTH_SECRET="$secret" \
  SCIMD_SHUTDOWN_TIMEOUT_SECS=5 RUST_LOG=${RUST_LOG:-info} \
  SCIMD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 SCIMD_DELIVERY_RETRY_HOURS=0 \
  "$bin" serve >"$tmp/scimd.log" 2>&1 &
pid=$!

# Wait for /ready (first start runs initdb and migrations: allow 90 s).
ready=0
deadline=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: scimd exited during start-up" >&2
    exit 1
  fi
  if node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(1000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$base/ready" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "run.sh: scimd was not ready within 90 s" >&2; exit 1; }

shot=${ADMIN_SCREENSHOT:-}
[ -z "$shot" ] || case "$shot" in /*) ;; *) shot="$root/$shot" ;; esac
start=$(date +%s)
(cd "$here" && SCIMD_URL="$base" AUTH_SECRET="$secret" ARTIFACT_DIR="$tmp" \
  ADMIN_SCREENSHOT="$shot" timeout -k 5 240 node --test --test-reporter=spec admin.test.mjs)
echo "run.sh: browser test took $(( $(date +%s) - start )) s"
