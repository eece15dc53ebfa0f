"""Notifications through the built binary against real receivers on loopback.

Webhooks (the StableGate events URL) go to a Python HTTP receiver that verifies every signature
with its own HMAC code (the `allscale:webhook:v1` canonical string of docs/WIRE-CONTRACT.md §7.2) and
fails on purpose: down, 500, slow, 410. The AllScale-format webhook URL has its own tests
(test_allscale_webhooks.py). E-mail goes to a real
SMTP server (aiosmtpd, tools/smtp-sink) over STARTTLS with AUTH, and is parsed with Python's
`email` package, attachments included."""
import csv
import email
import hashlib
import base64
import email.policy
import hmac
import http.server
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import (ROOT, Gateway, backends, cancel, checkout_url, create_intent, free_port, random_address, settled, setup_merchant, show,
                      serve_http, signature, start_gateway, stop_http, wait_for)

FAST = {
    "STABLEGATE_NOTIFICATIONS_POLL_MS": "100",
    "STABLEGATE_WEBHOOKS_TIMEOUT": "2",
    "STABLEGATE_NOTIFICATIONS_LEASE": "8",
    "STABLEGATE_WEBHOOKS_RETRY_DELAYS": ",".join(["1"] * 30),
    "STABLEGATE_API_KEY_CACHE_TTL": "0",
}


class Receiver:
    """A merchant's webhook endpoint. `mode`: ok, error (500), slow (answers after `delay`),
    gone (410), hold (signals `held`, then answers 200 after `delay`)."""

    def __init__(self, secrets):
        self.secrets = secrets  # api_key -> api_secret
        self.port = free_port()
        self.mode = "ok"
        self.delay = 0
        self.requests = []  # every request, in arrival order
        self.nonces = set()
        self.lock = threading.Lock()
        self.held = threading.Event()
        self.server = None

    def url(self, path="/hooks/stablegate?source=sg"):
        return f"http://127.0.0.1:{self.port}{path}"

    def verify(self, method, target, headers, body):
        """What a merchant does with the verifier they wrote for AllScale's webhooks."""
        path, _, query = target.partition("?")
        key, webhook_id = headers.get("X-API-Key"), headers.get("X-Webhook-Id", "")
        timestamp, nonce = headers.get("X-Webhook-Timestamp", ""), headers.get("X-Webhook-Nonce", "")
        secret = self.secrets.get(key)
        if method != "POST" or secret is None or not webhook_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        canonical = "\n".join(["allscale:webhook:v1", "POST", path, query, webhook_id, timestamp, nonce, hashlib.sha256(body).hexdigest()])
        expected = "v1=" + base64.b64encode(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()
        with self.lock:
            fresh = nonce not in self.nonces
            self.nonces.add(nonce)
        return fresh and hmac.compare_digest(expected, headers.get("X-Webhook-Signature", ""))

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = receiver.mode
                record = {
                    "at": time.time(), "mode": mode, "event_id": self.headers.get("X-Event-Id"), "path": self.path,
                    "valid": receiver.verify("POST", self.path, self.headers, body), "json": json.loads(body),
                }
                with receiver.lock:
                    receiver.requests.append(record)
                if mode == "hold":
                    receiver.held.set()
                if mode in ("slow", "hold"):
                    time.sleep(receiver.delay)
                status = {"error": 500, "gone": 410}.get(mode, 200)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if status == 200 else b"no thanks")
                except OSError:
                    pass  # the gateway gave up waiting

            def log_message(self, *args):
                pass

        self.server = serve_http(self.port, Handler)
        return self

    def stop(self):
        stop_http(self.server)
        self.server = None

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def answered_ok(self):
        """Requests answered 200 in time (slow and held answers came too late to count)."""
        return [r for r in self.snapshot() if r["mode"] == "ok"]


def merchant_posting_to(gateway, receiver, path):
    """A new merchant whose store posts its StableGate events to `receiver`, which knows its key."""
    merchant = gateway.merchant()
    receiver.secrets[merchant["api_key"]] = merchant["api_secret"]
    gateway.cli("stores", "set", "--store", merchant["store_id"], "--events-url", receiver.url(path))
    return merchant


