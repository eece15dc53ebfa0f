#!/usr/bin/env bash
# Measures the dashboard at scale on SQLite and PostgreSQL:
#   scripts/bench-export.sh [ORDERS]        (default 100000)
# Builds a release binary; per backend loads ORDERS finished orders into one store, starts the
# gateway, logs in through the real setup and login forms, then times (curl, end to end) the
# first orders page, a page 100 orders from the oldest (keyset), a status-filtered page, a
# transaction-hash search, and the streamed CSV export of every order. The server's peak
# resident memory during the export is read from /proc (VmHWM, reset just before it).
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS=${1:-100000}
PORT=${STABLEGATE_BENCH_PORT:-18090}
BASE="http://127.0.0.1:$PORT"
PASSWORD="bench password 1234"

scripts/bootstrap.sh bench
PG_BASE=$(scripts/setup-postgres.sh | tail -n 1)
swift build -c release --product stablegate >&2
BIN=.build/release/stablegate
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
csrf() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | sed -n 1p; }
millis() { curl -s -o /dev/null -b "$JAR" -w '%{time_total}' "$BASE$1" | python3 -c 'import sys; print(round(float(sys.stdin.read()) * 1000, 1))'; }
kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$SERVER/status"; }

echo "# $ORDERS orders per store; $(nproc) cores; times are curl end to end, best of 3 for pages"
for backend in sqlite postgres; do
  dir="$WORK/$backend"; mkdir -p "$dir"
  if [ "$backend" = sqlite ]; then url="sqlite:$dir/bench.sqlite"; else
    db="sgexport_$(date +%s%N)"; psql "$PG_BASE" -qc "CREATE DATABASE $db"; url="${PG_BASE%/*}/$db"; fi
  # Loading is not what is measured: SQLite syncs at checkpoints only while it loads.
  seed=$(STABLEGATE_DATABASE_SQLITE_SYNCHRONOUS=normal $BIN bench-seed-orders --database "$url" --data-dir "$dir" --orders "$ORDERS" --email bench@example.test --log-level error)
  token=$(echo "$seed" | field setup_url | sed 's/.*token=//')
  $BIN serve --database "$url" --data-dir "$dir" --port "$PORT" --log-level warning > "$dir/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  JAR="$dir/cookies"
  form=$(curl -s -c "$JAR" -b "$JAR" "$BASE/dashboard/setup?token=$token" | csrf)
  curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$form" --data-urlencode "token=$token" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "password2=$PASSWORD" "$BASE/dashboard/setup"
  form=$(curl -s -c "$JAR" -b "$JAR" "$BASE/dashboard/login" | csrf)
  curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$form" --data-urlencode "email=bench@example.test" \
    --data-urlencode "password=$PASSWORD" "$BASE/dashboard/login"
  page=$(curl -s -b "$JAR" "$BASE/dashboard/orders")
  [[ "$page" == *'id="totals"'* ]] || { echo "login failed"; cat "$dir/serve.log"; exit 1; }

  best() { local best=; for _ in 1 2 3; do t=$(millis "$1"); best=$(python3 -c "print(min(float('$t'), float('${best:-1e9}')))"); done; echo "$best"; }
  first=$(best "/dashboard/orders")
  deep=$(best "/dashboard/orders?after=$(echo "$seed" | field deep_cursor)")
  status=$(best "/dashboard/orders?status=20")
  search=$(best "/dashboard/orders?q=$(echo "$seed" | field sample_tx_hash)")

  echo 5 > "/proc/$SERVER/clear_refs"  # resets VmHWM to the current RSS
  before=$(kib VmRSS)
  export_s=$(curl -s -b "$JAR" -o "$dir/orders.csv" -w '%{time_total}' "$BASE/dashboard/orders.csv")
  peak=$(kib VmHWM)
  rows=$(( $(wc -l < "$dir/orders.csv") - 1 ))
  bytes=$(stat -c %s "$dir/orders.csv")
  echo "$backend orders=$ORDERS load_s=$(echo "$seed" | field load_seconds) page1_ms=$first deep_page_ms=$deep status_page_ms=$status" \
    "search_ms=$search csv_rows=$rows csv_mb=$(( bytes / 1048576 )) csv_s=$export_s rss_before_mb=$(( before / 1024 )) peak_rss_mb=$(( peak / 1024 ))"
  [ "$rows" = "$ORDERS" ] || { echo "the export has $rows rows, expected $ORDERS"; exit 1; }
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  [ "$backend" = postgres ] && psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
