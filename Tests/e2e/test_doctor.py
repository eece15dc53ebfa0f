"""`stablegate doctor` against real parts: the sandbox chain, a real SMTP server with STARTTLS
and AUTH (aiosmtpd), an HTTP FX provider and a merchant's webhook receiver served here, SQLite
and a private PostgreSQL cluster. It must be green on a healthy installation and name every
failure it claims to detect — what the operator reads: the status, the check's name, the exit
code, and the same in `--json`."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from eth_account import Account

from conftest import (BINARY, ROOT, FxRatesHandler, create_intent, free_port, random_address, select_deposit, serve_http, setup_merchant, show,
                      start_gateway, stop_http, wait_for)

SINK = ROOT / "tools" / "smtp-sink" / "smtp_sink.py"


def parse(text):
    """The text report as {name: (status, detail, action)}, in order, and its summary line."""
    checks, current, summary = {}, None, None
    for line in text.splitlines():
        if line.startswith("      → "):
            checks[current] = checks[current][:2] + (line[len("      → "):],)
        elif re.match(r"^(ok|warn|FAIL) ", line):
            status, rest = line[:5].strip(), line[6:]
            name, detail = re.split(r"\s{2,}", rest, maxsplit=1)
            current = name
            checks[name] = (status, detail, None)
        else:
            summary = line
    return checks, summary


def doctor(gateway, *args, env=None):
    """`stablegate doctor` with the gateway's database, data directory and environment."""
    if "--chains" not in args and "--chains" in gateway.args:
        args = (*args, "--chains", gateway.args[gateway.args.index("--chains") + 1])
    started = time.time()
    result = subprocess.run([str(BINARY), "doctor", "--database", gateway.database, "--data-dir", gateway.data_dir, *args],
                            capture_output=True, text=True, env=env or gateway.env, timeout=120)
    result.seconds = time.time() - started
    return result


def statuses(checks):
    return {name: status for name, (status, _, _) in checks.items()}


class Receiver(FxRatesHandler):
    """A merchant's webhook receiver answering `status[0]`; also the FX provider's rates."""
    status = [200]
    rates = {"EUR": "0.8528", "GBP": "0.7431"}

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status[0])
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def smtp_server(tmp_path):
    process = subprocess.Popen([sys.executable, str(SINK), "--maildir", str(tmp_path / "mail"), "--tls", "--auth", "gateway:mail-secret",
                                "--exit-with-parent"], stdout=subprocess.PIPE, text=True)
    ready = json.loads(process.stdout.readline())
    yield ready
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def installation(tmp_path, chain, smtp_server):
    """A running sandbox gateway on SQLite with the chain, SMTP, an HTTP FX provider and a store
    whose StableGate events URL has had one successful delivery."""
    chain.fee_wallet = random_address()
    receiver_port, fx_port = free_port(), free_port()
    Receiver.status[0] = 200
    receiver, fx = serve_http(receiver_port, Receiver), serve_http(fx_port, Receiver)
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, {
        "STABLEGATE_SMTP_HOST": "localhost", "STABLEGATE_SMTP_PORT": str(smtp_server["port"]),
        "STABLEGATE_SMTP_FROM": "payments@gateway.example", "STABLEGATE_SMTP_USERNAME": "gateway",
        "STABLEGATE_SMTP_PASSWORD": "mail-secret", "STABLEGATE_SMTP_CA_FILE": smtp_server["ca_file"],
        "STABLEGATE_FX_PROVIDER": "http", "STABLEGATE_FX_URL": f"http://127.0.0.1:{fx_port}/rates", "STABLEGATE_FX_MAX_AGE": "600",
        "STABLEGATE_WEBHOOKS_RETRY_DELAYS": "1",
    }).start()
    merchant = setup_merchant(gateway, random_address())
    gateway.cli("stores", "set", "--store", merchant["store_id"], "--events-url", f"http://127.0.0.1:{receiver_port}/hook")
    gateway.cli("webhooks", "test", "--store", merchant["store_id"])
    # The watcher has scanned both chains once the scan cursor exists: the doctor reads it.
    wait_for("both chains scanned", lambda: all(
        parse(doctor(gateway).stdout)[0].get(f"chain {c['chain_id']} scan", ("",))[0] == "ok" for c in chain.state["chains"]), seconds=60)
    yield gateway, merchant, fx
    gateway.stop()
    stop_http(receiver)
    stop_http(fx)


