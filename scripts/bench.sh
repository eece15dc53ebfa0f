#!/usr/bin/env bash
# Measures signed status and create throughput and latency on SQLite and PostgreSQL.
#   scripts/bench.sh [DURATION_SECONDS] [CONNECTIONS] [WRK_THREADS]
# Environment: BENCH_BACKENDS (default "sqlite postgres"; "sqlite-full" and "sqlite-normal" pick
# SQLite's durability), BENCH_KINDS (default "status create"), BENCH_SIGNED_RESPONSES (1, the
# default, also runs each kind with response signing on; 0 does not), BENCH_PROFILE (1 samples
# StableGate with perf during each replay and prints where a request's CPU goes, by stage),
# BENCH_BINARY (a stablegate binary to measure instead of building this tree's: an earlier
# build, for a before/after side by side).
# Builds a release binary, starts it per backend on a fresh database with one merchant whose
# key allows unlimited rate, pre-signs requests (presign.py), replays them with wrk and prints
# one RESULT line per run plus the server's peak resident memory. Each kind runs twice: as
# stores are by default, then with the store's response signing on.
# Side by side, in the same run: the reference server of the same hot paths on the stack
# AllScale's own server uses (BENCH_REFERENCE, default ../shared/bench/starlette_reference.py;
# "none" skips it; its Python packages go into ./.venv) gets the same pre-signed load on the
# same backend, and the last lines print StableGate's throughput over the reference's.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
THREADS=${3:-1}
PORT=${STABLEGATE_BENCH_PORT:-18080}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
KINDS=${BENCH_KINDS:-status create}
SIGNED=${BENCH_SIGNED_RESPONSES:-1}
REFERENCE=${BENCH_REFERENCE:-../shared/bench/starlette_reference.py}
PROFILE=${BENCH_PROFILE:-0}
REF_PORT=$((PORT + 1))
# The reference routes only this spelling; StableGate takes both, so both get this one.
CREATE_PATH=/v1/checkout_intents/

scripts/bootstrap.sh bench
PG_BASE=$(scripts/setup-postgres.sh | tail -n 1)
if [ "$REFERENCE" != none ]; then
  [ -f "$REFERENCE" ] || { echo "no reference server at $REFERENCE (set BENCH_REFERENCE, or none)" >&2; exit 2; }
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/bench/reference-requirements.txt >&2
fi
if [ -n "${BENCH_BINARY:-}" ]; then
  BIN=$(realpath "$BENCH_BINARY")
else
  swift build -c release --product stablegate >&2
  BIN=.build/release/stablegate
fi
WORK=$(mktemp -d)
SERVER=""
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
RESULTS="$WORK/results.txt"

# Replays a pre-signed file against a server and prints "NAME LABEL <RESULT fields>". With
# BENCH_PROFILE=1, StableGate (not the reference) is sampled with perf during the replay and the
# per-request breakdown by stage follows (scripts/bench/profile-breakdown.py).
replay_file() {
  local name=$1 label=$2 port=$3 key=$4 file=$5 line sampler=""
  if [ "$PROFILE" = 1 ] && [ "${name#reference-}" = "$name" ]; then
    perf record -F 999 -g -p "$SERVER" -o "$WORK/$name-$label.perf" -- sleep "$DURATION" > /dev/null 2>&1 &
    sampler=$!
  fi
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -H "X-API-Key: $key" -s scripts/bench/replay.lua \
    "http://127.0.0.1:$port" -- "$file" "$THREADS" | grep '^RESULT')
  echo "$name $label ${line#RESULT }" | tee -a "$RESULTS"
  if [ -n "$sampler" ]; then
    wait "$sampler" || true
    local requests=${line#*requests=}
    echo "# where $name $label requests go (µs of server CPU per request):"
    python3 scripts/bench/profile-breakdown.py "$WORK/$name-$label.perf" "${requests%% *}"
  fi
}

