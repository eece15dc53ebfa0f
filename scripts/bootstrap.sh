#!/usr/bin/env bash
# Installs what StableGate needs on a fresh Debian machine, idempotently:
#   bootstrap.sh run    — what `scripts/run.sh` needs: libsecp256k1, libqrencode, libcrypt (bcrypt) and the sandbox chain's venv
#   bootstrap.sh test   — plus PostgreSQL, node's chai, Chromium with its driver, zbar (QR decoding),
#                         a CJK font for screenshots, systemd-analyze (checks deploy/*.service)
#                         and the test tools in the venv
#   bootstrap.sh bench  — plus wrk, curl and PostgreSQL (and perf with BENCH_PROFILE=1)
# Debian packages come from apt-get (only when one is missing); Python tools go into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}

packages=()
need() { for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || packages+=("$p"); done; }
need libsecp256k1-dev libqrencode-dev libcrypt-dev pkg-config

case "$purpose" in
  run) ;;
  # openssl: the SMTP sink's test CA; systemd: `systemd-analyze verify` of the service units.
  test) need postgresql postgresql-client chai chromium chromium-driver zbar-tools fonts-wqy-microhei openssl systemd ;;
  # linux-perf only for BENCH_PROFILE=1 (scripts/bench.sh samples the server with perf).
  bench) need postgresql postgresql-client wrk curl; if [ "${BENCH_PROFILE:-0}" = 1 ]; then need linux-perf; fi ;;
  *) echo "usage: bootstrap.sh run|test|bench" >&2; exit 2 ;;
esac
command -v node >/dev/null 2>&1 || need nodejs
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need python3-venv

if [ ${#packages[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${packages[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "bootstrap: the Swift 6 toolchain must be on PATH (swift build)" >&2
  exit 1
fi

# One venv for the sandbox chain (py-evm, web3, vyper) and the test tools (pytest).
requirements=(tools/sandbox-chain/requirements.txt Tests/e2e/requirements.txt)
stamp=.venv/.requirements.sha256
want=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: preparing .venv with $(python3 --version)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check $(printf -- '-r %s ' "${requirements[@]}")
  echo "$want" > "$stamp"
fi