def test_doctor_is_green_on_a_healthy_installation_and_json_says_the_same(installation, chain):
    gateway, merchant, _ = installation
    result = doctor(gateway)
    checks, summary = parse(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(status == "ok" for status, _, _ in checks.values()), result.stdout
    expected = ["configuration", "database", "schema", "master key", "smtp", "fx", f"webhooks {merchant['store_id']} events"]
    for c in chain.state["chains"]:
        expected += [f"chain {c['chain_id']} rpc[0]", f"chain {c['chain_id']} tokens", f"chain {c['chain_id']} scan",
                     f"chain {c['chain_id']} hot wallet"]
    assert sorted(checks) == sorted(expected), result.stdout
    assert summary.startswith("healthy:") and "0 failed" in summary, summary
    assert "logged in" in checks["smtp"][1] and "STARTTLS" in checks["smtp"][1]
    assert "EUR" in checks["fx"][1] or "GBP" in checks["fx"][1], checks["fx"]
    assert "mail-secret" not in result.stdout and "mail-secret" not in result.stderr, "the SMTP password is never printed"

    report = json.loads(doctor(gateway, "--json").stdout)
    assert report["status"] == "ok" and report["failures"] == 0 and report["warnings"] == 0
    assert [c["name"] for c in report["checks"]] == list(checks), "the JSON lists the same checks in the same order"
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "action"} and check["status"] == "ok" and check["action"] is None, check


