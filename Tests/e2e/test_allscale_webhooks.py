"""AllScale-format webhooks, StableGate events and signed responses (docs/WIRE-CONTRACT.md §7, §6.1,
§8), tested as a merchant's integration sees them.

The receiver below is written the way the vendor's PHP and Node integrations verify a delivery,
from the published guide and with none of the gateway's code: it reads the raw body, checks the
five headers and the timestamp, rebuilds the canonical string from ITS OWN configured URL (as
PHP's `parse_url` splits it) and the `X-Webhook-Id` header, compares the HMAC in constant time,
refuses a webhook id other than the one it pinned from the dashboard (`stores show`) and a body
whose `webhook_id` differs from the header, keeps nonces for ten minutes, then checks the money
against its own order record (exact ints and decimal strings, never floats) and dedupes on
`all_scale_transaction_id`. It answers 200 when it accepts and 401 when it refuses.

Payments are real ERC-20 transfers on the module's sandbox chain, signed with eth-account."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal

import pytest

from conftest import (ROOT, Gateway, backends, cancel, create_intent, free_port, random_address, select_deposit, setup_merchant, show,
                      serve_http, signature, start_gateway, stop_http, wait_for)

VECTORS = json.loads((ROOT / "Tests" / "Fixtures" / "allscale-current-vectors.json").read_text())
UNITS = 10**6  # the sandbox USDT has 6 decimals
FAST = {
    "STABLEGATE_NOTIFICATIONS_POLL_MS": "100",
    "STABLEGATE_WEBHOOKS_TIMEOUT": "2",
    "STABLEGATE_NOTIFICATIONS_LEASE": "8",
    "STABLEGATE_WEBHOOKS_RETRY_DELAYS": ",".join(["1"] * 30),
    "STABLEGATE_API_KEY_CACHE_TTL": "0",
}

# The AllScale body, member by member, in order, with its JSON types (docs/WIRE-CONTRACT.md §7.3).
MEMBERS = ["all_scale_transaction_id", "all_scale_checkout_intent_id", "webhook_id", "amount_cents", "currency", "currency_symbol",
           "amount_coins", "coin_symbol", "coin_contract_address", "chain_id", "tx_hash", "tx_from", "payment_method_type", "order_id",
           "user_id", "user_name", "extra_obj", "status"]
EVENT_MEMBERS = ["event_id", "type", "created_at", "webhook_id", "data"]


# ---- the merchant's side: signature code written from the guide ---------------------------------

def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def hmac_b64(secret, text):
    return "v1=" + base64.b64encode(hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def parse_url(url):
    """PATH and QUERY of a configured URL as PHP's `parse_url` gives them: kept exactly as written
    (percent-encoding included), QUERY without `?`, and PATH `/` when the URL has none."""
    parts = urllib.parse.urlsplit(url)
    return parts.path or "/", parts.query


def webhook_canonical(path, query, webhook_id, timestamp, nonce, body):
    return "\n".join(["allscale:webhook:v1", "POST", path, query, webhook_id, timestamp, nonce, sha256_hex(body)])


def webhook_signature(secret, path, query, webhook_id, timestamp, nonce, body):
    return hmac_b64(secret, webhook_canonical(path, query, webhook_id, timestamp, nonce, body))


def response_canonical(status, path, request_nonce, request_body, timestamp, nonce, body):
    return "\n".join([str(status), path, request_nonce, sha256_hex(request_body or b""), timestamp, nonce, sha256_hex(body)])


def response_signature(secret, status, path, request_nonce, request_body, timestamp, nonce, body):
    return hmac_b64(secret, response_canonical(status, path, request_nonce, request_body, timestamp, nonce, body))


def ordered_json(raw):
    """The body as (name, value) pairs in the order they were written, as a Go or PHP decoder sees it."""
    return json.loads(raw, object_pairs_hook=lambda pairs: pairs)


class Refused(Exception):
    pass


class MerchantEndpoint:
    """One webhook endpoint of a merchant integration.

    `kind` "allscale": the checkout-webhook handler (money checked against `orders`, deduped on
    `all_scale_transaction_id`); "events": a StableGate events handler (same signature scheme,
    `X-Event-Id` must match the body, deduped on `event_id`)."""

    HEADERS = ("X-API-Key", "X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Nonce", "X-Webhook-Signature")
    NONCE_TTL = 600
    SKEW = 300

    def __init__(self, url, api_key, api_secret, pinned_webhook_id, kind="allscale", orders=None, clock=time.time):
        self.url = url
        self.path, self.query = parse_url(url)
        self.api_key, self.api_secret = api_key, api_secret
        self.pinned_webhook_id = pinned_webhook_id
        self.kind = kind
        self.orders = orders if orders is not None else {}  # order_id -> what the shop expects to be paid
        self.clock = clock
        self.nonces = {}  # nonce -> when first seen
        self.seen = {}  # dedupe key -> body
        self.credited = []  # order ids credited, once per payment
        self.log = []  # every request: headers, raw body, outcome
        self.lock = threading.Lock()

    def handle(self, headers, raw):
        """(HTTP status, reason) for one request; `headers` is case-insensitive (`.get`)."""
        try:
            outcome, body = self._verify(headers, raw)
            status, reason = 200, outcome
        except Refused as refusal:
            body, status, reason = None, 401, str(refusal)
        with self.lock:
            self.log.append({"at": time.time(), "headers": {name: headers.get(name) for name in (*self.HEADERS, "X-Event-Id")},
                             "raw": raw, "status": status, "reason": reason, "body": body})
        return status, reason

    def _verify(self, headers, raw):
        values = {name: headers.get(name) for name in self.HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise Refused("missing headers: " + ", ".join(missing))
        if values["X-API-Key"] != self.api_key:
            raise Refused("unknown api key")
        timestamp, nonce, webhook_id = values["X-Webhook-Timestamp"], values["X-Webhook-Nonce"], values["X-Webhook-Id"]
        if not re.fullmatch(r"[0-9]+", timestamp) or abs(self.clock() - int(timestamp)) > self.SKEW:
            raise Refused("stale timestamp")
        expected = webhook_signature(self.api_secret, self.path, self.query, webhook_id, timestamp, nonce, raw)
        if not hmac.compare_digest(expected.encode(), values["X-Webhook-Signature"].encode()):
            raise Refused("bad signature")
        if webhook_id != self.pinned_webhook_id:
            raise Refused("webhook id not pinned")
        try:
            body = json.loads(raw)
        except ValueError:
            raise Refused("body is not JSON")
        if not isinstance(body, dict) or body.get("webhook_id") != webhook_id:
            raise Refused("body webhook_id differs from the header")
        if self.kind == "events" and headers.get("X-Event-Id") != body.get("event_id"):
            raise Refused("X-Event-Id differs from the body")
        with self.lock:
            now = self.clock()
            self.nonces = {seen: at for seen, at in self.nonces.items() if now - at < self.NONCE_TTL}
            if nonce in self.nonces:
                raise Refused("replayed nonce")
            self.nonces[nonce] = now
        if self.kind == "events":
            return self._record(body["event_id"], body), body
        self._check_money(body)
        return self._record(body["all_scale_transaction_id"], body, credit=body["order_id"]), body

    def _check_money(self, body):
        order = self.orders.get(body.get("order_id"))
        if order is None:
            raise Refused("unknown order")
        if "amount_cents" in order:  # fiat pricing: the shop's own total and currency
            paid = (body.get("amount_cents"), body.get("currency"))
            if type(paid[0]) is not int or type(paid[1]) is not int or paid != (order["amount_cents"], order["currency"]):
                raise Refused(f"amount mismatch: {paid!r}")
        else:  # native stable-coin pricing: the coin amount as an exact decimal string
            amount, coin = body.get("amount_coins"), body.get("coin_symbol")
            if not isinstance(amount, str) or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", amount) or \
                    Decimal(amount) != Decimal(order["amount_coins"]) or coin != order["coin_symbol"]:
                raise Refused(f"amount mismatch: {amount!r} {coin!r}")

    def _record(self, key, body, credit=None):
        with self.lock:
            if key in self.seen:
                return "duplicate"
            self.seen[key] = body
            if credit is not None:
                self.credited.append(credit)
        return "accepted"

    def snapshot(self):
        with self.lock:
            return list(self.log)

    def accepted(self):
        return [entry for entry in self.snapshot() if entry["status"] == 200]

    def refused(self):
        return [entry for entry in self.snapshot() if entry["status"] != 200]


class MerchantSite:
    """The merchant's web server on loopback; endpoints are mounted by path."""

    def __init__(self):
        self.port = free_port()
        self.endpoints = {}
        self.server = None

    def url(self, path_and_query):
        return f"http://127.0.0.1:{self.port}{path_and_query}"

    def mount(self, endpoint):
        self.endpoints[endpoint.path] = endpoint
        return endpoint

    def start(self):
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint = site.endpoints.get(urllib.parse.urlsplit(self.path).path)
                status, reason = endpoint.handle(self.headers, raw) if endpoint else (404, "no such endpoint")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(reason.encode())

            def log_message(self, *args):
                pass

        self.server = serve_http(self.port, Handler)
        return self

    def stop(self):
        stop_http(self.server)


