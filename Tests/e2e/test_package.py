"""The release package (scripts/package.sh) as an operator installs it: unpacked into an empty
directory, run with no Swift toolchain on PATH, configured for production through the
environment alone (https public URL, master key, an HTTP FX provider, PostgreSQL, a chains file
with its seed, hot key and fee wallet), and taking a payment on the package's own sandbox chain.

It needs a built package — a release build, 10–15 minutes — so it runs only when told where
one is:
    scripts/package.sh
    STABLEGATE_TEST_PACKAGE=dist/stablegate-<version>-linux-<arch>.tar.gz .venv/bin/python -m pytest -q Tests/e2e/test_package.py
"""
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

import conftest
from conftest import POSTGRES_URL, SandboxChain, create_intent, free_port, random_address, select_deposit, serve_http, settled, show, \
    stop_http, wait_for

PACKAGE = os.environ.get("STABLEGATE_TEST_PACKAGE")
pytestmark = pytest.mark.skipif(
    not PACKAGE, reason="set STABLEGATE_TEST_PACKAGE to a tarball built by scripts/package.sh (a release build)")

# What the server has: the system's tools, no Swift toolchain.
SYSTEM_PATH = "/usr/bin:/bin"


class Installed(conftest.Gateway):
    """The unpacked gateway, run the way the systemd unit runs it: settings from the
    environment only, its own working directory, `bin/stablegate serve`."""

    def __init__(self, home, settings, workdir):
        self.home = home
        self.binary = home / "bin" / "stablegate"
        self.port = int(settings["STABLEGATE_HTTP_PORT"])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {"PATH": SYSTEM_PATH, "HOME": str(workdir), **settings}
        self.args = ["serve"]
        self.cwd = workdir
        self.log_path = workdir / f"serve-{time.time_ns()}.log"
        self.process = None

    def cli(self, *args, check=True):
        result = subprocess.run([str(self.binary), *args], env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"stablegate {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def health(self):
        with urllib.request.urlopen(self.base_url + "/healthz", timeout=10) as reply:
            return json.loads(reply.read())


def unpack(tarball, into):
    """Checks the tarball against its .sha256 file and unpacks it into the empty `into`."""
    tarball = Path(tarball).resolve()
    checksum_file = Path(str(tarball) + ".sha256")
    assert checksum_file.exists(), f"no {checksum_file.name} beside the package"
    expected, name = checksum_file.read_text().split()
    assert name == tarball.name
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == expected
    into.mkdir()
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="tar")
    (top,) = list(into.iterdir())
    assert tarball.name == top.name + ".tar.gz"
    return top


