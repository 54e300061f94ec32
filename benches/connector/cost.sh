#!/usr/bin/env bash
# benches/connector/cost.sh [SCIMD_BIN] — what a connector's token costs over a plain one.
# A connector's requests also go through its rate-limit check (no limit set here: one map
# lookup), its profile, its ownership check and the request log (each request's bodies
# captured and queued; masked and written in batches by another thread). Issue 17 asks
# that W1 (POST /Users) and W2 (GET /Users/{id}) with a connector token stay within 10 %
# of the same workloads with a plain token, in the same run.
#
# Starts SCIMD_BIN (default ./target/release/scimd) on a fresh embedded data directory,
# mints a plain admin:scim token and a connector (`scimd connector create`), and runs
# ../shared/bench/bench.sh with each, alternating plain/connector ROUNDS times (default 2),
# so drift hits both alike. Prints W1 and W2 rps per run and the connector/plain ratios of
# their medians. Env: N (default 2000), SMALL (500), SECS (5), ROUNDS (2), BENCH (path to
# bench.sh). Needs wrk and python3, like ratios.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/target/release/scimd}")
bench=${BENCH:-$root/../shared/bench/bench.sh}
[ -x "$bin" ] || { echo "cost.sh: no scimd at $bin (cargo build --release)" >&2; exit 2; }
[ -x "$bench" ] || { echo "cost.sh: no bench.sh at $bench" >&2; exit 2; }
export N=${N:-2000} SMALL=${SMALL:-500} SECS=${SECS:-5} SMALL_SECS=${SMALL_SECS:-3} W6_ADDS=${W6_ADDS:-200}
rounds=${ROUNDS:-2}
data=$(mktemp -d /tmp/scimd-connector-cost.XXXXXX); chmod 777 "$data"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
out=$data/out.txt
pid=
stop() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; pid=; return 0; }
trap 'stop; rm -rf "$data"' EXIT
export -n DATABASE_URL AUTH_SECRET 2>/dev/null || true
plain=$(SCIMD_DATA_DIR=$data/db "$bin" token create --name plain --scope admin:scim 2>/dev/null | tail -1)
conn=$(SCIMD_DATA_DIR=$data/db "$bin" connector create bench --kind generic 2>/dev/null | tail -1)
admin=$(SCIMD_DATA_DIR=$data/db "$bin" token create --name admin --scope all 2>/dev/null | tail -1)
SCIMD_DATA_DIR=$data/db SCIMD_LISTEN=127.0.0.1:$port "$bin" serve >"$data/log" 2>&1 & pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.2; done
for r in $(seq 1 "$rounds"); do
  "$bench" "http://127.0.0.1:$port/scim/v2" "$plain" "plain$r" | grep -E " W[12] " | tee -a "$out"
  "$bench" "http://127.0.0.1:$port/scim/v2" "$conn" "connector$r" | grep -E " W[12] " | tee -a "$out"
done
# Where the connector's extra work went: the request-log writer thread's CPU
# (masking and COPY), against the requests it logged.
ticks=0
for t in /proc/$pid/task/*; do
  [ "$(cat "$t/comm" 2>/dev/null)" = request-log ] && ticks=$(awk '{print $14 + $15}' "$t/stat")
done
logged=$(curl -fsS -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/api/v1/connectors" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["activity"]["requests_last_hour"])')
hz=$(getconf CLK_TCK)
python3 -c "t=$ticks/$hz; n=$logged; print(f'request-log writer: {t:.2f} CPU s for {n} logged requests = {1e6*t/max(n,1):.1f} us each')" | tee -a "$out"
stop
python3 - "$out" <<'PY'
import re, statistics, sys
v = {}
for line in open(sys.argv[1]):
    m = re.match(r"(plain|connector)\d+ (W[12]) .*?rps=([\d.]+)", line)
    if m: v.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
print(open(sys.argv[1]).read().splitlines()[-1])
print("\n| workload | plain rps (median) | connector rps (median) | connector / plain |\n|---|---|---|---|")
for w in ("W1", "W2"):
    p, c = v.get(("plain", w)), v.get(("connector", w))
    if p and c:
        mp, mc = statistics.median(p), statistics.median(c)
        print(f"| {w} | {mp:.0f} ({', '.join(f'{x:.0f}' for x in p)}) | {mc:.0f} ({', '.join(f'{x:.0f}' for x in c)}) | {mc / mp:.3f} |")
PY
