#!/usr/bin/env bash
# benches/events/cost.sh [SCIMD_BIN] — what one active webhook subscription costs the
# request path, and how fast events are delivered to a local receiver.
# Issue 18 asks that W1 (POST /Users) and W4 (PATCH displayName) with one active webhook
# subscription stay within 15 % of the same workloads without one, in the same run.
#
# Starts SCIMD_BIN (default ./target/release/scimd) on a fresh embedded data directory and
# a local webhook receiver (node: answers 204, counts events), then runs
# ../shared/bench/bench.sh ROUNDS times (default 2) without and with a subscription,
# alternating, so drift hits both alike. "Without" still writes every event (the outbox is
# part of every change); "with" adds the delivery workers reading, signing and POSTing
# them while the workload runs. Each "with" round gets a new subscription (it starts at the
# newest event, so it carries no backlog). Then the delivery throughput: a subscription
# created at event 0's position replays the whole run's events (tens of thousands) and the
# time to drain them is measured, with nothing else running.
# Env: N (default 2000), SMALL (500), SECS (5), ROUNDS (2), BENCH (path to bench.sh).
# Needs wrk, python3 and node.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/target/release/scimd}")
bench=${BENCH:-$root/../shared/bench/bench.sh}
[ -x "$bin" ] || { echo "cost.sh: no scimd at $bin (cargo build --release)" >&2; exit 2; }
[ -x "$bench" ] || { echo "cost.sh: no bench.sh at $bench" >&2; exit 2; }
command -v node >/dev/null || { echo "cost.sh: node not found" >&2; exit 2; }
export N=${N:-2000} SMALL=${SMALL:-500} SECS=${SECS:-5} SMALL_SECS=${SMALL_SECS:-3} W6_ADDS=${W6_ADDS:-200}
rounds=${ROUNDS:-2}
data=$(mktemp -d /tmp/scimd-events-cost.XXXXXX); chmod 777 "$data"
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(freeport) rport=$(freeport)
out=$data/out.txt
pid= rpid=
stop() {
  for p in $pid $rpid; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pid= rpid=; return 0
}
trap 'stop; rm -rf "$data"' EXIT
export -n DATABASE_URL AUTH_SECRET 2>/dev/null || true
node -e '
let events = 0;
require("http").createServer((req, res) => {
  if (req.method === "GET") { res.end(String(events)); return; }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    try { events += JSON.parse(Buffer.concat(chunks)).events.length; } catch {}
    res.statusCode = 204; res.end();
  });
}).listen(Number(process.argv[1]), "127.0.0.1");' "$rport" & rpid=$!
plain=$(SCIMD_DATA_DIR=$data/db "$bin" token create --name plain --scope admin:scim 2>/dev/null | tail -1)
admin=$(SCIMD_DATA_DIR=$data/db "$bin" token create --name admin --scope all 2>/dev/null | tail -1)
SCIMD_DATA_DIR=$data/db SCIMD_LISTEN=127.0.0.1:$port SCIMD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 \
  "$bin" serve >"$data/log" 2>&1 & pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.2; done
api="http://127.0.0.1:$port/api/v1"
subscribe() {
  curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"format\":\"webhook\",\"url\":\"http://127.0.0.1:$rport/hook\"}" "$api/subscriptions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
field() { curl -fsS -H "Authorization: Bearer $admin" "$api/subscriptions/$1" | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
for r in $(seq 1 "$rounds"); do
  "$bench" "http://127.0.0.1:$port/scim/v2" "$plain" "without$r" | grep -E " W[14] " | tee -a "$out"
  sub=$(subscribe)
  "$bench" "http://127.0.0.1:$port/scim/v2" "$plain" "with$r" | grep -E " W[14] " | tee -a "$out"
  echo "with$r: subscription lag at the end of the run: $(field "$sub" '["delivery"]["lag"]') events, $(field "$sub" '["delivery"]["delivered"]') delivered" | tee -a "$out"
  curl -fsS -X DELETE -H "Authorization: Bearer $admin" "$api/subscriptions/$sub" >/dev/null
done
# Delivery throughput: everything written so far, replayed to one subscription.
sub=$(subscribe)
curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"paused": true}' \
  -X PATCH "$api/subscriptions/$sub" >/dev/null
curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"from_sequence": 1}' \
  "$api/subscriptions/$sub/replay" >/dev/null
backlog=$(field "$sub" '["delivery"]["lag"]')
before=$(curl -fsS "http://127.0.0.1:$rport/")
t0=$(date +%s.%N)
curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"paused": false}' \
  -X PATCH "$api/subscriptions/$sub" >/dev/null
while [ "$(field "$sub" '["delivery"]["lag"]')" != 0 ]; do sleep 0.2; done
t1=$(date +%s.%N)
after=$(curl -fsS "http://127.0.0.1:$rport/")
python3 -c "n=$after-$before; t=$t1-$t0; print(f'delivery: {n} events (backlog {$backlog}) in {t:.1f} s = {n/t:.0f} events/s to one subscription, batches of 100')" | tee -a "$out"
stop
python3 - "$out" <<'PY'
import re, statistics, sys
v = {}
for line in open(sys.argv[1]):
    m = re.match(r"(without|with)\d+ (W[14]) .*?rps=([\d.]+)", line)
    if m: v.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
print("\n| workload | without rps (median) | with one subscription (median) | with / without |\n|---|---|---|---|")
for w in ("W1", "W4"):
    a, b = v.get(("without", w)), v.get(("with", w))
    if a and b:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"| {w} | {ma:.0f} ({', '.join(f'{x:.0f}' for x in a)}) | {mb:.0f} ({', '.join(f'{x:.0f}' for x in b)}) | {mb / ma:.3f} |")
PY