def post(url, headers, body):
    """Sends a delivery to the merchant's site as-is; returns (status, answer text)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# ---- gateway helpers --------------------------------------------------------------------------

def store_settings(gateway, store_id):
    return gateway.cli("stores", "show", "--store", store_id).stdout


def webhook_ids(gateway, store_id):
    """The ids a merchant copies from the dashboard: (webhook id, events webhook id)."""
    text = store_settings(gateway, store_id)
    hooks = re.search(r"^webhook id\s+(\S+)", text, re.M)
    events = re.search(r"^events webhook id\s+(\S+)", text, re.M)
    assert hooks and events, text
    return hooks.group(1), events.group(1)


def connect_endpoints(gateway, merchant, site, hook_path="/wc-api/allscale_checkout?store=7", events_path="/stablegate/events"):
    """Sets both URLs on the store, reads the ids back and mounts the merchant's two handlers."""
    gateway.cli("stores", "set", "--store", merchant["store_id"], "--webhook-url", site.url(hook_path), "--events-url", site.url(events_path))
    hook_id, events_id = webhook_ids(gateway, merchant["store_id"])
    assert re.fullmatch(r"wh_[0-9a-f]{32}", hook_id) and re.fullmatch(r"wh_[0-9a-f]{32}", events_id) and hook_id != events_id
    hooks = site.mount(MerchantEndpoint(site.url(hook_path), merchant["api_key"], merchant["api_secret"], hook_id))
    events = site.mount(MerchantEndpoint(site.url(events_path), merchant["api_key"], merchant["api_secret"], events_id, kind="events"))
    return hooks, events


