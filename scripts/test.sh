#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, starts PostgreSQL on
# loopback, builds, runs the Swift suites (SQLite and PostgreSQL) and the end-to-end suite
# against the built binary (the vendor's Postman collection included).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

scripts/bootstrap.sh test
STABLEGATE_TEST_POSTGRES_URL=$(scripts/setup-postgres.sh | tail -n 1)
export STABLEGATE_TEST_POSTGRES_URL
# Suites that need the sandbox chain start their own, with this Python.
export STABLEGATE_TEST_PYTHON="$PWD/.venv/bin/python"

echo "== lint (swift-format, the .swift-format configuration)"
swift format lint --strict --parallel --recursive Sources Tests Examples Package.swift
echo "== build"
swift build --build-tests
echo "== swift test (SQLite and PostgreSQL, sandbox chain)"
# Line-buffered (a test binary writing to a pipe or file otherwise holds back its last 4 KiB,
# so a log cut short hides where it stopped), and bounded: the suites take about 2 minutes
# here; a run still going after 30 names the tests that started and never ended, and fails.
swift_test_log=$(mktemp)
if ! stdbuf -oL -eL timeout --kill-after=30 1800 swift test --skip-build 2>&1 | tee "$swift_test_log"; then
    .venv/bin/python scripts/unfinished-tests.py "$swift_test_log"
    exit 1
fi
rm -f "$swift_test_log"
echo "== end-to-end (built binary, real databases, vendor Postman collection)"
# Bounded the same way (about 14 minutes here): a test still running after 10 minutes gets every
# thread's stack printed, and the run is stopped after 40.
PYTHONUNBUFFERED=1 timeout --kill-after=30 2400 .venv/bin/python -m pytest -q -p no:cacheprovider -o faulthandler_timeout=600 Tests/e2e

echo "== all tests passed in $(( $(date +%s) - started )) s"
