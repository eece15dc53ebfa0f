"""Security of the public checkout side against the built gateway and the sandbox chain (issue 16).

- Checkout links are capabilities: every public checkout route is addressed by the random token
  of `checkout_url`. A shopper who knows one order (their own) and derives its neighbours'
  ObjectIds (intent ids are time + process value + counter), or who learns another merchant's
  intent id, opens, views, selects, cancels, reports and pays nothing: every such request gets
  the same 404 as a random token, and the victims' orders do not change.
- A browser wallet's report of its transaction is only a report: `tx_hash` and `tx_from` come
  from the chain.
- Zero-value ERC-20 `Transfer` events (anyone can emit one "from" any address with
  `transferFrom(X, deposit, 0)`) are ignored: they neither reject an order through KYT nor hold
  its money nor keep it from ending.
- Late dust below `payments.late.minimum` is held — nothing forwarded, no gas spent — until late
  money to the intent reaches the minimum or the operator releases it.

Every request goes to the gateway on loopback; every wait is bounded."""
import http.client
import json
import re
import secrets
import time
import urllib.parse
import uuid

import pytest
from eth_account import Account
from web3 import Web3

from conftest import (backends, checkout_path, create_intent, random_address, select_deposit, settled, setup_merchant, show,
                      signed_request, start_gateway, wait_for)

UNITS = 10**6  # the sandbox USDT has 6 decimals
PASSWORD = "correct horse battery"
TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ERC20 = [{"name": "transferFrom", "type": "function", "stateMutability": "nonpayable",
          "inputs": [{"name": "_from", "type": "address"}, {"name": "_to", "type": "address"}, {"name": "_value", "type": "uint256"}],
          "outputs": [{"name": "", "type": "bool"}]}]


# ---- a browser-like client ---------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def envelope(self):
        """(code, error message, payload) of a JSON envelope; None for anything else."""
        try:
            value = self.json()
            return value["code"], (value.get("error") or {}).get("message"), value.get("payload")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def __repr__(self):
        return f"HTTP {self.status} {self.body[:300]!r}"


class Client:
    """One browser on one loopback source address (the public routes are rate-limited per client
    address; each probe set gets its own so the attack is not cut short by 429s): its own
    cookies, redirects not followed."""

    def __init__(self, port, source="127.0.0.1", cookies=None):
        self.port = port
        self.source = source
        self.cookies = dict(cookies or {})

    def clone(self, source):
        """Another client with this one's cookies, on another loopback source address."""
        return Client(self.port, source, self.cookies)

    def request(self, method, path, body=None, headers=None):
        for _ in range(20):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))
            all_headers = {"Accept-Language": "en-US"}
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            all_headers.update(headers or {})
            try:
                connection.request(method, path, body=body, headers=all_headers)
                response = connection.getresponse()
                data = response.read().decode()
                for header in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    value = rest.split(";")[0]
                    if "max-age=0" in header.lower() or not value:
                        self.cookies.pop(name.strip(), None)
                    else:
                        self.cookies[name.strip()] = value
            finally:
                connection.close()
            if response.status == 429:  # rate-limited: wait as told, then ask again
                time.sleep(int(response.headers.get("Retry-After") or 1))
                continue
            return Reply(response.status, response.headers, data)
        raise AssertionError(f"{method} {path}: still rate-limited")

    def get(self, path):
        return self.request("GET", path)

    def form(self, path, fields, headers=None):
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_json(self, path, value, headers=None):
        return self.request("POST", path, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})


def sign_up(client):
    """A shopper account, logged in on `client`; returns the session's form token."""
    page = client.get("/account/signup")
    assert page.status == 200, page
    email = f"probe-{uuid.uuid4().hex[:8]}@example.com"
    reply = client.form("/account/signup", {"csrf": CSRF.search(page.body).group(1), "next": "/account", "email": email,
                                            "password": PASSWORD, "password2": PASSWORD})
    assert reply.status in (200, 303), reply
    home = client.get("/account")
    assert home.status == 200 and "deposit-address" in home.body, home
    return CSRF.search(home.body).group(1)


