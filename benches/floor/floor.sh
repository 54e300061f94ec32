#!/usr/bin/env bash
# benches/floor/floor.sh — the highest GET ratio this stack can reach on this machine.
# Builds examples/floor.rs (actix-web + r2d2 + diesel + web::block, configured as scimd,
# one prepared primary-key read a request, no auth or SCIM work), then in one run on a
# throwaway cluster: pgbench -S (TCP, as ../shared/bench/limits.sh runs it), the floor
# server under wrk (16 connections, 2 threads, Unix socket to PostgreSQL as scimd's
# embedded cluster), pgbench -S again. Prints rps, tps, and floor / mean(pgbench -S):
# scimd's W2 ratio (same denominator) cannot exceed it. Needs root, wrk, PostgreSQL.
# SECS (default 10) per measurement; RUNS (default 3) repeats the whole sequence.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-10} RUNS=${RUNS:-3} PGPORT=${PGPORT:-25433}
B=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
cargo build --release --example floor -q
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')/release/examples/floor
d=$(mktemp -d /tmp/floor.XXXXXX); chown postgres "$d"
fpid=
cleanup() {
  [ -n "$fpid" ] && kill "$fpid" 2>/dev/null || true
  runuser -u postgres -- "$B/pg_ctl" -D "$d/data" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$d"
}
trap cleanup EXIT
runuser -u postgres -- "$B/initdb" -D "$d/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -w -l "$d/log" \
  -o "-p $PGPORT -k $d -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
"$B/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s 10 -q postgres >/dev/null 2>&1
pgb() { (cd /tmp && "$B/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -c 16 -j 2 -T "$SECS" -S postgres 2>&1) | awk '/^tps/ {printf "%.1f", $3; exit}'; }
FLOOR_URL="host=$d port=$PGPORT user=postgres dbname=postgres" FLOOR_PORT=18091 "$bin" & fpid=$!
for _ in $(seq 1 50); do curl -fsS -o /dev/null http://127.0.0.1:18091/scim/v2/Users/1 && break; sleep 0.2; done
for run in $(seq 1 "$RUNS"); do
  a=$(pgb); sleep 1
  f=$(wrk -t2 -c16 -d"${SECS}s" --latency -s benches/floor/get.lua http://127.0.0.1:18091 | sed -n 's/^RESULT rps=\([0-9.]*\).*/\1/p'); sleep 1
  b=$(pgb); sleep 1
  python3 -c "a,b,f=$a,$b,$f; print(f'floor run $run: floor_rps={f} pgbench_S_tps={a} / {b} ratio={f / ((a + b) / 2):.3f}')"
done
echo "floor VmHWM_kB=$(awk '/VmHWM/{print $2}' /proc/$fpid/status)"