def due_units(gateway, intent_id):
    return int(Decimal(show(gateway, intent_id)["intent"]["amount_coins"]) * UNITS)


def status_of(gateway, intent_id):
    return show(gateway, intent_id)["intent"]["status"]


def reaches(gateway, chain, intent_id, status, mine=False):
    """A probe for `wait_for`; with `mine`, a block per look (a real chain keeps producing them)."""
    def probe():
        if mine:
            chain.mine(1)
        return status_of(gateway, intent_id) == status
    return probe


def event_types(events, intent_id):
    return [entry["body"]["type"] for entry in events.accepted() if entry["body"]["data"].get("all_scale_checkout_intent_id") == intent_id]


# ---- 1. the receiver's code against the shared vectors ------------------------------------------

def test_the_merchant_verifier_reproduces_every_fixture_vector():
    secret = VECTORS["secret"]
    assert VECTORS["webhooks"] and VECTORS["responses"]
    for vector in VECTORS["webhooks"]:
        body = vector["body"].encode("utf-8")
        path, query = parse_url(vector["url"])
        assert (path, query) == (vector["path"], vector["query"]), vector["name"]
        assert sha256_hex(body) == vector["body_sha256"], vector["name"]
        canonical = webhook_canonical(path, query, vector["webhook_id"], vector["timestamp"], vector["nonce"], body)
        assert canonical == vector["canonical"], vector["name"]
        assert webhook_signature(secret, path, query, vector["webhook_id"], vector["timestamp"], vector["nonce"], body) == vector["signature"]

        # The whole handler accepts the vector as delivered at its own time, and only once.
        decoded = json.loads(body)
        kind = "events" if "event_id" in decoded else "allscale"
        orders = {}
        if kind == "allscale":
            orders[decoded["order_id"]] = ({"amount_cents": decoded["amount_cents"], "currency": decoded["currency"]}
                                           if decoded["amount_cents"] is not None
                                           else {"amount_coins": decoded["amount_coins"], "coin_symbol": decoded["coin_symbol"]})
        endpoint = MerchantEndpoint(vector["url"], "sgk_vectors", secret, vector["webhook_id"], kind=kind, orders=orders,
                                    clock=lambda: int(vector["timestamp"]) + 42)
        headers = {"X-API-Key": "sgk_vectors", "X-Webhook-Id": vector["webhook_id"], "X-Webhook-Timestamp": vector["timestamp"],
                   "X-Webhook-Nonce": vector["nonce"], "X-Webhook-Signature": vector["signature"]}
        if kind == "events":
            headers["X-Event-Id"] = decoded["event_id"]
        assert endpoint.handle(headers, body) == (200, "accepted"), vector["name"]
        assert endpoint.handle(headers, body) == (401, "replayed nonce"), vector["name"]
        fresh = {**headers, "X-Webhook-Nonce": "other-" + vector["nonce"]}
        assert endpoint.handle(fresh, body) == (401, "bad signature"), "the nonce is signed"
        tampered = body.replace(b'"webhook_id"', b'"webhook_id" ', 1)
        assert endpoint.handle({**headers, "X-Webhook-Nonce": "t-" + vector["nonce"]}, tampered)[1] == "bad signature"
        late = MerchantEndpoint(vector["url"], "sgk_vectors", secret, vector["webhook_id"], kind=kind, orders=orders,
                                clock=lambda: int(vector["timestamp"]) + 301)
        assert late.handle(headers, body) == (401, "stale timestamp")

    for vector in VECTORS["responses"]:
        request_body, body = vector["request_body"].encode("utf-8"), vector["body"].encode("utf-8")
        assert sha256_hex(request_body) == vector["request_body_sha256"] and sha256_hex(body) == vector["body_sha256"], vector["name"]
        canonical = response_canonical(vector["status"], vector["path"], vector["request_nonce"], request_body, vector["timestamp"],
                                       vector["nonce"], body)
        assert canonical == vector["canonical"], vector["name"]
        assert response_signature(secret, vector["status"], vector["path"], vector["request_nonce"], request_body, vector["timestamp"],
                                  vector["nonce"], body) == vector["signature"], vector["name"]