def test_doctor_names_a_wrong_smtp_password_a_dead_fx_provider_and_a_dead_rpc_endpoint(installation, chain, tmp_path):
    gateway, _, fx = installation

    env = dict(gateway.env, STABLEGATE_SMTP_PASSWORD="not-the-password")
    result = doctor(gateway, env=env)
    checks, summary = parse(result.stdout)
    assert result.returncode == 1, result.stdout
    assert checks["smtp"][0] == "FAIL" and "535" in checks["smtp"][1] and "smtp.password" in checks["smtp"][2], checks["smtp"]
    assert [n for n, s in statuses(checks).items() if s != "ok"] == ["smtp"], result.stdout
    assert summary.startswith("not healthy:") and "1 failed" in summary
    assert "not-the-password" not in result.stdout + result.stderr

    # One of a chain's two endpoints on a port where nothing listens, the other chain's second
    # endpoint accepting connections but never answering: each is named, the healthy ones too,
    # and the hanging one costs the timeout, not more.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    config = json.loads(Path(chain.chains_file).read_text())
    first, second = config["chains"][0], config["chains"][1]
    first["rpc_urls"] = [first.pop("rpc_url"), f"http://127.0.0.1:{dead_port}/v1/secret-api-key"]
    second["rpc_urls"] = [second.pop("rpc_url"), f"http://127.0.0.1:{hanging.getsockname()[1]}"]
    chains_file = tmp_path / "two-endpoints.json"
    chains_file.write_text(json.dumps(config))
    try:
        result = doctor(gateway, "--chains", str(chains_file), "--timeout", "3")
    finally:
        hanging.close()
    checks, _ = parse(result.stdout)
    assert result.returncode == 1, result.stdout
    one, two = first["chain_id"], second["chain_id"]
    assert {n: s for n, s in statuses(checks).items() if s != "ok"} == {f"chain {one} rpc[1]": "FAIL", f"chain {two} rpc[1]": "FAIL"}, \
        result.stdout
    assert f"127.0.0.1:{dead_port}" in checks[f"chain {one} rpc[1]"][1] and "1 of the chain's 2 endpoints answer" in checks[f"chain {one} rpc[1]"][1]
    assert "secret-api-key" not in result.stdout, "RPC URLs are shown without their path"
    assert "does not answer" in checks[f"chain {two} rpc[1]"][1], checks[f"chain {two} rpc[1]"]
    assert result.seconds < 20, f"a hanging endpoint held the doctor for {result.seconds:.1f} s"

    stop_http(fx)  # the FX provider goes down
    result = doctor(gateway, "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["status"] == "fail" and report["failures"] == 1, result.stdout
    failed = [c for c in report["checks"] if c["status"] != "ok"]
    assert [c["name"] for c in failed] == ["fx"] and "STABLEGATE_FX_URL" in failed[0]["action"], failed


def test_doctor_reports_webhook_events_that_gave_up(installation):
    gateway, merchant, _ = installation
    name = f"webhooks {merchant['store_id']} events"
    Receiver.status[0] = 500  # the merchant's receiver breaks
    result = gateway.cli("webhooks", "test", "--store", merchant["store_id"], check=False)
    assert result.returncode == 1
    # One retry after 1 s (webhooks.retry.delays=1) by the running gateway, then it gives up.
    checks = wait_for("the event to give up", lambda: (c := parse(doctor(gateway).stdout)[0])[name][0] == "FAIL" and c)
    status, detail, action = checks[name]
    assert "gave up" in detail and "HTTP 500" in detail, detail
    assert "stablegate webhooks redeliver evt_" in action, action
    report = json.loads(doctor(gateway, "--json").stdout)
    assert [c["name"] for c in report["checks"] if c["status"] != "ok"] == [name]


def send_native(chain, to, wei, account=1):
    key = chain.chain(0)["accounts"][account]["private_key"]
    sender = Account.from_key(key)
    tx = {"chainId": chain.chain(0)["chain_id"], "nonce": chain.nonce(sender.address), "to": to, "value": wei, "gas": 21_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "type": 2}
    return chain.rpc("eth_sendRawTransaction", ["0x" + Account.sign_transaction(tx, key).raw_transaction.hex()])


def test_doctor_fails_an_empty_hot_wallet_while_a_settlement_waits_and_clears_once_it_is_funded(tmp_path, chain):
    """A new hot key nobody funded: the payment confirms, its settlement cannot get gas."""
    chain.fee_wallet = random_address()
    hot = Account.create()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, {"STABLEGATE_WALLET_HOT_KEY": hot.key.hex()}).start()
    try:
        merchant = setup_merchant(gateway, random_address())
        intent_id = create_intent(gateway, merchant)
        chain.pay(select_deposit(gateway, intent_id, chain), 10_000_000)
        chain.mine(2)
        wait_for("a waiting settlement", lambda: (d := show(gateway, intent_id))["intent"]["status"] == 20 and d["settlements"])
        one, two = (c["chain_id"] for c in chain.state["chains"])
        result = doctor(gateway)
        checks, _ = parse(result.stdout)
        assert result.returncode == 1, result.stdout
        status, detail, action = checks[f"chain {one} hot wallet"]
        assert status == "FAIL" and hot.address in detail and "1 waiting settlement" in detail, checks[f"chain {one} hot wallet"]
        assert f"send" in action and hot.address in action
        # The other chain has nothing waiting: the same empty wallet only warns there.
        assert checks[f"chain {two} hot wallet"][0] == "warn", checks[f"chain {two} hot wallet"]

        send_native(chain, hot.address, 10**18)
        chain.mine(1)
        checks, _ = parse(doctor(gateway).stdout)
        assert checks[f"chain {one} hot wallet"][0] == "ok", checks[f"chain {one} hot wallet"]
    finally:
        gateway.stop()


