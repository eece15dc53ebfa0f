"""End-to-end fixtures: the built `stablegate` binary, real databases, a running gateway."""
import hashlib
import hmac
import http.cookiejar
import http.server
import threading
import re
import urllib.parse
import base64
import json
import sys
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("STABLEGATE_BINARY", ROOT / ".build" / "debug" / "stablegate"))
POSTGRES_URL = os.environ.get("STABLEGATE_TEST_POSTGRES_URL")


def backends():
    return ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, env=None, cwd=None, check=True):
    """Runs the stablegate binary and returns the completed process."""
    result = subprocess.run([str(BINARY), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"stablegate {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class FxRatesHandler(http.server.BaseHTTPRequestHandler):
    """An HTTP FX provider (README "FX rates"): USD-based `rates`, as of the moment of each request."""
    rates = {"USD": "1", "EUR": "0.9"}

    def do_GET(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body = json.dumps({"base": "USD", "as_of": now, "rates": self.rates}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_http(port, handler):
    """A threaded HTTP server on loopback `port` with `handler`, serving in the background (a
    merchant's receiver in the tests)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_http(server):
    if server:
        server.shutdown()
        server.server_close()


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True, timeout=60)


@pytest.fixture
def database(request, tmp_path):
    """A fresh database URL for the requested backend, dropped afterwards."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:{tmp_path}/stablegate.sqlite"
        return
    if not POSTGRES_URL:
        pytest.fail("STABLEGATE_TEST_POSTGRES_URL is not set; run the README's test command")
    name = "sge2e_" + uuid.uuid4().hex[:16]
    psql(POSTGRES_URL, f"CREATE DATABASE {name}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    # A gateway that was just stopped (or SIGKILLed) may still be closing connections; FORCE
    # ends them, but a reconnect racing the drop fails it, so try a few times.
    for attempt in range(5):
        result = subprocess.run(["psql", POSTGRES_URL, "-v", "ON_ERROR_STOP=1", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                                capture_output=True, text=True, timeout=60)
        if result.returncode == 0:
            break
        time.sleep(1)
    else:
        raise AssertionError(f"could not drop {name}: {result.stderr}")


class Gateway:
    """A `stablegate serve` process on a free loopback port."""

    def __init__(self, database, data_dir, extra_args=(), env=None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database = database
        self.data_dir = str(data_dir)
        self.log_path = Path(data_dir) / f"serve-{self.port}.log"
        self.env = env
        self.args = ["serve", "--port", str(self.port), "--database", database, "--data-dir", self.data_dir, *extra_args]
        self.binary = BINARY
        self.cwd = None
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(self.binary), *self.args], stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                        cwd=self.cwd)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gateway did not become healthy:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise AssertionError("gateway did not stop on SIGTERM")
        self.log.close()

    def cli(self, *args, check=True):
        return run_cli(*args, "--database", self.database, "--data-dir", self.data_dir, check=check, env=self.env)

    def merchant(self, name="E2E Shop"):
        return json.loads(self.cli("merchants", "create", "--name", name, "--json").stdout)

    def logs(self):
        return self.log_path.read_text()


@pytest.fixture
def gateway(database, tmp_path):
    instance = Gateway(database, tmp_path).start()
    yield instance
    instance.stop()


def signature(secret, method, path, query, timestamp, nonce, body):
    """The request signature (docs/WIRE-CONTRACT.md §2.2, §2.3), implemented here independently of
    the gateway's code: used to sign requests and to check webhooks."""
    canonical = "\n".join([method, path, query, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return "v1=" + base64.b64encode(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()


def signed_request(base_url, method, path, key, secret, body=b"", query="", nonce=None, timestamp=None, headers=None):
    """Signs with an independent Python implementation of the signing scheme (docs/WIRE-CONTRACT.md §2.2, §2.3) and sends."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    nonce = nonce or str(uuid.uuid4())
    all_headers = {"X-API-Key": key, "X-Timestamp": timestamp, "X-Nonce": nonce,
                   "X-Signature": signature(secret, method, path, query, timestamp, nonce, body)}
    if body:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    url = base_url + path + ("?" + query if query else "")
    request = urllib.request.Request(url, data=body if body else None, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


# ---- the sandbox chain and payment helpers (tools/sandbox-chain) ----------------------------

from eth_account import Account  # noqa: E402  (the venv has it: the sandbox chain needs it)

CHAIN_SCRIPT = ROOT / "tools" / "sandbox-chain" / "sandbox_chain.py"


class SandboxChain:
    """tools/sandbox-chain on free ports, 2 confirmations, 200 ms polling."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.chains_file = self.directory / "chains.json"
        self.state_file = self.directory / "state.json"
        # The chains listen on PORT and PORT+1; PORT is free when picked, PORT+1 may be some
        # client's ephemeral port. Then the process exits at once: pick again.
        for _ in range(5):
            self.port = free_port()
            if self.port >= 65000:
                continue
            self.process = subprocess.Popen(
                [sys.executable, str(CHAIN_SCRIPT), "--port", str(self.port), "--chains-file", str(self.chains_file),
                 "--state-file", str(self.state_file), "--confirmations", "2", "--poll-interval-ms", "200", "--exit-with-parent"],
                stdout=open(self.directory / "chain.log", "w"), stderr=subprocess.STDOUT)
            deadline = time.time() + 60
            while not self.state_file.exists() and self.process.poll() is None:
                assert time.time() < deadline, (self.directory / "chain.log").read_text()
                time.sleep(0.1)
            if self.state_file.exists():
                break
            log = (self.directory / "chain.log").read_text()
            assert "Address already in use" in log, log
        else:
            raise AssertionError("the sandbox chain found no free pair of ports in 5 tries")
        self.state = json.loads(self.state_file.read_text())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def chain(self, index=0):
        return self.state["chains"][index]

    def rpc(self, method, params=(), index=0):
        import urllib.request
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.chain(index)["rpc_url"], data=body, headers={"Content-Type": "application/json"})
        reply = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert "error" not in reply, reply
        return reply["result"]

    def mine(self, count, index=0):
        self.rpc("evm_mine", [count], index)

    def token(self, symbol="USDT", index=0):
        return next(t for t in self.chain(index)["tokens"] if t["symbol"] == symbol)

    def balance(self, owner, symbol="USDT", index=0):
        data = "0x70a08231" + "0" * 24 + owner.lower()[2:]
        return int(self.rpc("eth_call", [{"to": self.token(symbol, index)["contract"], "data": data}, "latest"], index), 16)

    def nonce(self, address, index=0):
        return int(self.rpc("eth_getTransactionCount", [address, "latest"], index), 16)

    def pay(self, to, units, account=1, symbol="USDT", index=0):
        """A customer's ERC-20 transfer, signed with eth-account."""
        key = self.chain(index)["accounts"][account]["private_key"]
        sender = Account.from_key(key)
        data = "0xa9059cbb" + "0" * 24 + to.lower()[2:] + format(units, "064x")
        tx = {"chainId": self.chain(index)["chain_id"], "nonce": self.nonce(sender.address), "to": self.token(symbol, index)["contract"],
              "value": 0, "data": data, "gas": 100_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "type": 2}
        return self.rpc("eth_sendRawTransaction", ["0x" + Account.sign_transaction(tx, key).raw_transaction.hex()], index)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    instance = SandboxChain(tmp_path_factory.mktemp("chain"))
    yield instance
    instance.stop()


def random_address():
    return Account.create().address


def start_gateway(database, directory, chain, extra_env=None, chains_file=None):
    """A gateway (not started) watching the sandbox chain, or what `chains_file` says of it."""
    env = dict(os.environ)
    env.update({
        "STABLEGATE_WALLET_HOT_KEY": chain.chain(0)["accounts"][9]["private_key"],
        "STABLEGATE_WALLET_FEE_ADDRESS": chain.fee_wallet,
        "STABLEGATE_CHAINS_LEASE_TTL": "2",
        "STABLEGATE_API_KEY_CACHE_TTL": "0",
    })
    env.update(extra_env or {})
    return Gateway(database, directory, extra_args=["--chains", str(chains_file or chain.chains_file)], env=env)


def setup_merchant(gateway, wallet):
    merchant = gateway.merchant()
    gateway.cli("stores", "set", "--store", merchant["store_id"], "--wallet", wallet)
    return merchant


# Checkout pages are addressed by the capability token of the intent's `checkout_url`, never by
# the intent id. The create response's URL is remembered here by intent id (ids are unique);
# an intent created some other way is looked up with `stablegate intents show`.
CHECKOUT_PATHS = {}


def create_intent(gateway, merchant, amount_cents=1000, **fields):
    request = {"stable_coin": 1, "amount_cents": amount_cents, "order_id": "e2e-" + uuid.uuid4().hex[:8]}
    request.update(fields)
    if "currency" in fields:
        request.pop("stable_coin")
    body = json.dumps(request).encode()
    status, _, reply = signed_request(gateway.base_url, "POST", "/v1/checkout_intents", merchant["api_key"], merchant["api_secret"], body=body)
    assert reply["code"] == 0, reply
    intent_id = reply["payload"]["allscale_checkout_intent_id"]
    CHECKOUT_PATHS[intent_id] = urllib.parse.urlsplit(reply["payload"]["checkout_url"]).path
    return intent_id


def checkout_path(gateway, intent_id):
    """`/checkout/{token}`: the path of the intent's checkout_url."""
    if intent_id not in CHECKOUT_PATHS:
        CHECKOUT_PATHS[intent_id] = urllib.parse.urlsplit(show(gateway, intent_id)["intent"]["checkout_url"]).path
    return CHECKOUT_PATHS[intent_id]


def checkout_url(gateway, intent_id, suffix=""):
    """The intent's checkout page on this gateway (`suffix`: `/state`, `?cancel=1`, …)."""
    return gateway.base_url + checkout_path(gateway, intent_id) + suffix


def select_deposit(gateway, intent_id, chain, index=0):
    import urllib.request
    body = json.dumps({"chain_id": chain.chain(index)["chain_id"], "stable_coin": 1}).encode()
    request = urllib.request.Request(checkout_url(gateway, intent_id, "/deposit"), data=body, method="POST")
    reply = json.loads(urllib.request.urlopen(request, timeout=10).read())
    assert reply["code"] == 0, reply
    return reply["payload"]["deposit_address"]


def cancel(gateway, intent_id):
    """Cancels like a shopper: open the page (CSRF cookie and field), confirm, post."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(checkout_url(gateway, intent_id, "?cancel=1"), timeout=10).read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opener.open(urllib.request.Request(checkout_url(gateway, intent_id, "/cancel"), method="POST",
                                       data=urllib.parse.urlencode({"csrf": token}).encode()), timeout=10).read()


def show(gateway, intent_id):
    return json.loads(gateway.cli("intents", "show", intent_id).stdout)


def wait_for(what, probe, seconds=40):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def settled(gateway, intent_id, status=20):
    def probe():
        data = show(gateway, intent_id)
        intent = data["intent"]
        return data if intent["status"] == status and intent["settlement_status"] == "settled" else None
    return probe




def pytest_terminal_summary(terminalreporter):
    """Prints the schemathesis case count (test_contract.py) at the end of the run."""
    module = sys.modules.get("test_contract")
    if module is not None and module.CASES["count"]:
        terminalreporter.write_line(module.pytest_terminal_summary_line())