# ---- 2. confirmed payments, both pricing modes -----------------------------------------------------

def check_delivery(entry, intent, pricing, merchant, hook_id, chain):
    """One accepted AllScale delivery against the order as created and as `intents show` reports it."""
    pairs = ordered_json(entry["raw"])
    assert [name for name, _ in pairs] == MEMBERS, pairs
    body = json.loads(entry["raw"])
    assert entry["headers"]["X-API-Key"] == merchant["api_key"] and entry["headers"]["X-Webhook-Id"] == hook_id
    assert entry["headers"]["X-Event-Id"] is None, "AllScale deliveries carry no StableGate event id"
    for name in ("all_scale_transaction_id", "all_scale_checkout_intent_id", "webhook_id", "amount_coins", "coin_symbol",
                 "coin_contract_address", "tx_hash", "tx_from"):
        assert type(body[name]) is str and body[name], (name, body[name])
    for name in ("chain_id", "payment_method_type", "status"):
        assert type(body[name]) is int, (name, body[name])
    assert body["webhook_id"] == hook_id
    assert body["status"] == 20
    assert re.fullmatch(r"[0-9]+\.[0-9]{2,}", body["amount_coins"]), body["amount_coins"]
    assert body["amount_coins"] == intent["amount_coins"]
    assert body["coin_symbol"] == "USDT"
    assert body["coin_contract_address"].lower() == chain.token("USDT")["contract"].lower()
    assert body["chain_id"] == chain.chain(0)["chain_id"] == intent["chain_id"]
    assert body["tx_hash"] == intent["tx_hash"] and body["tx_from"] == intent["tx_from"], (body, intent)
    assert body["payment_method_type"] == intent["payment_method_type"] == 1, "WALLET_SCAN: a plain transfer paid it"
    if pricing["currency"] is not None:
        assert (body["amount_cents"], body["currency"], body["currency_symbol"]) == (pricing["amount_cents"], 1, "USD")
        assert type(body["amount_cents"]) is int and type(body["currency"]) is int
    else:
        assert (body["amount_cents"], body["currency"], body["currency_symbol"]) == (None, None, None)
    assert body["order_id"] == pricing["order_id"]
    assert body["user_id"] == pricing.get("user_id") and body["user_name"] is None
    assert body["extra_obj"] == pricing.get("extra")
    return body


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_confirmed_payments_reach_the_merchant_once_in_allscale_format(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain, FAST).start()
    site = MerchantSite().start()
    try:
        merchant = setup_merchant(gateway, random_address())
        hooks, events = connect_endpoints(gateway, merchant, site)
        hook_id = hooks.pinned_webhook_id
        # The shop's own order records, written before it sends the customer to pay.
        fiat = {"order_id": "wc_" + uuid.uuid4().hex[:6], "amount_cents": 2599, "currency": 1}
        coin = {"order_id": "coin_" + uuid.uuid4().hex[:6], "amount_cents": 1250, "currency": None, "user_id": "17",
                "extra": {"cart": "A-7", "items": [1, 2], "gift": True, "note": "café ☃", "nested": {"n": None}}}
        hooks.orders[fiat["order_id"]] = {"amount_cents": 2599, "currency": 1}
        hooks.orders[coin["order_id"]] = {"amount_coins": "12.50", "coin_symbol": "USDT"}
        fiat_id = create_intent(gateway, merchant, 2599, currency=1, order_id=fiat["order_id"])
        coin_id = create_intent(gateway, merchant, 1250, order_id=coin["order_id"], user_id="17", extra=coin["extra"])

        for intent_id in (fiat_id, coin_id):
            deposit = select_deposit(gateway, intent_id, chain)
            chain.pay(deposit, due_units(gateway, intent_id))
        chain.mine(2)
        for intent_id in (fiat_id, coin_id):
            wait_for("CONFIRMED", reaches(gateway, chain, intent_id, 20))
        wait_for("both deliveries accepted", lambda: len(hooks.accepted()) >= 2, seconds=30)
        wait_for("both confirmed events", lambda: all("checkout_intent.confirmed" in event_types(events, i) for i in (fiat_id, coin_id)))
        time.sleep(2)  # two retry delays: nothing more may come

        assert hooks.refused() == [], [(e["reason"], e["raw"]) for e in hooks.refused()]
        accepted = hooks.accepted()
        assert [e["reason"] for e in accepted] == ["accepted", "accepted"], "exactly one delivery per order"
        assert sorted(hooks.credited) == sorted([fiat["order_id"], coin["order_id"]])
        bodies = {}
        for entry in accepted:
            order_id = entry["body"]["order_id"]
            intent_id, pricing = (fiat_id, fiat) if order_id == fiat["order_id"] else (coin_id, coin)
            intent = show(gateway, intent_id)["intent"]
            assert entry["body"]["all_scale_checkout_intent_id"] == intent_id
            bodies[order_id] = check_delivery(entry, intent, pricing, merchant, hook_id, chain)
        assert bodies[coin["order_id"]]["amount_coins"] == "12.50"
        assert bodies[fiat["order_id"]]["amount_coins"] == show(gateway, fiat_id)["intent"]["amount_coins"]
        assert bodies[fiat["order_id"]]["all_scale_transaction_id"] != bodies[coin["order_id"]]["all_scale_transaction_id"]
        assert bodies[fiat["order_id"]]["tx_hash"] != bodies[coin["order_id"]]["tx_hash"]

        # The events URL got every transition, each signed with the events webhook id.
        assert events.refused() == [], [(e["reason"], e["raw"]) for e in events.refused()]
        for entry in events.accepted():
            assert [name for name, _ in ordered_json(entry["raw"])] == EVENT_MEMBERS
            assert entry["headers"]["X-Webhook-Id"] == events.pinned_webhook_id == entry["body"]["webhook_id"]
        for intent_id in (fiat_id, coin_id):
            types = event_types(events, intent_id)
            assert types[0] == "checkout_intent.created" and types[-1] == "checkout_intent.confirmed", types
            assert "checkout_intent.on_chain" in types, types

        # The same receiver refuses what an attacker could send it.
        captured = next(e for e in accepted if e["body"]["order_id"] == coin["order_id"])
        headers, raw = {k: v for k, v in captured["headers"].items() if v is not None}, captured["raw"]
        assert post(hooks.url, headers, raw) == (401, "replayed nonce"), "the captured delivery replayed verbatim"
        tampered = raw.replace(captured["body"]["tx_from"].encode(), random_address().encode())
        assert tampered != raw
        assert post(hooks.url, headers, tampered) == (401, "bad signature"), "a tampered body under the captured headers"

        def signed(body_value, webhook_id):
            raw_body = json.dumps(body_value).encode()
            timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
            return {"X-API-Key": merchant["api_key"], "X-Webhook-Id": webhook_id, "X-Webhook-Timestamp": timestamp, "X-Webhook-Nonce": nonce,
                    "X-Webhook-Signature": webhook_signature(merchant["api_secret"], hooks.path, hooks.query, webhook_id, timestamp, nonce,
                                                             raw_body)}, raw_body

        other_id = "wh_" + uuid.uuid4().hex
        assert other_id != hook_id
        assert post(hooks.url, *signed({**captured["body"], "webhook_id": other_id}, other_id)) == (401, "webhook id not pinned")
        assert post(hooks.url, *signed({**captured["body"], "webhook_id": other_id}, hook_id)) == (401, "body webhook_id differs from the header")
        # Correctly signed with the pinned id and a fresh nonce: verified, but the same payment.
        assert post(hooks.url, *signed(captured["body"], hook_id)) == (200, "duplicate")
        wrong_money = {**captured["body"], "amount_coins": "1.25", "all_scale_transaction_id": "txn_" + uuid.uuid4().hex[:24]}
        assert post(hooks.url, *signed(wrong_money, hook_id)) == (401, "amount mismatch: '1.25' 'USDT'")
        assert sorted(hooks.credited) == sorted([fiat["order_id"], coin["order_id"]]), "nothing credited twice"
    finally:
        site.stop()
        gateway.stop()


