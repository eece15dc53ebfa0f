#!/usr/bin/env bash
# Measures signed status and create throughput and latency on SQLite and PostgreSQL.
#   scripts/bench.sh [DURATION_SECONDS] [CONNECTIONS] [WRK_THREADS]
# Environment: BENCH_BACKENDS (default "sqlite postgres"; "sqlite-full" and "sqlite-normal" pick
# SQLite's durability), BENCH_KINDS (default "status create"), BENCH_SIGNED_RESPONSES (1, the
# default, also runs each kind with response signing on; 0 does not).
# Builds a release binary, starts it per backend on a fresh database with one merchant whose
# key allows unlimited rate, pre-signs requests (presign.py), replays them with wrk and prints
# one RESULT line per run plus the server's peak resident memory. Each kind runs twice: as
# stores are by default, then with the store's response signing on.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
THREADS=${3:-1}
PORT=${STABLEGATE_BENCH_PORT:-18080}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
KINDS=${BENCH_KINDS:-status create}
SIGNED=${BENCH_SIGNED_RESPONSES:-1}

scripts/bootstrap.sh bench
PG_BASE=$(scripts/setup-postgres.sh | tail -n 1)
swift build -c release --product stablegate >&2
BIN=.build/release/stablegate
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

run_backend() {
  local name=$1 url=$2
  local dir="$WORK/$name-$RANDOM"; mkdir -p "$dir"
  local common=(--database "$url" --data-dir "$dir")
  local durability=${name#sqlite-}
  [ "$durability" = "$name" ] && durability=""
  STABLEGATE_DATABASE_SQLITE_SYNCHRONOUS=${durability:-full} $BIN serve "${common[@]}" --port "$PORT" --log-level warning > "$dir/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  local creds store key secret
  creds=$($BIN merchants create --name "Bench $name" --json "${common[@]}")
  store=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_id"])')
  local keyjson
  keyjson=$($BIN keys create --store "$store" --rate-limit 1000000000 --json "${common[@]}")
  key=$(echo "$keyjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  secret=$(echo "$keyjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_secret"])')
  # One intent to poll.
  python3 scripts/bench/presign.py create "$key" "$secret" - 1 > "$dir/one.tsv"
  IFS=$'\t' read -r _ _ ts nonce sig body < "$dir/one.tsv"
  local intent
  intent=$(curl -sf "http://127.0.0.1:$PORT/v1/checkout_intents" -H "Content-Type: application/json" -H "X-API-Key: $key" \
    -H "X-Timestamp: $ts" -H "X-Nonce: $nonce" -H "X-Signature: $sig" -d "$body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["payload"]["allscale_checkout_intent_id"])')
  local count=$(( DURATION * 25000 ))
  python3 scripts/bench/presign.py status "$key" "$secret" "$intent" "$count" > "$dir/status.tsv"
  python3 scripts/bench/presign.py create "$key" "$secret" - "$count" > "$dir/create.tsv"
  replay() {
    local kind=$1 label=$2 line
    line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -H "X-API-Key: $key" -s scripts/bench/replay.lua \
      "http://127.0.0.1:$PORT" -- "$dir/$kind.tsv" "$THREADS" | grep '^RESULT')
    echo "$name $label ${line#RESULT }"
  }
  # Each kind twice, side by side: as stores are by default, then with the store's response
  # signing on (docs/WIRE-CONTRACT.md §8). Fresh nonces for the second run, and a pause for the
  # API key cache (5 s) to pick the setting up; a signed answer is checked before measuring.
  signing() {
    $BIN stores set --store "$store" --signed-responses "$1" "${common[@]}" > /dev/null
    sleep 6
    python3 scripts/bench/presign.py status "$key" "$secret" "$intent" 1 > "$dir/check.tsv"
    IFS=$'\t' read -r _ path ts nonce sig _ < "$dir/check.tsv"
    local signed=off
    curl -sf -D - -o /dev/null "http://127.0.0.1:$PORT$path" -H "X-API-Key: $key" -H "X-Timestamp: $ts" -H "X-Nonce: $nonce" \
      -H "X-Signature: $sig" | grep -qi '^x-response-signature: v1=' && signed=on
    [ "$signed" = "$1" ] || { echo "response signing is $signed, expected $1" >&2; exit 1; }
  }
  for kind in $KINDS; do
    replay "$kind" "$kind"
    [ "$SIGNED" = 1 ] || continue
    signing on
    if [ "$kind" = status ]; then
      python3 scripts/bench/presign.py status "$key" "$secret" "$intent" "$count" > "$dir/status.tsv"
    else
      python3 scripts/bench/presign.py create "$key" "$secret" - "$count" > "$dir/create.tsv"
    fi
    replay "$kind" "$kind-signed-responses"
    signing off
  done
  local rss hwm
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
  echo "$name memory rss_mb=$(( rss / 1024 )) peak_rss_mb=$(( hwm / 1024 ))"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

echo "# wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on $(nproc) cores"
run=0
for backend in $BACKENDS; do
  run=$((run + 1))
  case $backend in
    sqlite*) run_backend "$backend" "sqlite:$WORK/$backend-$run/bench.sqlite" ;;
    postgres)
      PG_DB="sgbench_$(date +%s)_$run"
      psql "$PG_BASE" -qc "CREATE DATABASE $PG_DB"
      run_backend postgres "${PG_BASE%/*}/$PG_DB"
      psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
done