def events(gateway, **selector):
    flag, value = next(iter(selector.items()))
    lines = gateway.cli("webhooks", "list", f"--{flag}", value, "--json").stdout.splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def view(gateway, intent_id):
    urllib.request.urlopen(checkout_url(gateway, intent_id), timeout=10).read()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_webhooks_survive_a_receiver_that_is_down_failing_and_slow(database, tmp_path):
    gateway = Gateway(database, tmp_path, env={**os.environ, **FAST}).start()
    receiver = Receiver({})
    try:
        merchant = merchant_posting_to(gateway, receiver, "/hooks/stablegate?source=sg")
        # The receiver is down while orders come in: created, paying, and two canceled.
        intents = [create_intent(gateway, merchant, 1000 + i) for i in range(4)]
        for intent_id in intents:
            view(gateway, intent_id)
        for intent_id in intents[:2]:
            cancel(gateway, intent_id)
        wait_for("refused attempts while down", lambda: any(
            any(a["error"] for a in e["attempt_log"]) for e in events(gateway, store=merchant["store_id"])))
        receiver.mode = "error"
        receiver.start()
        wait_for("three 500s", lambda: len(receiver.snapshot()) >= 3)
        receiver.mode, receiver.delay = "slow", 4
        wait_for("two slow answers", lambda: sum(r["mode"] == "slow" for r in receiver.snapshot()) >= 2, seconds=60)
        receiver.mode = "ok"

        expected = 4 * 2 + 2  # created and paying each, canceled twice
        wait_for("every event delivered", lambda: (
            len(listed := events(gateway, store=merchant["store_id"])) == expected and all(e["state"] == "delivered" for e in listed)), seconds=90)
        listed = events(gateway, store=merchant["store_id"])
        got = receiver.snapshot()
        assert got and all(r["valid"] for r in got), "every request verifies with the merchant's own HMAC code"
        assert all(r["path"] == "/hooks/stablegate?source=sg" for r in got)
        assert all(r["event_id"] == r["json"]["event_id"] for r in got)
        # None lost, and each answered exactly once by the recovered receiver.
        ok = [r["event_id"] for r in receiver.answered_ok()]
        assert sorted(ok) == sorted(e["event_id"] for e in listed)
        # In order per intent: no event is tried before its predecessor's first try (a refused
        # event then waits for its retry without holding the later ones back).
        for intent_id in intents:
            mine = sorted((e for e in listed if e["intent_id"] == intent_id), key=lambda e: e["sequence"])
            types = [e["type"] for e in mine]
            assert types[:2] == ["checkout_intent.created", "checkout_intent.paying"], types
            if intent_id in intents[:2]:
                assert types == ["checkout_intent.created", "checkout_intent.paying", "checkout_intent.canceled"], types
            for earlier, later in zip(mine, mine[1:]):
                assert earlier["attempt_log"][0]["started_at"] <= later["attempt_log"][0]["started_at"], f"{later['type']} overtook {earlier['type']}"
            data = next(r["json"] for r in got if r["event_id"] == mine[-1]["event_id"])["data"]
            assert data["all_scale_checkout_intent_id"] == intent_id
            assert data["checkout_url"] == checkout_url(gateway, intent_id), "the body repeats the token URL, not the intent id"
        # Every attempt is on record: refused while down, 500, timed out, then 200.
        outcomes = [a.get("error") or f"HTTP {a['http_status']}" for e in listed for a in e["attempt_log"]]
        assert any("cannot connect" in o or "refused" in o.lower() for o in outcomes), outcomes
        assert "HTTP 500" in outcomes and "HTTP 200" in outcomes
        assert any("timed out after 2 s" in o for o in outcomes), outcomes
        assert all(a["duration_ms"] is not None for e in listed for a in e["attempt_log"])
        first = next(e for e in listed if e["attempts"] > 1)
        assert [a["attempt"] for a in first["attempt_log"]] == list(range(1, first["attempts"] + 1))
    finally:
        receiver.stop()
        gateway.stop()