# ---- 3. unpaid outcomes: events only -----------------------------------------------------------------

@pytest.mark.parametrize("database", backends(), indirect=True)
def test_no_allscale_delivery_for_any_unpaid_outcome(database, tmp_path, chain):
    sanctioned = 5  # a funded test account on the KYT denylist
    denylist = tmp_path / "denylist.txt"
    denylist.write_text("# sanctioned addresses\n" + chain.chain(0)["accounts"][sanctioned]["address"] + "\n")
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain, {**FAST, "STABLEGATE_KYT_PROVIDER": "denylist", "STABLEGATE_KYT_DENYLIST": str(denylist),
                                                        "STABLEGATE_PAYMENTS_WINDOW": "15"}).start()
    site = MerchantSite().start()
    try:
        merchant = setup_merchant(gateway, random_address())
        hooks, events = connect_endpoints(gateway, merchant, site)
        names = ["underpaid", "canceled", "timeout", "flagged", "late"]
        ids = {}
        for name in names:
            order_id = f"{name}-{uuid.uuid4().hex[:6]}"
            hooks.orders[order_id] = {"amount_coins": "10.00", "coin_symbol": "USDT"}
            ids[name] = create_intent(gateway, merchant, 1000, order_id=order_id)
        cancel(gateway, ids["canceled"])
        deposits = {name: select_deposit(gateway, ids[name], chain) for name in ("underpaid", "timeout", "flagged", "late")}
        chain.pay(deposits["underpaid"], 4 * UNITS)
        chain.pay(deposits["flagged"], 10 * UNITS, account=sanctioned)
        chain.pay(deposits["late"], 10 * UNITS)
        chain.mine(2)

        wait_for("the paid order CONFIRMED", reaches(gateway, chain, ids["late"], 20))
        wait_for("the flagged order held for review", reaches(gateway, chain, ids["flagged"], 4))
        late_tx = chain.pay(deposits["late"], 2 * UNITS)  # after CONFIRMED: a late payment
        chain.mine(2)
        wait_for("UNDERPAID when the window ends", reaches(gateway, chain, ids["underpaid"], -3, mine=True), seconds=60)
        wait_for("TIMEOUT when the window ends", reaches(gateway, chain, ids["timeout"], -5, mine=True), seconds=60)
        assert status_of(gateway, ids["canceled"]) == -4
        assert status_of(gateway, ids["flagged"]) == 4, "a flagged payment waits for the operator, window or not"
        reviewed = gateway.cli("intents", "review", ids["flagged"], "--reject")
        assert status_of(gateway, ids["flagged"]) == -2, reviewed.stdout
        wait_for("the late payment credited", lambda: (chain.mine(1) or True) and show(gateway, ids["late"])["intent"]["late_paid_amount"] == "2.00",
                 seconds=60)
        assert any(t["tx_hash"] == late_tx for t in show(gateway, ids["late"])["transfers"])

        expected = {
            "underpaid": "checkout_intent.underpaid", "canceled": "checkout_intent.canceled", "timeout": "checkout_intent.timeout",
            "flagged": "checkout_intent.rejected", "late": "checkout_intent.late_payment",
        }
        wait_for("every outcome's event", lambda: all(expected[name] in event_types(events, ids[name]) for name in names), seconds=60)
        time.sleep(2)  # two retry delays: anything still queued would have been sent
        assert "checkout_intent.pending_manual_operation" in event_types(events, ids["flagged"])
        flagged = event_types(events, ids["flagged"])
        assert flagged.index("checkout_intent.pending_manual_operation") < flagged.index("checkout_intent.rejected"), flagged
        for name in ("underpaid", "canceled", "timeout", "flagged"):
            assert "checkout_intent.confirmed" not in event_types(events, ids[name]), (name, event_types(events, ids[name]))
        late_types = event_types(events, ids["late"])
        assert late_types.index("checkout_intent.confirmed") < late_types.index("checkout_intent.late_payment"), late_types
        assert events.refused() == [], [(e["reason"], e["raw"]) for e in events.refused()]
        assert all(e["headers"]["X-Webhook-Id"] == events.pinned_webhook_id for e in events.accepted())

        # The AllScale endpoint: one delivery, for the one confirmed payment, and nothing else.
        assert hooks.refused() == [], [(e["reason"], e["raw"]) for e in hooks.refused()]
        delivered = [e["body"]["all_scale_checkout_intent_id"] for e in hooks.snapshot()]
        assert delivered == [ids["late"]], {name: delivered.count(ids[name]) for name in names}
        assert hooks.accepted()[0]["body"]["status"] == 20
        assert hooks.accepted()[0]["body"]["amount_coins"] == "10.00", "the order's amount, not the late money"
    finally:
        site.stop()
        gateway.stop()


