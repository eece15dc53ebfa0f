#!/usr/bin/env bash
# Measures the chain watcher's cost per block as the number of open intents grows:
#   scripts/bench-watcher.sh [TRANSFERS]
# Starts a sandbox chain, then for SQLite and PostgreSQL and for 1,000 and 100,000 open intents
# (each with a deposit address) sends TRANSFERS token transfers (default 200, one block each,
# half to open intents) and times the watcher pass that scans them and the one that confirms them.
# Then, per backend, BURST orders (default 200) paid one after another while the watcher runs as
# `serve` does (200 ms polls), forwarding as it goes: each payment's detection delay, p50/p95/max.
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSFERS=${1:-200}
BURST=${BURST:-200}
scripts/bootstrap.sh bench
PG_BASE=$(scripts/setup-postgres.sh | tail -n 1)
swift build -c release --product stablegate >&2
BIN=.build/release/stablegate
WORK=$(mktemp -d)
PORT=${STABLEGATE_BENCH_CHAIN_PORT:-18645}
.venv/bin/python tools/sandbox-chain/sandbox_chain.py --port "$PORT" --chains-file "$WORK/chains.json" \
  --state-file "$WORK/state.json" --confirmations 2 > "$WORK/chain.log" 2>&1 &
CHAIN=$!
trap 'kill $CHAIN 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do [ -f "$WORK/state.json" ] && break; sleep 0.5; done
export STABLEGATE_WALLET_HOT_KEY=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["chains"][0]["accounts"][9]["private_key"])' "$WORK/state.json")
echo "# $TRANSFERS transfers (one block each), half to open intents; $(nproc) cores"
for backend in sqlite postgres; do
  for intents in 1000 100000; do
    dir="$WORK/$backend-$intents"; mkdir -p "$dir"
    if [ "$backend" = sqlite ]; then url="sqlite:$dir/bench.sqlite"; else
      db="sgwatch_$(date +%s%N)"; psql "$PG_BASE" -qc "CREATE DATABASE $db"; url="${PG_BASE%/*}/$db"; fi
    result=$($BIN bench-watcher --database "$url" --data-dir "$dir" --chains "$WORK/chains.json" --state-file "$WORK/state.json" \
      --intents "$intents" --transfers "$TRANSFERS" --log-level error)
    echo "$backend $result"
    [ "$backend" = postgres ] && psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  done
done
echo "# $BURST orders paid in a burst while the watcher detects and forwards (poll 200 ms)"
for backend in sqlite postgres; do
  dir="$WORK/$backend-burst"; mkdir -p "$dir"
  if [ "$backend" = sqlite ]; then url="sqlite:$dir/bench.sqlite"; else
    db="sgburst_$(date +%s%N)"; psql "$PG_BASE" -qc "CREATE DATABASE $db"; url="${PG_BASE%/*}/$db"; fi
  result=$($BIN bench-watcher --database "$url" --data-dir "$dir" --chains "$WORK/chains.json" --state-file "$WORK/state.json" \
    --burst "$BURST" --poll-ms 200 --log-level error)
  echo "$backend $result"
  [ "$backend" = postgres ] && psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