@pytest.mark.skipif(not POSTGRES_URL, reason="STABLEGATE_TEST_POSTGRES_URL is not set (scripts/setup-postgres.sh)")
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_the_package_runs_production_without_a_toolchain(database, tmp_path, monkeypatch):
    assert shutil.which("swift", path=SYSTEM_PATH) is None, "swift is on the system PATH: the test would prove nothing"
    home = unpack(PACKAGE, tmp_path / "install")
    version = re.fullmatch(r"stablegate-(.+)-linux-[a-z0-9_]+", home.name).group(1)
    for path in ["bin/stablegate", "README.md", "deploy/stablegate.service", "deploy/stablegate-sandbox-chain.service",
                 "deploy/stablegate.env.example", "deploy/Caddyfile", "deploy/nginx.conf", "tools/sandbox-chain/sandbox_chain.py",
                 "tools/sandbox-chain/requirements.txt", "docs/ARCHITECTURE.md"]:
        assert (home / path).is_file(), path

    # Every shared library from the system, none from a Swift toolchain.
    libraries = subprocess.run(["ldd", str(home / "bin" / "stablegate")], capture_output=True, text=True, check=True).stdout
    assert not re.search(r"libswift|libFoundation|not found", libraries), libraries

    # The resources are read from beside the binary (Bundle.module), not from the build
    # directory it was made in: this copy of the OpenAPI document, and only it, ends in a marker.
    document = home / "bin" / "StableGate_StableGateApp.resources" / "Resources" / "openapi.json"
    marked = document.read_bytes() + b"\n\n"
    document.write_bytes(marked)

    workdir = tmp_path / "work"
    workdir.mkdir()
    reported = subprocess.run([str(home / "bin" / "stablegate"), "--version"], env={"PATH": SYSTEM_PATH}, cwd=workdir,
                              capture_output=True, text=True, check=True).stdout.strip()
    match = re.fullmatch(r"stablegate (\S+) \(commit ([0-9a-f]{7,40}(?:-dirty)?)\)", reported)
    assert match and match.group(1) == version, reported
    commit = match.group(2)

    # The package's own sandbox chain, run with a Python that has its requirements.
    monkeypatch.setattr(conftest, "CHAIN_SCRIPT", home / "tools" / "sandbox-chain" / "sandbox_chain.py")
    chain = SandboxChain(tmp_path / "chain")
    rates_port = free_port()
    rates = serve_http(rates_port, conftest.FxRatesHandler)
    gateway = None
    restored_name = "sgpkg_" + secrets.token_hex(8)
    try:
        settings = {
            "STABLEGATE_MODE": "production",
            "STABLEGATE_HTTP_PORT": str(free_port()),
            "STABLEGATE_PUBLIC_URL": "https://pay.example.test",
            "STABLEGATE_TRUSTED_PROXIES": "127.0.0.1/32",
            "STABLEGATE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "STABLEGATE_FX_PROVIDER": "http",
            "STABLEGATE_FX_URL": f"http://127.0.0.1:{rates_port}/latest",
            "STABLEGATE_DATABASE_URL": database,
            "STABLEGATE_DATA_DIR": str(tmp_path / "data"),
            "STABLEGATE_CHAINS_FILE": str(chain.chains_file),
            "STABLEGATE_WALLET_SEED": secrets.token_hex(32),
            # The chain's funded test account 9 pays the deposit wallets' gas.
            "STABLEGATE_WALLET_HOT_KEY": chain.chain(0)["accounts"][9]["private_key"],
            "STABLEGATE_WALLET_FEE_ADDRESS": random_address(),
            "STABLEGATE_API_KEY_CACHE_TTL": "0",
        }
        gateway = Installed(home, settings, workdir).start()
        assert gateway.health() == {"status": "ok", "version": version, "commit": commit}
        with urllib.request.urlopen(gateway.base_url + "/openapi.json", timeout=10) as reply:
            assert reply.read() == marked

        # The operator's health check, from the package, against the running installation.
        assert_doctor_green(gateway)

        wallet = random_address()
        merchant = json.loads(gateway.cli("merchants", "create", "--name", "Packaged Shop", "--wallet", wallet, "--json").stdout)
        intent_id = create_intent(gateway, merchant, 2500)
        deposit = select_deposit(gateway, intent_id, chain)
        chain.pay(deposit, 25_000_000)
        chain.mine(2)
        data = wait_for("CONFIRMED and settled", settled(gateway, intent_id), seconds=90)
        assert data["intent"]["actual_paid_amount"] == "25.00"
        assert data["intent"]["net_income_amount"] == "24.75"
        assert chain.balance(wallet) == 24_750_000

        # Back up while it runs, the README's PostgreSQL procedure, with the system's tools.
        dump = tmp_path / "stablegate.dump"
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), database], env={"PATH": SYSTEM_PATH}, check=True,
                       capture_output=True, timeout=120)
        gateway.stop()

        # Restore into an empty database and a new data directory; the configured key opens it.
        restored = POSTGRES_URL.rsplit("/", 1)[0] + "/" + restored_name
        conftest.psql(POSTGRES_URL, f"CREATE DATABASE {restored_name}")
        role = POSTGRES_URL.split("://", 1)[1].split(":", 1)[0]
        subprocess.run(["pg_restore", "--no-owner", f"--role={role}", "--exit-on-error", "-d", restored, str(dump)],
                       env={"PATH": SYSTEM_PATH}, check=True, capture_output=True, timeout=120)
        settings["STABLEGATE_DATABASE_URL"] = restored
        settings["STABLEGATE_DATA_DIR"] = str(tmp_path / "data-restored")
        gateway = Installed(home, settings, workdir)
        verified = gateway.cli("keys", "verify-master")
        assert verified.returncode == 0, verified.stdout

        # Started again from the restore: the payment is there, as it was, and all is green.
        gateway.start()
        assert_doctor_green(gateway)
        again = show(gateway, intent_id)["intent"]
        assert again["status"] == 20 and again["settlement_status"] == "settled"
        assert (again["actual_paid_amount"], again["net_income_amount"]) == ("25.00", "24.75")
        assert again["tx_hash"] == data["intent"]["tx_hash"]
    finally:
        if gateway:
            gateway.stop()
        stop_http(rates)
        chain.stop()
        subprocess.run(["psql", POSTGRES_URL, "-qc", f"DROP DATABASE IF EXISTS {restored_name} WITH (FORCE)"], capture_output=True,
                       timeout=60)


def assert_doctor_green(gateway):
    """`stablegate doctor` from the package passes every check, in text and in JSON."""
    report = gateway.cli("doctor", check=False)
    assert report.returncode == 0, report.stdout + report.stderr
    document = json.loads(gateway.cli("doctor", "--json").stdout)
    assert document["status"] == "ok" and document["failures"] == 0, document
    names = [check["name"] for check in document["checks"]]
    for name in ["configuration", "database", "schema", "master key", "fx"]:
        assert name in names, names
    assert any(name.endswith("hot wallet") for name in names) and any(" rpc[" in name for name in names), names