def test_doctor_fails_when_postgresql_is_down(tmp_path):
    """A private PostgreSQL cluster (the shared one other tests use is never touched): migrated
    and green, then stopped."""
    if shutil.which("pg_ctlcluster") is None and not Path("/usr/lib/postgresql").exists():
        pytest.skip("PostgreSQL is not installed (scripts/bootstrap.sh test installs it)")
    version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])[-1]
    bin_dir = Path("/usr/lib/postgresql") / version / "bin"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    cluster = Path(tempfile.mkdtemp(prefix="sg-doctor-pg-"))
    data = cluster / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres")
    (cluster / "pw").write_text("doctor\n")
    if os.geteuid() == 0:
        shutil.chown(cluster / "pw", "postgres")

    def pg(*args):
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=120)

    def stop():
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)

    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "sgdoctor", "--auth=scram-sha-256", f"--pwfile={cluster / 'pw'}")
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(cluster / "log"),
           "-o", f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1", "start")
        url = f"postgres://sgdoctor:doctor@127.0.0.1:{port}/postgres"
        env = dict(os.environ)
        data_dir = tmp_path / "data"
        subprocess.run([str(BINARY), "migrate", "--database", url, "--data-dir", str(data_dir)], check=True, capture_output=True, env=env,
                       timeout=120)
        run = lambda: subprocess.run([str(BINARY), "doctor", "--database", url, "--data-dir", str(data_dir)], capture_output=True,
                                     text=True, env=env, timeout=120)
        result = run()
        checks, _ = parse(result.stdout)
        assert result.returncode == 0, result.stdout + result.stderr
        assert checks["database"][0] == "ok" and checks["schema"][0] == "ok", result.stdout

        stop()
        started = time.time()
        result = run()
        checks, _ = parse(result.stdout)
        assert result.returncode == 1, result.stdout
        status, detail, action = checks["database"]
        assert status == "FAIL" and f"127.0.0.1:{port}" in detail and "start PostgreSQL" in action, checks["database"]
        assert "doctor@" not in result.stdout, "the database password is masked"
        assert checks["master key"][0] == "warn" and "not checked" in checks["master key"][1], "what needs the database says so"
        assert time.time() - started < 30
    finally:
        stop()
        shutil.rmtree(cluster, ignore_errors=True)


def test_doctor_names_another_master_key_and_a_schema_behind_or_ahead_of_the_binary(tmp_path):
    import base64
    import sqlite3
    database, data_dir = tmp_path / "db.sqlite", tmp_path / "data"
    base = ["--database", f"sqlite:{database}", "--data-dir", str(data_dir)]
    run = lambda *args, env=None: subprocess.run([str(BINARY), "doctor", *base, *args], capture_output=True, text=True,
                                                 env=env or dict(os.environ), timeout=120)
    missing = run()
    assert missing.returncode == 1 and parse(missing.stdout)[0]["database"][0] == "FAIL", missing.stdout
    assert not database.exists(), "the doctor does not create the database it checks"
    subprocess.run([str(BINARY), "merchants", "create", "--name", "Doctor Shop", *base], check=True, capture_output=True, timeout=120)
    checks, _ = parse(run().stdout)
    assert checks["master key"][0] == "ok" and "api_keys 1" in checks["master key"][1], checks["master key"]

    other = dict(os.environ, STABLEGATE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode())
    result = run(env=other)
    checks, _ = parse(result.stdout)
    assert result.returncode == 1 and checks["master key"][0] == "FAIL", result.stdout
    assert "does not open with the configured key (STABLEGATE_MASTER_KEY, fingerprint " in checks["master key"][1]
    assert "--data-dir" in checks["master key"][2] and other["STABLEGATE_MASTER_KEY"] not in result.stdout

    with sqlite3.connect(database) as db:
        (latest,) = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (latest,))
    result = run()
    checks, _ = parse(result.stdout)
    assert result.returncode == 0 and checks["schema"][0] == "warn" and "stablegate migrate" in checks["schema"][2], result.stdout

    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'back', 0), (999, 'from a newer StableGate', 0)",
                   (latest,))
    result = run("--json")
    report = json.loads(result.stdout)
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert result.returncode == 1 and schema["status"] == "fail" and "newer than this binary" in schema["detail"], schema