# ---- chain helpers -----------------------------------------------------------------------------

def transfer_from(chain, holder, to, value=0, account=2, index=0):
    """`transferFrom(holder, to, value)` on the sandbox USDT, sent (and paid for) by test account
    `account`: with value 0 it needs no allowance, so anyone can make a `Transfer` event appear
    to come from any address. Returns the transaction hash once mined."""
    w3 = Web3(Web3.HTTPProvider(chain.chain(index)["rpc_url"], request_kwargs={"timeout": 30}))
    key = chain.chain(index)["accounts"][account]["private_key"]
    sender = Account.from_key(key)
    token = w3.eth.contract(address=Web3.to_checksum_address(chain.token("USDT", index)["contract"]), abi=ERC20)
    tx = token.functions.transferFrom(Web3.to_checksum_address(holder), Web3.to_checksum_address(to), value).build_transaction({
        "chainId": chain.chain(index)["chain_id"], "from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address),
        "gas": 100_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    tx_hash = w3.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    logs = [log for log in receipt["logs"] if Web3.to_hex(log["topics"][0]) == TRANSFER_TOPIC]
    assert len(logs) == 1 and int(Web3.to_hex(logs[0]["data"]), 16) == value
    assert Web3.to_hex(logs[0]["topics"][1])[-40:] == holder.lower()[2:], "the event names the holder as sender"
    return Web3.to_hex(tx_hash)


def payer(chain, account=1, index=0):
    return chain.chain(index)["accounts"][account]["address"].lower()


def hot_wallet(chain, index=0):
    return chain.chain(index)["accounts"][9]["address"]


def denylisted_gateway(database, directory, chain, flagged, extra=None):
    """A gateway screening senders against a denylist of `flagged` addresses."""
    denylist = directory / "denylist.txt"
    denylist.write_text("# sanctioned addresses\n" + "".join(f"{address}\n" for address in flagged))
    chain.fee_wallet = random_address()
    return start_gateway(database, directory, chain, {
        "STABLEGATE_KYT_PROVIDER": "denylist", "STABLEGATE_KYT_DENYLIST": str(denylist), **(extra or {})}).start()


# ---- Attack 1: neighbouring and foreign intent ids ----------------------------------------------

def neighbour(object_id, delta):
    """The ObjectId `delta` steps away in its 3-byte counter."""
    counter = (int(object_id[18:], 16) + delta) % (1 << 24)
    return object_id[:18] + format(counter, "06x")


def full(gateway, merchant, intent_id):
    status, _, reply = signed_request(gateway.base_url, "GET", f"/v1/checkout_intents/{intent_id}", merchant["api_key"], merchant["api_secret"])
    assert status == 200 and reply["code"] == 0, reply
    return reply["payload"]


def bare_status(gateway, merchant, intent_id):
    status, _, reply = signed_request(gateway.base_url, "GET", f"/v1/checkout_intents/{intent_id}/status", merchant["api_key"], merchant["api_secret"])
    assert status == 200 and reply["code"] == 0, reply
    return reply["payload"]


def probes(chain, checkout_csrf, session_csrf):
    """Every public checkout route with a valid request, as (name, kind, session?, send(client, base))
    where `base` is `/checkout/{whatever}`. `session` says which client: the logged-in shopper or
    a visitor with only the checkout's CSRF cookie."""
    option = f"{chain.chain(0)['chain_id']}:1"
    report = {"tx_hash": "0x" + "ab" * 32, "from": payer(chain)}
    return [
        ("GET page", "html", False, lambda c, b: c.get(b)),
        ("GET ?cancel=1", "html", False, lambda c, b: c.get(b + "?cancel=1")),
        ("GET ?change=1", "html", False, lambda c, b: c.get(b + "?change=1")),
        ("GET ?topup=1", "html", False, lambda c, b: c.get(b + "?topup=1")),
        ("GET /state", "json", False, lambda c, b: c.get(b + "/state")),
        ("POST /deposit", "json", False, lambda c, b: c.post_json(b + "/deposit", {"chain_id": chain.chain(0)["chain_id"], "stable_coin": 1})),
        ("POST /select", "html", False, lambda c, b: c.form(b + "/select", {"csrf": checkout_csrf, "option": option})),
        ("POST /cancel", "html", False, lambda c, b: c.form(b + "/cancel", {"csrf": checkout_csrf})),
        ("POST /wallet-tx", "json", False, lambda c, b: c.post_json(b + "/wallet-tx", report, {"X-CSRF-Token": checkout_csrf})),
        ("GET /account (logged out)", "html", False, lambda c, b: c.get(b + "/account")),
        ("POST /account/review (logged out)", "html", False, lambda c, b: c.form(b + "/account/review", {"csrf": session_csrf, "option": option})),
        ("POST /account/approve (logged out)", "html", False, lambda c, b: c.form(b + "/account/approve", {"csrf": session_csrf, "option": option})),
        ("GET /account (logged in)", "html", True, lambda c, b: c.get(b + "/account")),
        ("POST /account/review (logged in)", "html", True, lambda c, b: c.form(b + "/account/review", {"csrf": session_csrf, "option": option})),
        ("POST /account/approve (logged in)", "html", True, lambda c, b: c.form(b + "/account/approve", {"csrf": session_csrf, "option": option})),
    ]


def answer(reply, word):
    """What a client can tell from a reply, with the probed path segment (`word`), form tokens
    and request ids blanked out: answers that differ here tell an attacker something."""
    body = CSRF.sub('name="csrf" value=""', reply.body.replace(word, "{token}"))
    if reply.envelope() is not None:
        body = re.sub(r'"request_id":"[^"]*"', '"request_id":""', body)
    location = urllib.parse.unquote(reply.headers.get("Location") or "").replace(word, "{token}")
    return reply.status, location, body


def as_specified(kind, reply):
    """The specified answer to an unknown token: the checkout's not-found page with 404 on HTML
    routes, the 404 envelope 50001 "checkout not found" on JSON routes."""
    if kind == "json":
        return reply.status == 404 and reply.envelope() == (50001, "checkout not found", None)
    return (reply.status == 404 and reply.headers.get("Content-Type", "").startswith("text/html")
            and "checkout not found" in reply.body.lower())


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_neighbouring_and_foreign_intent_ids_open_no_checkout_route(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain).start()
    try:
        shop = setup_merchant(gateway, random_address())
        other_shop = setup_merchant(gateway, random_address())
        first, mine, third = (create_intent(gateway, shop, 1000 + i, order_id=f"A-{i}") for i in range(3))
        foreign = create_intent(gateway, other_shop, 2000, order_id="B-1")
        victims = {first: shop, third: shop, foreign: other_shop}

        # The URL is {public_url}/checkout/{token}: ≥ 144 bits of base64url, not the intent id,
        # the same in the create response, the full GET and `intents show`.
        tokens = {}
        for intent_id, merchant in [*victims.items(), (mine, shop)]:
            path = checkout_path(gateway, intent_id)
            token = path.removeprefix("/checkout/")
            assert path == "/checkout/" + token and TOKEN.fullmatch(token), path
            assert token != intent_id and intent_id not in path
            assert full(gateway, merchant, intent_id)["checkout_url"] == gateway.base_url + path
            # (the CLI knows the public URL from its own configuration, not the server's port)
            assert urllib.parse.urlsplit(show(gateway, intent_id)["intent"]["checkout_url"]).path == path
            tokens[intent_id] = token
        assert len(set(tokens.values())) == 4

        before = {intent_id: (full(gateway, merchant, intent_id), len(show(gateway, intent_id)["transitions"]))
                  for intent_id, merchant in victims.items()}
        assert all(payload["status"] == 1 and payload["tx_hash"] is None and payload["deposit_address"] is None
                   for payload, _ in before.values())

        # The attacker's own order opens with its token: the page, its state and its CSRF pair.
        visitor = Client(gateway.port)
        own = checkout_path(gateway, mine)
        page = visitor.get(own)
        assert page.status == 200 and "Choose how to pay" in page.body, page
        checkout_csrf = CSRF.search(page.body).group(1)
        assert visitor.cookies.get("sg_csrf") == checkout_csrf, visitor.cookies
        state = visitor.get(own + "/state")
        assert state.status == 200 and state.json()["code"] == 0 and state.json()["payload"]["id"] == mine, state
        shopper = Client(gateway.port, cookies=visitor.cookies)
        session_csrf = sign_up(shopper)
        routes = probes(chain, checkout_csrf, session_csrf)

        # The baseline: what a random (well-formed, unknown) token gets on every route.
        random_token = secrets.token_urlsafe(18)
        assert len(random_token) == 24
        baseline = {}
        for name, kind, logged_in, send in routes:
            baseline[name] = send((shopper if logged_in else visitor).clone("127.0.0.2"), "/checkout/" + random_token)

        # Every neighbour of the attacker's own id, the victims' real ids, the attacker's own id,
        # and malformed tokens: each answered exactly like the random token, on every route.
        targets = [neighbour(mine, delta) for delta in (-2, -1, 1, 2)] + [first, third, foreign, mine, "not-a-real-id", random_token[:-1]]
        targets = list(dict.fromkeys(targets))
        leaks = []
        for number, target in enumerate(targets):
            source = f"127.0.0.{10 + number}"
            for name, kind, logged_in, send in routes:
                reply = send((shopper if logged_in else visitor).clone(source), "/checkout/" + target)
                if answer(reply, target) != answer(baseline[name], random_token):
                    leaks.append(f"- {name} /checkout/{target}: expected what a random token gets, {baseline[name]!r}; got {reply!r}")
        assert not leaks, "routes that answer an intent id or a malformed token differently from a random token:\n" + "\n".join(leaks)

        # Nothing changed for any victim.
        for intent_id, merchant in victims.items():
            payload, transitions = before[intent_id]
            assert bare_status(gateway, merchant, intent_id) == 1
            now = full(gateway, merchant, intent_id)
            assert now == payload, f"{intent_id} changed"
            assert now["tx_hash"] is None and now["deposit_address"] is None and now["payment_method_type"] == payload["payment_method_type"]
            data = show(gateway, intent_id)
            assert len(data["transitions"]) == transitions and data["transfers"] == [] and data["intent"]["status"] == 1

        # The same routes with the attacker's own token do work.
        assert visitor.post_json(own + "/deposit", {"chain_id": chain.chain(0)["chain_id"], "stable_coin": 1}).json()["code"] == 0
        reply = visitor.form(own + "/select", {"csrf": checkout_csrf, "option": f"{chain.chain(0)['chain_id']}:1"})
        assert reply.status == 303 and reply.headers["Location"].endswith(own), reply
        reply = visitor.post_json(own + "/wallet-tx", {"tx_hash": "0x" + "cd" * 32, "from": payer(chain)}, {"X-CSRF-Token": checkout_csrf})
        assert reply.status == 200 and reply.json()["code"] == 0, reply
        reply = shopper.get(own + "/account")
        assert reply.status == 200 and "not found" not in reply.body.lower(), reply
        reply = visitor.get(own + "?cancel=1")
        assert reply.status == 200 and "Cancel this payment?" in reply.body, reply
        reply = visitor.form(own + "/cancel", {"csrf": checkout_csrf})
        assert reply.status == 303, reply
        intent = show(gateway, mine)["intent"]
        assert intent["status"] == -4
        assert intent["tx_hash"] is None and intent["tx_from"] is None, "the page's wallet report set nothing"

        # And that uniform answer is the specified 404 on every route.
        wrong = [f"- {name} /checkout/{{unknown token}}: expected {'the 404 envelope 50001' if kind == 'json' else 'the HTML not-found page with 404'}; "
                 f"got {baseline[name]!r} (Location: {baseline[name].headers.get('Location')})"
                 for name, kind, _, _ in routes if not as_specified(kind, baseline[name])]
        assert not wrong, "routes whose answer to an unknown token is not the specified 404:\n" + "\n".join(wrong)
    finally:
        gateway.stop()


# ---- a browser wallet's report is only a report ------------------------------------------------

def test_a_wallet_report_sets_nothing_the_chain_does_not_show(tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain).start()
    try:
        merchant = setup_merchant(gateway, random_address())

        def report(intent_id, tx_hash, sender):
            client = Client(gateway.port)
            page = client.get(checkout_path(gateway, intent_id))
            assert page.status == 200, page
            # The page's script sends the double-submit token from `data-csrf`, the cookie's value.
            token = re.search(r'data-csrf="([^"]+)"', page.body).group(1)
            assert token == client.cookies["sg_csrf"]
            reply = client.post_json(checkout_path(gateway, intent_id) + "/wallet-tx", {"tx_hash": tx_hash, "from": sender},
                                     {"X-CSRF-Token": token})
            assert reply.status == 200 and reply.json()["code"] == 0, reply

        # A report of a transaction that does not exist, from a made-up sender: nothing is set,
        # and the wallet-scan payment that follows is recorded as the chain shows it.
        scanned = create_intent(gateway, merchant, 1000)
        deposit = select_deposit(gateway, scanned, chain)
        report(scanned, "0x" + secrets.token_hex(32), random_address())
        intent = show(gateway, scanned)["intent"]
        assert (intent["tx_hash"], intent["tx_from"], intent["payment_method_type"], intent["status"]) == (None, None, 0, 3), intent
        paid = chain.pay(deposit, 10 * UNITS)
        chain.mine(2)
        intent = wait_for("CONFIRMED and settled", settled(gateway, scanned))["intent"]
        assert intent["tx_hash"] == paid and intent["tx_from"].lower() == payer(chain)
        assert intent["payment_method_type"] == 1, "WALLET_SCAN: no reported transaction paid it"

        # A report naming the real transaction (still unmined) but another sender: nothing until
        # the chain shows it; then WALLET_CONNECT, with the sender the chain shows.
        connected = create_intent(gateway, merchant, 1000)
        deposit = select_deposit(gateway, connected, chain)
        chain.rpc("sandbox_holdTransactions", [True])
        try:
            pending = chain.pay(deposit, 10 * UNITS)
            report(connected, pending, random_address())
            intent = show(gateway, connected)["intent"]
            assert (intent["tx_hash"], intent["tx_from"], intent["payment_method_type"]) == (None, None, 0), intent
        finally:
            chain.rpc("sandbox_holdTransactions", [False])
            chain.rpc("sandbox_releaseTransactions")
        chain.mine(2)
        intent = wait_for("CONFIRMED and settled", settled(gateway, connected))["intent"]
        assert intent["tx_hash"] == pending and intent["tx_from"].lower() == payer(chain)
        assert intent["payment_method_type"] == 2

        # A browser's report may also arrive after the watcher saw its transaction (the sandbox
        # mines at once): the chain already proves it, so it is WALLET_CONNECT all the same.
        late_report = create_intent(gateway, merchant, 1000)
        deposit = select_deposit(gateway, late_report, chain)
        sent = chain.pay(deposit, 10 * UNITS)
        wait_for("ON_CHAIN", lambda: show(gateway, late_report)["intent"]["status"] == 10)
        report(late_report, sent, random_address())
        intent = wait_for("WALLET_CONNECT", lambda: (i := show(gateway, late_report)["intent"])["payment_method_type"] == 2 and i, seconds=15)
        assert intent["tx_hash"] == sent and intent["tx_from"].lower() == payer(chain)
        chain.mine(2)
        intent = wait_for("CONFIRMED and settled", settled(gateway, late_report))["intent"]
        assert intent["payment_method_type"] == 2 and intent["tx_from"].lower() == payer(chain)
    finally:
        gateway.stop()


# ---- zero-value transfers ------------------------------------------------------------------------

def held_transfers(gateway):
    return [json.loads(line) for line in gateway.cli("transfers", "list", "--held").stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_zero_value_transfers_from_a_denylisted_address_neither_reject_nor_hold_an_order(database, tmp_path, chain):
    flagged = random_address()
    sanctioned_payer = 5  # a funded test account, denylisted too: the control that KYT is on
    gateway = denylisted_gateway(database, tmp_path, chain, [flagged, chain.chain(0)["accounts"][sanctioned_payer]["address"]])
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        intent_id = create_intent(gateway, merchant, 1000)
        deposit = select_deposit(gateway, intent_id, chain)
        sentinel = create_intent(gateway, merchant, 1000)
        sentinel_deposit = select_deposit(gateway, sentinel, chain)

        # Before the payment: a zero-value Transfer "from" the denylisted address.
        spoof_before = transfer_from(chain, flagged, deposit)
        paid = chain.pay(deposit, 10 * UNITS)
        data = wait_for("ON_CHAIN", lambda: (d := show(gateway, intent_id))["intent"]["status"] == 10 and d)
        assert data["intent"]["tx_hash"] == paid and data["intent"]["tx_from"].lower() == payer(chain), data["intent"]
        # After it, while it waits for its confirmations: another.
        spoof_after = transfer_from(chain, flagged, deposit)
        chain.mine(2)
        data = wait_for("CONFIRMED and settled", settled(gateway, intent_id))
        intent = data["intent"]
        assert intent["tx_hash"] == paid and intent["tx_from"].lower() == payer(chain)
        assert intent["settlement_status"] == "settled" and intent["error_message"] is None
        assert [t["tx_hash"] for t in data["transfers"]] == [paid], "zero-value transfers are not recorded"
        assert [t["to"] for t in data["transitions"]] == ["CREATED", "TEMP_WALLET_RECEIVED", "ON_CHAIN", "CONFIRMED"], data["transitions"]
        assert chain.balance(wallet) == 9_900_000

        # After it ended: a third. Then a real payment from a denylisted account to another order
        # (the sentinel): held for the operator's review once confirmed, which shows KYT is on and
        # the watcher has passed the third's block, confirmations included. Still nothing recorded or held.
        spoof_late = transfer_from(chain, flagged, deposit)
        rejected_tx = chain.pay(sentinel_deposit, 10 * UNITS, account=sanctioned_payer)
        chain.mine(2)
        wait_for("the sentinel held for review", lambda: (i := show(gateway, sentinel)["intent"])["status"] == 4
                 and i["settlement_status"] == "held")
        assert [t["tx_hash"] for t in held_transfers(gateway)] == [rejected_tx]
        data = show(gateway, intent_id)
        assert [t["tx_hash"] for t in data["transfers"]] == [paid]
        assert data["intent"]["late_paid_amount"] is None and data["intent"]["settlement_status"] == "settled"
        assert len(data["settlements"]) == 1
        spoofs = {spoof_before, spoof_after, spoof_late}
        assert not [t for t in held_transfers(gateway) if t["tx_hash"] in spoofs or t["intent_id"] == intent_id], held_transfers(gateway)
    finally:
        gateway.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_an_order_that_only_gets_zero_value_transfers_ends_like_one_that_got_nothing(database, tmp_path, chain):
    flagged = random_address()
    gateway = denylisted_gateway(database, tmp_path, chain, [flagged], {"STABLEGATE_PAYMENTS_WINDOW": "8"})
    try:
        merchant = setup_merchant(gateway, random_address())
        zero = create_intent(gateway, merchant, 1000)
        nothing = create_intent(gateway, merchant, 1000)
        deposit = select_deposit(gateway, zero, chain)
        select_deposit(gateway, nothing, chain)
        chain.pay(deposit, 0)  # a plain zero-value transfer from a customer account
        transfer_from(chain, flagged, deposit)  # and a spoofed one from a denylisted address
        chain.mine(2)
        seen = set()

        def ended():
            chain.mine(1)  # blocks keep coming, as on a real chain
            status = show(gateway, zero)["intent"]["status"]
            seen.add(status)
            return status not in (1, 2, 3, 10)
        wait_for("the zero-value order to end", ended, seconds=60)
        wait_for("the empty order to end", lambda: show(gateway, nothing)["intent"]["status"] == -5, seconds=30)
        intent, control = show(gateway, zero)["intent"], show(gateway, nothing)["intent"]
        assert 10 not in seen, f"a zero-value transfer put the order ON_CHAIN: {seen}"
        assert intent["status"] == control["status"] == -5, (intent, control)
        assert intent["error_message"] == control["error_message"] == "payment window expired with nothing received"
        assert intent["tx_hash"] is None and intent["tx_from"] is None
        assert show(gateway, zero)["transfers"] == []
    finally:
        gateway.stop()


# ---- late dust -------------------------------------------------------------------------------------

def dust_transfers(data):
    return [t for t in data["transfers"] if t["kind"] == "dust"]


def held_dust(gateway):
    """Held dust as the operator lists it (`stablegate transfers list --dust`, one JSON object a
    line); `--held` lists it too."""
    listed = [json.loads(line) for line in gateway.cli("transfers", "list", "--dust").stdout.splitlines() if line.strip()]
    held = {(t["intent_id"], t["tx_hash"]) for t in held_transfers(gateway)}
    assert all(t["kind"] == "dust" and not t["credited"] and (t["intent_id"], t["tx_hash"]) in held for t in listed), (listed, held)
    return listed


def release_held(gateway, chain, *selector):
    """The operator's release (`stablegate transfers release-dust --intent ID | --all`)."""
    return gateway.cli("transfers", "release-dust", *selector, "--chains", str(chain.chains_file)).stdout


def paid_and_settled(gateway, chain, merchant, count, amount=10 * UNITS):
    intents = [create_intent(gateway, merchant, amount // 10_000) for _ in range(count)]
    deposits = [select_deposit(gateway, intent_id, chain) for intent_id in intents]
    for deposit in deposits:
        chain.pay(deposit, amount)
    chain.mine(2)
    for intent_id in intents:
        wait_for("CONFIRMED and settled", settled(gateway, intent_id))
    return intents, deposits


def quiet_for(gateway, chain, seconds=3):
    """Lets the gateway's sweeper and watcher run a few passes."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        chain.mine(1)
        time.sleep(0.5)


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_late_dust_is_held_until_late_money_reaches_the_minimum(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain).start()  # payments.late.minimum: the default, 1
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        (intent_id,), (deposit,) = paid_and_settled(gateway, chain, merchant, 1)
        hot_nonce = chain.nonce(hot_wallet(chain))
        merchant_balance = chain.balance(wallet)

        dust_tx = chain.pay(deposit, 1)  # 0.000001 USDT
        chain.mine(2)
        data = wait_for("the dust recorded", lambda: (d := show(gateway, intent_id)) and
                        [t for t in dust_transfers(d) if t["state"] == "confirmed"] and d)
        quiet_for(gateway, chain)
        data = show(gateway, intent_id)
        [dust] = dust_transfers(data)
        assert dust["tx_hash"] == dust_tx and dust["amount"] == "0.000001" and not dust["credited"], dust
        assert len(data["settlements"]) == 1 and data["intent"]["late_paid_amount"] is None
        assert data["intent"]["status"] == 20 and data["intent"]["settlement_status"] == "settled"
        assert chain.nonce(hot_wallet(chain)) == hot_nonce, "no gas was sent for dust"
        assert chain.balance(deposit) == 1 and chain.balance(wallet) == merchant_balance
        assert [(h["intent_id"], h["tx_hash"]) for h in held_dust(gateway)] == [(intent_id, dust_tx)]

        # Late money reaching the minimum takes the dust along: one late payment of both.
        late_tx = chain.pay(deposit, 2 * UNITS)
        chain.mine(2)
        data = wait_for("the late payment forwarded", lambda: (d := show(gateway, intent_id)) and
                        d["intent"]["late_paid_amount"] == "2.000001" and d["intent"]["settlement_status"] == "settled" and d)
        assert len(data["settlements"]) == 2
        late = data["settlements"][-1]
        assert late["gross"] == "2000001" and late["state"] == "settled", late
        assert {t["tx_hash"] for t in data["transfers"] if t["credited"]} >= {dust_tx, late_tx}
        assert chain.balance(wallet) == merchant_balance + int(late["net"])
        assert chain.balance(deposit) == 0
        assert held_dust(gateway) == []
    finally:
        gateway.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_held_dust_is_forwarded_when_the_operator_releases_it(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain, {"STABLEGATE_PAYMENTS_LATE_MINIMUM": "1"}).start()
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        (first, second, third), deposits = paid_and_settled(gateway, chain, merchant, 3)
        hot_nonce = chain.nonce(hot_wallet(chain))
        merchant_balance = chain.balance(wallet)

        for deposit, units in zip(deposits, (500_000, 600_000, 300_000)):  # 0.50, 0.60 and 0.30 USDT
            chain.pay(deposit, units)
        chain.mine(2)
        for intent_id in (first, second, third):
            wait_for("the dust recorded", lambda: [t for t in dust_transfers(show(gateway, intent_id)) if t["state"] == "confirmed"])
        quiet_for(gateway, chain)
        assert chain.nonce(hot_wallet(chain)) == hot_nonce, "no gas was sent for dust"
        assert chain.balance(wallet) == merchant_balance
        assert sorted(h["intent_id"] for h in held_dust(gateway)) == sorted([first, second, third])

        # More late dust to the second order adds up to the minimum: both forwarded together.
        chain.pay(deposits[1], 500_000)
        chain.mine(2)
        wait_for("the second order's late money forwarded", lambda: (d := show(gateway, second)) and
                 d["intent"]["late_paid_amount"] == "1.10" and d["intent"]["settlement_status"] == "settled")
        assert sorted(h["intent_id"] for h in held_dust(gateway)) == sorted([first, third])

        # The operator releases one order's dust, then all that is left.
        release_held(gateway, chain, "--intent", first)
        wait_for("the first order's dust forwarded", lambda: (d := show(gateway, first)) and
                 d["intent"]["late_paid_amount"] == "0.50" and d["intent"]["settlement_status"] == "settled")
        assert [h["intent_id"] for h in held_dust(gateway)] == [third]
        assert show(gateway, third)["intent"]["late_paid_amount"] is None
        release_held(gateway, chain, "--all")
        wait_for("the third order's dust forwarded", lambda: (d := show(gateway, third)) and
                 d["intent"]["late_paid_amount"] == "0.30" and d["intent"]["settlement_status"] == "settled")
        assert held_dust(gateway) == []
        nets = sum(int(s["net"]) for intent_id in (first, second, third) for s in show(gateway, intent_id)["settlements"][1:])
        assert chain.balance(wallet) == merchant_balance + nets
        assert all(chain.balance(deposit) == 0 for deposit in deposits)
    finally:
        gateway.stop()
