"""The `stablegate` command line against real databases."""
import json
import re
import os
import sqlite3
import subprocess
import time
import urllib.request

import pytest

from conftest import BINARY, Gateway, backends, free_port, run_cli, signed_request


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_merchant_onboarding_and_key_management(database, tmp_path):
    common = ["--database", database, "--data-dir", str(tmp_path)]
    created = json.loads(run_cli("merchants", "create", "--name", "Acme Coffee", "--wallet",
                                 "0x52908400098527886E0F7030069857D2E4169EE7", "--json", *common).stdout)
    assert list(created) == ["merchant_id", "store_id", "api_key", "api_secret"]
    assert created["api_key"].startswith("sgk_") and created["api_secret"].startswith("sgs_")

    extra = json.loads(run_cli("keys", "create", "--store", created["store_id"], "--allow-ip", "10.0.0.0/8",
                               "--allow-ip", "2001:db8::/32", "--rate-limit", "30", "--json", *common).stdout)
    assert extra["rate_limit_per_minute"] == "30"
    assert extra["allowed_ips"] == "10.0.0.0/8,2001:db8::/32"

    listed = [json.loads(line) for line in run_cli("keys", "list", "--store", created["store_id"], "--json", *common).stdout.splitlines()]
    assert {k["api_key"] for k in listed} == {created["api_key"], extra["api_key"]}
    assert all(k["status"] == "active" for k in listed)
    assert all("secret" not in json.dumps(k) or k.get("api_secret") is None for k in listed)
    assert created["api_secret"] not in json.dumps(listed)

    assert run_cli("keys", "revoke", extra["api_key"], *common).stdout.strip() == f"revoked {extra['api_key']}"
    listed = {json.loads(l)["api_key"]: json.loads(l) for l in run_cli("keys", "list", "--store", created["store_id"], "--json", *common).stdout.splitlines()}
    assert listed[extra["api_key"]]["status"] == "revoked"

    missing = run_cli("keys", "revoke", "sgk_nope", *common, check=False)
    assert missing.returncode != 0 and "no API key sgk_nope" in missing.stderr
    bad_ip = run_cli("keys", "create", "--store", created["store_id"], "--allow-ip", "10.0.0.1/8", *common, check=False)
    assert bad_ip.returncode != 0 and "not an IPv4/IPv6 address or CIDR range" in bad_ip.stderr
    bad_store = run_cli("keys", "create", "--store", "nope", *common, check=False)
    assert bad_store.returncode != 0 and "no store with id nope" in bad_store.stderr
    bad_wallet = run_cli("merchants", "create", "--name", "X", "--wallet", "0x123", *common, check=False)
    assert bad_wallet.returncode != 0 and "--wallet" in bad_wallet.stderr


def test_secrets_are_encrypted_at_rest_and_never_logged(tmp_path):
    gateway = Gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, extra_args=["--log-level", "trace"]).start()
    try:
        merchant = gateway.merchant()
        status, _, body = signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], merchant["api_secret"])
        assert status == 200 and body["code"] == 0
        signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], "wrong-secret")
    finally:
        gateway.stop()
    for path in tmp_path.glob("db.sqlite*"):
        assert merchant["api_secret"].encode() not in path.read_bytes(), path
    with sqlite3.connect(f"{tmp_path}/db.sqlite") as db:
        (sealed,) = db.execute("SELECT secret_ciphertext FROM api_keys").fetchone()
    assert sealed.startswith("v1:")
    assert merchant["api_secret"] not in gateway.logs()
    assert "request_id=" in gateway.logs()


def test_production_refuses_to_start_and_names_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STABLEGATE_")}
    result = subprocess.run(
        [str(BINARY), "serve", "--mode", "production", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
         "--public-url", "http://pay.example.com"],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    assert "master key" in result.stderr
    assert "rate provider" in result.stderr
    assert "https" in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_defaults_to_sqlite_under_dot_stablegate_and_migrates(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STABLEGATE_")}
    port = free_port()
    process = subprocess.Popen([str(BINARY), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as reply:
                    assert json.loads(reply.read()) == {"status": "ready"}
                    break
            except OSError:
                assert time.time() < deadline, "gateway did not start"
                time.sleep(0.1)
        assert (tmp_path / ".stablegate" / "stablegate.sqlite").exists()
        assert oct((tmp_path / ".stablegate" / "master.key").stat().st_mode & 0o777) == "0o600"
        version = run_cli("migrate", cwd=tmp_path, env=env).stdout
        match = re.search(r"schema version (\d+) \((\d+) migrations applied\)", version)
        assert match and match.group(1) == match.group(2) and int(match.group(1)) >= 2, version
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_instances_on_one_postgres_share_nonces_and_intents(database, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Gateway(database, tmp_path / "a").start()
    # Both instances must use the same master key to read the same API secrets.
    (tmp_path / "b" / "master.key").write_bytes((tmp_path / "a" / "master.key").read_bytes())
    second = Gateway(database, tmp_path / "b").start()
    try:
        merchant = first.merchant()
        body = b'{"stable_coin": 1, "amount_cents": 2500}'
        status, _, created = signed_request(first.base_url, "POST", "/v1/checkout_intents", merchant["api_key"], merchant["api_secret"],
                                            body=body, nonce="shared-nonce-1")
        assert status == 200 and created["code"] == 0
        # The same signed request replayed against the other instance is refused.
        status, _, replay = signed_request(second.base_url, "POST", "/v1/checkout_intents", merchant["api_key"], merchant["api_secret"],
                                           body=body, nonce="shared-nonce-1")
        assert replay["code"] == 20002 and "already used" in replay["error"]["message"]
        intent_id = created["payload"]["allscale_checkout_intent_id"]
        status, _, got = signed_request(second.base_url, "GET", f"/v1/checkout_intents/{intent_id}", merchant["api_key"], merchant["api_secret"])
        assert got["code"] == 0 and got["payload"]["amount_coins"] == "25.00"
    finally:
        first.stop()
        second.stop()