def test_410_stops_an_event_and_the_cli_tests_and_redelivers(tmp_path):
    gateway = Gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, env={**os.environ, **FAST}).start()
    receiver = Receiver({})
    receiver.start()
    try:
        merchant = merchant_posting_to(gateway, receiver, "/hook")

        # `webhooks test`: a signed webhook.test now, its answer printed.
        result = gateway.cli("webhooks", "test", "--store", merchant["store_id"])
        assert "webhook.test  delivered" in result.stdout and "HTTP 200" in result.stdout, result.stdout
        test_event = receiver.snapshot()[-1]
        assert test_event["valid"] and test_event["json"]["type"] == "webhook.test"
        receiver.mode = "error"
        failed = gateway.cli("webhooks", "test", "--store", merchant["store_id"], check=False)
        assert failed.returncode == 1 and "HTTP 500" in failed.stdout, failed.stdout

        receiver.mode = "gone"
        intent_id = create_intent(gateway, merchant)
        event = wait_for("gone", lambda: (e := events(gateway, intent=intent_id)) and e[0]["state"] == "gone" and e[0])
        time.sleep(2)  # several retry delays: nothing more is sent
        assert [r["mode"] for r in receiver.snapshot() if r["event_id"] == event["event_id"]] == ["gone"]
        assert events(gateway, intent=intent_id)[0]["attempts"] == 1

        # By hand, once the merchant has fixed their endpoint.
        receiver.mode = "ok"
        redelivered = gateway.cli("webhooks", "redeliver", event["event_id"])
        assert "delivered" in redelivered.stdout, redelivered.stdout
        assert [r["mode"] for r in receiver.snapshot() if r["event_id"] == event["event_id"]] == ["gone", "ok"]
        listing = gateway.cli("webhooks", "list", "--intent", intent_id).stdout
        assert "#1 " in listing and "HTTP 410" in listing and "#2 " in listing and "HTTP 200" in listing, listing
        unknown = gateway.cli("webhooks", "redeliver", "evt_000000000000000000000000", check=False)
        assert unknown.returncode != 0 and "no webhook event" in (unknown.stdout + unknown.stderr).lower()
    finally:
        receiver.stop()
        gateway.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_sigkill_mid_delivery_delivers_again_after_restart(database, tmp_path):
    gateway = Gateway(database, tmp_path, env={**os.environ, **FAST, "STABLEGATE_WEBHOOKS_TIMEOUT": "10",
                                               "STABLEGATE_NOTIFICATIONS_LEASE": "16"}).start()
    receiver = Receiver({})
    receiver.start()
    try:
        merchant = merchant_posting_to(gateway, receiver, "/hook")
        receiver.mode, receiver.delay = "hold", 3
        intent_id = create_intent(gateway, merchant)
        view(gateway, intent_id)
        assert receiver.held.wait(30), "the first delivery never arrived"
        gateway.process.send_signal(signal.SIGKILL)  # while the receiver holds the request
        gateway.process.wait()
        receiver.mode = "ok"
        gateway.start()
        listed = wait_for("both delivered after the restart", lambda: (
            len(e := events(gateway, intent=intent_id)) == 2 and all(x["state"] == "delivered" for x in e) and e), seconds=60)
        created = next(e for e in listed if e["type"] == "checkout_intent.created")
        log = created["attempt_log"]
        assert len(log) == 2 and "interrupted" in log[0]["error"] and log[1]["http_status"] == 200, log
        got = receiver.snapshot()
        assert [r["mode"] for r in got if r["event_id"] == created["event_id"]] == ["hold", "ok"], "at least once: sent again"
        assert [r["json"]["type"] for r in got if r["mode"] == "ok"] == ["checkout_intent.created", "checkout_intent.paying"]
        assert all(r["valid"] for r in got)
    finally:
        receiver.stop()
        gateway.stop()


@pytest.mark.skipif("postgres" not in backends(), reason="needs STABLEGATE_TEST_POSTGRES_URL")
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_instances_on_one_postgres_never_send_an_event_twice(database, tmp_path):
    env = {**os.environ, **FAST}
    first = Gateway(database, tmp_path / "a", env=env)
    (tmp_path / "a").mkdir()
    first.start()
    (tmp_path / "b").mkdir()
    second = Gateway(database, tmp_path / "b", env=env)
    # Both instances must read secrets with the same master key.
    (tmp_path / "b" / "master.key").write_bytes((tmp_path / "a" / "master.key").read_bytes())
    (tmp_path / "b" / "master.key").chmod(0o600)
    second.start()
    receiver = Receiver({})
    receiver.delay = 0.2
    receiver.mode = "slow"  # every answer takes a moment, widening any window for a double send
    receiver.start()
    try:
        merchant = merchant_posting_to(first, receiver, "/hook")
        intents = [create_intent(first if i % 2 else second, merchant, 1000 + i) for i in range(30)]
        listed = wait_for("30 events delivered", lambda: (
            len(e := events(first, store=merchant["store_id"])) == 30 and all(x["state"] == "delivered" for x in e) and e), seconds=90)
        got = receiver.snapshot()
        assert sorted(r["event_id"] for r in got) == sorted(e["event_id"] for e in listed), "each event sent exactly once"
        assert all(e["attempts"] == 1 for e in listed)
        instances = {e["attempt_log"][0]["instance"] for e in listed}
        print(f"deliveries by instance: { {i: sum(e['attempt_log'][0]['instance'] == i for e in listed) for i in instances} }")
        assert all(r["valid"] for r in got)
        assert {r["json"]["data"]["all_scale_checkout_intent_id"] for r in got} == set(intents)
    finally:
        receiver.stop()
        first.stop()
        second.stop()


# ---- e-mail ------------------------------------------------------------------------------------

SINK = ROOT / "tools" / "smtp-sink" / "smtp_sink.py"


