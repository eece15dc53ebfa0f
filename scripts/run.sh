#!/usr/bin/env bash
# Sets up and runs StableGate in sandbox mode: the sandbox chains (real EVMs, py-evm) on
# 127.0.0.1:8545–8546 and the gateway on http://127.0.0.1:8080 with its embedded SQLite
# database under ./.stablegate (migrated on start). Extra arguments go to `stablegate serve`,
# e.g. `scripts/run.sh --port 9000`. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${STABLEGATE_DATA_DIR:-.stablegate}
CHAIN_PORT=${STABLEGATE_SANDBOX_CHAIN_PORT:-8545}

scripts/bootstrap.sh run
swift build -c release --product stablegate
mkdir -p "$DATA_DIR"

# A fresh sandbox chain each run (it lives in memory); the gateway rescans from its new head.
rm -f "$DATA_DIR/sandbox-state.json"
.venv/bin/python tools/sandbox-chain/sandbox_chain.py --port "$CHAIN_PORT" \
  --chains-file "$DATA_DIR/sandbox-chains.json" --state-file "$DATA_DIR/sandbox-state.json" --confirmations 3 --poll-interval-ms 1000 &
CHAIN_PID=$!
trap 'kill $CHAIN_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  [ -f "$DATA_DIR/sandbox-state.json" ] && break
  kill -0 $CHAIN_PID 2>/dev/null || { echo "the sandbox chain failed to start" >&2; exit 1; }
  sleep 0.5
done

# The sandbox hot wallet (gas for forwarding) is the chain's funded test account 9; its key is
# a well-known test key, fine for the sandbox and never for production.
export STABLEGATE_WALLET_HOT_KEY=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["chains"][0]["accounts"][9]["private_key"])' "$DATA_DIR/sandbox-state.json")
.build/release/stablegate serve --data-dir "$DATA_DIR" --chains "$DATA_DIR/sandbox-chains.json" "$@"