# ---- 4. signed responses --------------------------------------------------------------------------------

RESPONSE_HEADERS = ("X-Response-Timestamp", "X-Response-Nonce", "X-Response-Signature", "X-Request-Nonce", "X-Request-Id")


def send_signed(base_url, method, path, merchant, body=b"", nonce=None):
    """A request signed as docs/WIRE-CONTRACT.md §2 says (conftest's independent `signature`); the raw answer."""
    timestamp, nonce = str(int(time.time())), nonce or str(uuid.uuid4())
    headers = {"X-API-Key": merchant["api_key"], "X-Timestamp": timestamp, "X-Nonce": nonce,
               "X-Signature": signature(merchant["api_secret"], method, path, "", timestamp, nonce, body)}
    if body:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base_url + path, data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read(), nonce
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), nonce


def verify_response(secret, status, headers, raw, path, request_nonce, request_body=b""):
    """What a client that turned response signing on checks, over the raw response bytes."""
    missing = [name for name in RESPONSE_HEADERS if not headers.get(name)]
    assert not missing, f"missing {missing} in {dict(headers)}"
    assert headers["X-Request-Nonce"] == request_nonce
    timestamp = headers["X-Response-Timestamp"]
    assert re.fullmatch(r"[0-9]+", timestamp) and abs(time.time() - int(timestamp)) <= 300, timestamp
    expected = response_signature(secret, status, path, request_nonce, request_body, timestamp, headers["X-Response-Nonce"], raw)
    assert hmac.compare_digest(expected, headers["X-Response-Signature"]), (expected, headers["X-Response-Signature"])
    envelope = json.loads(raw)
    assert headers["X-Request-Id"] == envelope["request_id"]
    return envelope


