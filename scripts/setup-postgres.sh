#!/usr/bin/env bash
# Installs PostgreSQL from Debian if missing, starts a cluster on loopback and creates the
# role and database the tests use. Idempotent. Prints the URL to use as its last line.
set -euo pipefail

ROLE=${STABLEGATE_PG_ROLE:-stablegate}
PASSWORD=${STABLEGATE_PG_PASSWORD:-stablegate}
DATABASE=${STABLEGATE_PG_DATABASE:-stablegate}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian packages…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

cluster=$(pg_lsclusters --no-header | head -n 1 || true)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >&2
  cluster=$(pg_lsclusters --no-header | head -n 1)
fi
version=$(echo "$cluster" | awk '{print $1}')
name=$(echo "$cluster" | awk '{print $2}')
port=$(echo "$cluster" | awk '{print $3}')
if ! echo "$cluster" | grep -q online; then
  pg_ctlcluster "$version" "$name" start >&2
fi

run_psql() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtA $*"; }
for _ in $(seq 1 30); do
  if run_psql "-c 'SELECT 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done
if [ "$(run_psql "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"")" != "1" ]; then
  run_psql "-c \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >&2
fi
if [ "$(run_psql "-c \"SELECT 1 FROM pg_database WHERE datname = '$DATABASE'\"")" != "1" ]; then
  run_psql "-c \"CREATE DATABASE $DATABASE OWNER $ROLE\"" >&2
fi
# The Swift suites run in parallel, each gateway with a pool of up to 20 connections: the
# default of 100 runs out ("remaining connection slots are reserved"), and a request then waits
# for a connection until its client times out. Raised once; the restart applies it.
if [ "$(run_psql "-c 'SHOW max_connections'")" -lt 500 ]; then
  run_psql "-c 'ALTER SYSTEM SET max_connections = 500'" >&2
  pg_ctlcluster "$version" "$name" restart >&2
  for _ in $(seq 1 30); do
    if run_psql "-c 'SELECT 1'" >/dev/null 2>&1; then break; fi
    sleep 1
  done
fi
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
