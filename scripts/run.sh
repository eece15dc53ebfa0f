#!/usr/bin/env bash
# Sets up and runs the gateway in sandbox mode on http://127.0.0.1:8080 with its embedded
# SQLite database under ./.stablegate (migrated on start). Extra arguments go to
# `stablegate serve`, e.g. `scripts/run.sh --port 9000 --data-dir /var/lib/stablegate`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
swift build -c release --product stablegate
exec .build/release/stablegate serve "$@"