@pytest.fixture
def smtp(tmp_path):
    """aiosmtpd with STARTTLS (a throwaway CA) and AUTH; yields (ready info, maildir)."""
    maildir = tmp_path / "mail"
    process = subprocess.Popen([sys.executable, str(SINK), "--maildir", str(maildir), "--tls", "--auth", "gateway:mail-secret",
                                "--exit-with-parent"], stdout=subprocess.PIPE, text=True)
    ready = json.loads(process.stdout.readline())
    yield ready, maildir
    process.terminate()
    process.wait(timeout=10)


def mail_env(ready):
    return {
        "STABLEGATE_SMTP_HOST": "localhost", "STABLEGATE_SMTP_PORT": str(ready["port"]), "STABLEGATE_SMTP_FROM": "payments@gateway.example",
        "STABLEGATE_SMTP_USERNAME": "gateway", "STABLEGATE_SMTP_PASSWORD": "mail-secret", "STABLEGATE_SMTP_CA_FILE": ready["ca_file"],
    }


def received(maildir):
    """Messages in arrival order, parsed as a mail client would, with their envelopes."""
    out = []
    for path in sorted(Path(maildir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        envelope = json.loads(path.with_suffix(".json").read_text())
        out.append((message, envelope))
    return out


def part(message, content_type):
    return next(p for p in message.walk() if p.get_content_type() == content_type and not p.get_filename()).get_content()


def test_order_emails_and_reports_reach_a_real_smtp_server(tmp_path, chain, smtp):
    ready, maildir = smtp
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, extra_env={**FAST, **mail_env(ready)}).start()
    try:
        merchant = setup_merchant(gateway, random_address())
        gateway.cli("stores", "set", "--store", merchant["store_id"], "--emails", "Owner@Shop.example, finance@shop.example")
        intent_id = create_intent(gateway, merchant, 2500, order_id="MAIL-42")
        gateway.cli("sandbox", "pay", intent_id, "--chains", str(chain.chains_file), "--state-file", str(chain.state_file))
        chain.mine(2)
        data = wait_for("CONFIRMED", settled(gateway, intent_id))
        tx_hash = data["intent"]["tx_hash"]
        messages = wait_for("two order e-mails", lambda: len(m := received(maildir)) >= 2 and m)
        assert len(messages) == 2
        for message, envelope in messages:
            assert envelope["rcpt_tos"] == ["owner@shop.example", "finance@shop.example"]
            assert envelope["tls"] and envelope["authenticated"] and envelope["mail_from"] == "payments@gateway.example"
            assert message["From"].addresses[0].addr_spec == "payments@gateway.example"
        created, paid = messages[0][0], messages[1][0]
        assert created["Subject"] == "New order MAIL-42: 25.00 USDT"
        link = f"{gateway.base_url}/dashboard/orders/{intent_id}"
        for text in ("MAIL-42", intent_id, "25.00 USDT", link):
            assert text in part(created, "text/plain") and text in part(created, "text/html"), text
        assert paid["Subject"] == "Paid: order MAIL-42, 25.00 USDT"
        for text in (tx_hash, "25.00 USDT", "0.25 USDT", "24.75 USDT", link):
            assert text in part(paid, "text/plain") and text in part(paid, "text/html"), text

        # A daily and a monthly report, now, with the period's orders as CSV.
        today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        result = gateway.cli("reports", "send", "--store", merchant["store_id"], "--period", "daily", "--date", today)
        assert "sent" in result.stdout, result.stdout
        gateway.cli("reports", "send", "--store", merchant["store_id"], "--period", "monthly", "--date", today)
        reports = [m for m, _ in received(maildir)[2:]]
        assert [r["Subject"].split(" — ")[0] for r in reports] == [f"Daily report {today}", f"Monthly report {today[:7]}"]
        for report, name in zip(reports, [f"orders-{today}.csv", f"orders-{today[:7]}.csv"]):
            body = part(report, "text/plain")
            assert "Orders created in the period: 1" in body and "CONFIRMED: 1 orders" in body, body
            assert "24.75" in body  # the net
            attachment = next(p for p in report.iter_attachments() if p.get_filename() == name)
            rows = list(csv.DictReader(io.StringIO(attachment.get_content() if isinstance(attachment.get_content(), str)
                                                    else attachment.get_content().decode())))
            assert len(rows) == 1
            assert rows[0]["intent_id"] == intent_id and rows[0]["order_id"] == "MAIL-42" and rows[0]["status_name"] == "CONFIRMED"
            assert rows[0]["tx_hash"] == tx_hash
        bad = gateway.cli("reports", "send", "--store", merchant["store_id"], "--period", "weekly", "--date", today, check=False)
        assert bad.returncode != 0 and "daily or monthly" in bad.stderr
    finally:
        gateway.stop()
