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
swift test --skip-build
echo "== end-to-end (built binary, real databases, vendor Postman collection)"
.venv/bin/python -m pytest -q -p no:cacheprovider Tests/e2e

echo "== all tests passed in $(( $(date +%s) - started )) s"