def signed_responses_setting(gateway, store_id):
    match = re.search(r"^signed responses\s+(\S+)\s*$", store_settings(gateway, store_id), re.M)
    assert match, store_settings(gateway, store_id)
    return match.group(1)


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_signed_responses_verify_with_an_independent_client(database, tmp_path):
    gateway = Gateway(database, tmp_path, env={**os.environ, **FAST}).start()
    try:
        merchant = gateway.merchant()
        secret, store_id = merchant["api_secret"], merchant["store_id"]
        assert signed_responses_setting(gateway, store_id) == "off", "off by default"
        gateway.cli("stores", "set", "--store", store_id, "--signed-responses", "on")
        assert signed_responses_setting(gateway, store_id) == "on"

        create_body = json.dumps({"currency": 1, "amount_cents": 2599, "order_id": "SR-1", "extra": {"k": "ü"}}).encode()
        status, headers, raw, nonce = send_signed(gateway.base_url, "POST", "/v1/checkout_intents", merchant, create_body)
        assert status == 200, raw
        created = verify_response(secret, status, headers, raw, "/v1/checkout_intents", nonce, create_body)
        assert created["code"] == 0
        intent_id = created["payload"]["allscale_checkout_intent_id"]

        status_path = f"/v1/checkout_intents/{intent_id}/status"
        status, headers, raw, nonce = send_signed(gateway.base_url, "GET", status_path, merchant)
        assert status == 200
        assert verify_response(secret, status, headers, raw, status_path, nonce)["payload"] == 1
        response_nonces = {headers["X-Response-Nonce"]}

        # Failing after the request signature verified: signed too.
        unknown = f"/v1/checkout_intents/{'f' * 24}/status"
        status, headers, raw, nonce = send_signed(gateway.base_url, "GET", unknown, merchant)
        assert status == 404, raw
        envelope = verify_response(secret, status, headers, raw, unknown, nonce)
        assert envelope["code"] != 0 and envelope["payload"] is None
        response_nonces.add(headers["X-Response-Nonce"])
        status, headers, raw, replayed = send_signed(gateway.base_url, "GET", status_path, merchant, nonce=nonce)
        assert status == 401 and replayed == nonce, raw
        assert verify_response(secret, status, headers, raw, status_path, nonce)["code"] == 20002
        response_nonces.add(headers["X-Response-Nonce"])
        assert len(response_nonces) == 3, "a fresh nonce on every response"
        # A signature that does not verify is answered before the key is known: unsigned.
        bad = dict(merchant, api_secret="sgs_" + "0" * 64)
        status, headers, raw, _ = send_signed(gateway.base_url, "GET", status_path, bad)
        assert status == 401 and not any(headers.get(name) for name in ("X-Response-Signature", "X-Response-Nonce")), dict(headers)

        gateway.cli("stores", "set", "--store", store_id, "--signed-responses", "off")
        assert signed_responses_setting(gateway, store_id) == "off"
        for method, path, body in (("GET", status_path, b""), ("GET", unknown, b""),
                                   ("POST", "/v1/checkout_intents", json.dumps({"currency": 1, "amount_cents": 100}).encode())):
            status, headers, raw, _ = send_signed(gateway.base_url, method, path, merchant, body)
            assert status in (200, 404), raw
            present = [name for name in RESPONSE_HEADERS[:4] if headers.get(name)]
            assert present == [], f"{method} {path}: {present} still sent with signing off"
    finally:
        gateway.stop()