# Creates one intent (to poll) through the server at PORT, writes COUNT pre-signed status reads
# of it and COUNT pre-signed creates to DIR/status.tsv and DIR/create.tsv, and prints its id.
prepare_loads() {
  local port=$1 key=$2 secret=$3 dir=$4 count=$5 ts nonce sig body intent
  python3 scripts/bench/presign.py create "$key" "$secret" - 1 "$CREATE_PATH" > "$dir/one.tsv"
  IFS=$'\t' read -r _ _ ts nonce sig body < "$dir/one.tsv"
  intent=$(curl -sf "http://127.0.0.1:$port$CREATE_PATH" -H "Content-Type: application/json" -H "X-API-Key: $key" \
    -H "X-Timestamp: $ts" -H "X-Nonce: $nonce" -H "X-Signature: $sig" -d "$body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["payload"]["allscale_checkout_intent_id"])')
  python3 scripts/bench/presign.py status "$key" "$secret" "$intent" "$count" > "$dir/status.tsv"
  python3 scripts/bench/presign.py create "$key" "$secret" - "$count" "$CREATE_PATH" > "$dir/create.tsv"
  echo "$intent"
}

# Prints the resident and peak memory of the running server, then stops it.
stop_server() {
  local name=$1 rss hwm
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
  echo "$name memory rss_mb=$(( rss / 1024 )) peak_rss_mb=$(( hwm / 1024 ))"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

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
  local intent count=$(( DURATION * 25000 ))
  intent=$(prepare_loads "$PORT" "$key" "$secret" "$dir" "$count")
  replay() { replay_file "$name" "$2" "$PORT" "$key" "$dir/$1.tsv"; }
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
      python3 scripts/bench/presign.py create "$key" "$secret" - "$count" "$CREATE_PATH" > "$dir/create.tsv"
    fi
    replay "$kind" "$kind-signed-responses"
    signing off
  done
  stop_server "$name"
}

# The reference server on the same backend, with the same kinds of pre-signed load.
run_reference() {
  local name=$1 url=$2
  local dir="$WORK/reference-$name-$RANDOM"; mkdir -p "$dir"
  local key="k_bench_$RANDOM" secret
  secret=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  BASELINE_DB="$url" BASELINE_KEY="$key" BASELINE_SECRET="$secret" .venv/bin/uvicorn starlette_reference:app \
    --app-dir "$(cd "$(dirname "$REFERENCE")" && pwd)" --host 127.0.0.1 --port "$REF_PORT" --loop uvloop --http httptools \
    --no-access-log --log-level warning > "$dir/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$REF_PORT/v1/test/ping" && break; sleep 0.1; done
  prepare_loads "$REF_PORT" "$key" "$secret" "$dir" $(( DURATION * 25000 )) > /dev/null
  for kind in $KINDS; do replay_file "reference-$name" "$kind" "$REF_PORT" "$key" "$dir/$kind.tsv"; done
  stop_server "reference-$name"
}

echo "# wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on $(nproc) cores"
run=0
for backend in $BACKENDS; do
  run=$((run + 1))
  case $backend in
    sqlite*)
      run_backend "$backend" "sqlite:$WORK/$backend-$run/bench.sqlite"
      if [ "$REFERENCE" != none ]; then
        mkdir -p "$WORK/reference-$run"
        run_reference "$backend" "sqlite:$WORK/reference-$run/reference.sqlite"
      fi ;;
    postgres)
      PG_DB="sgbench_$(date +%s)_$run"
      psql "$PG_BASE" -qc "CREATE DATABASE $PG_DB"
      run_backend postgres "${PG_BASE%/*}/$PG_DB"
      psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
      if [ "$REFERENCE" != none ]; then
        psql "$PG_BASE" -qc "CREATE DATABASE ${PG_DB}_reference"
        run_reference postgres "${PG_BASE%/*}/${PG_DB}_reference"
        psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS ${PG_DB}_reference WITH (FORCE)"
      fi ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
done

# StableGate's throughput over the reference's, per backend and kind (response signing off).
if [ "$REFERENCE" != none ]; then
  python3 - "$RESULTS" <<'PY'
import sys
rps, p99 = {}, {}
for line in open(sys.argv[1]):
    name, label, *fields = line.split()
    values = dict(field.split("=", 1) for field in fields)
    rps[(name, label)] = float(values["rps"])
    p99[(name, label)] = values["p99_ms"]
for (name, label), ours in sorted(rps.items()):
    theirs = rps.get(("reference-" + name, label))
    if name.startswith("reference-") or theirs is None:
        continue
    print(f"RATIO {name} {label} stablegate_rps={ours:.0f} reference_rps={theirs:.0f} ratio={ours / theirs:.2f}x"
          f" stablegate_p99_ms={p99[(name, label)]} reference_p99_ms={p99[('reference-' + name, label)]}")
PY
fi
