#!/usr/bin/env bash
# Measures the chain watcher's cost per block as the number of open intents grows:
#   scripts/bench-watcher.sh [TRANSFERS]
# Starts a sandbox chain, then for SQLite and PostgreSQL and for 1,000 and 100,000 open intents
# (each with a deposit address) sends TRANSFERS token transfers (default 200, one block each,
# half to open intents) and times the watcher pass that scans them and the one that confirms them.
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSFERS=${1:-200}
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
