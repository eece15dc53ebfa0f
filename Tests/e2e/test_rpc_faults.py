"""The chain watcher behind misbehaving RPC endpoints (issue 13): rate limits, range caps, error
pages, cut and empty answers, hangs, a lagging backend, a head going backwards, dead endpoints.

A fault-injecting proxy (rpc_fault_proxy.py) sits between the gateway and the sandbox chain. For
each fault: three real payments are made while it lasts and blocks are mined; the gateway must
stay up, never count a payment from a silently short answer, never take a fault for a reorg,
and once the endpoint behaves again, confirm each payment exactly once. With two endpoints, a
dead or lagging first one must not stop detection: the second carries it.

Detection times (payment mined → intent ON_CHAIN or CONFIRMED, from the intents' transition
timestamps, the gateway's clock being this machine's) are printed at the end of the module and
written to artifacts/rpc-faults.txt."""
import errno
import json
import os
import re
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

import conftest
from conftest import BINARY, POSTGRES_URL, ROOT, create_intent, random_address, select_deposit, setup_merchant, start_gateway
from rpc_fault_proxy import RPCFaultProxy

POLL_MS = 250
MAX_LOG_RANGE = 50
RPC_TIMEOUT_MS = 1500
CONFIRMATIONS = 2
FAULT_SECONDS = 4.0
# An endpoint that failed is backed off (doubling, to 30 s for errors, 60 s for rate limits
# without Retry-After): after a fault of a few seconds, recovery waits for that back-off.
RECOVERY_SECONDS = 45
CAP = 10
LAG = 10
METRICS_TOKEN = "rpc-faults-metrics-token-0123456789"
AMOUNTS = (1000, 1100, 1200)  # cents: three distinct payments
ON_CHAIN, CONFIRMED = 10, 20

RESULTS = []


@pytest.fixture(scope="module", autouse=True)
def report_table():
    started = time.time()
    yield
    lines = [(f"RPC fault detection times (payment mined -> ON_CHAIN/CONFIRMED), poll {POLL_MS} ms, rpc_timeout {RPC_TIMEOUT_MS} ms, "
              f"max_log_range {MAX_LOG_RANGE}, fault {FAULT_SECONDS:.0f} s"),
             ("(detect: from the intents' transitions; polled: first seen by polling `intents show`; in fault: detected while the "
              "fault lasted; recover s: fault off -> last CONFIRMED)"),
             f"{'test':<28} {'backend':<9} {'detect s (3 payments)':<24} {'max':>6} {'polled':>7} {'in fault':>8} {'recover s':>9}  faults injected"]
    for row in RESULTS:
        times = " ".join(f"{t:5.2f}" for t in row["detect"])
        lines.append(f"{row['name']:<28} {row['backend']:<9} {times:<24} {max(row['detect']):6.2f} {max(row['polled']):7.2f} "
                     f"{row['in_fault']:>5}/3 {'-' if row['recover'] is None else format(row['recover'], '.2f'):>9}  {row['faults']}")
    lines.append(f"module wall time: {time.time() - started:.1f} s")
    text = "\n".join(lines)
    print("\n" + text)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "rpc-faults.txt").write_text(text + "\n")


# ---- helpers ------------------------------------------------------------------------------------

def wait_for_binary():
    """The other engineer may be relinking the binary: wait for it to be there and runnable."""
    deadline = time.time() + 180
    while time.time() < deadline:
        if BINARY.exists() and os.access(BINARY, os.X_OK):
            return
        time.sleep(5)
    raise AssertionError(f"{BINARY} is missing")


def busy_retry(function, *args, **kwargs):
    """Runs `function`, which runs the binary; while the other engineer relinks it (missing, or
    "Text file busy"), waits and tries again."""
    for attempt in range(4):
        try:
            return function(*args, **kwargs)
        except OSError as error:
            if attempt == 3 or not (error.errno == errno.ETXTBSY or isinstance(error, FileNotFoundError)):
                raise
            print(f"\n{BINARY.name}: {error}; retrying in 30 s")
            time.sleep(30)


def show(gateway, intent_id):
    return busy_retry(conftest.show, gateway, intent_id)


def launch(database, directory, chain, urls, **overrides):
    """A gateway watching the sandbox chain through `urls` (the proxies), with short timings."""
    wait_for_binary()
    entry = dict(json.loads(chain.chains_file.read_text())["chains"][0])
    entry.pop("rpc_url")
    entry.update({"rpc_urls": urls, "poll_interval_ms": POLL_MS, "max_log_range": MAX_LOG_RANGE, "rpc_timeout_ms": RPC_TIMEOUT_MS,
                  "confirmations": CONFIRMATIONS, **overrides})
    chains_file = Path(directory) / "rpc-fault-chains.json"
    chains_file.write_text(json.dumps({"chains": [entry]}, indent=2))
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, directory, chain, extra_env={"STABLEGATE_METRICS_TOKEN": METRICS_TOKEN}, chains_file=chains_file)
    return busy_retry(gateway.start)


def metric(gateway, name):
    request = urllib.request.Request(gateway.base_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = urllib.request.urlopen(request, timeout=5).read().decode()
    found = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def head(chain):
    return int(chain.rpc("eth_blockNumber"), 16)


def wait_caught_up(gateway, chain, seconds=60):
    """Until the gateway has scanned the chain's head (its first pass starts 1000 blocks back)."""
    target = head(chain)
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert gateway.process.poll() is None, gateway.logs()
        scanned = metric(gateway, "stablegate_chain_scanned_block")
        if scanned is not None and scanned >= target:
            return int(scanned)
        time.sleep(0.2)
    raise AssertionError(f"the gateway did not scan up to block {target}:\n{gateway.logs()[-4000:]}")


class Order:
    """An intent with a selected deposit address, and the payment made to it."""

    def __init__(self, gateway, merchant, chain, cents):
        self.cents = cents
        self.intent_id = create_intent(gateway, merchant, cents)  # over HTTP: no binary run
        self.deposit = select_deposit(gateway, self.intent_id, chain)
        self.tx = self.block = self.mined_at = self.polled_at = None

    def pay(self, chain):
        self.tx = chain.pay(self.deposit, self.cents * 10_000)  # 6 decimals: cents * 10^4 units
        self.mined_at = time.time()  # the sandbox mines every transaction at once
        self.block = int(chain.rpc("eth_getTransactionReceipt", [self.tx])["blockNumber"], 16)

    @property
    def amount(self):
        return f"{self.cents // 100}.{self.cents % 100:02d}"

    def detected_at(self, data):
        """When the gateway moved the intent to ON_CHAIN (or straight to CONFIRMED)."""
        stamps = [t["at"] for t in data["transitions"] if t["to"] in ("ON_CHAIN", "CONFIRMED")]
        return datetime.fromisoformat(stamps[0]).timestamp() if stamps else None

    @staticmethod
    def confirmed_at(data):
        stamps = [t["at"] for t in data["transitions"] if t["to"] == "CONFIRMED"]
        return datetime.fromisoformat(stamps[0]).timestamp() if stamps else None


def orders_for(gateway, chain, count=3):
    merchant = busy_retry(setup_merchant, gateway, random_address())
    return [Order(gateway, merchant, chain, cents) for cents in AMOUNTS[:count]]


def check_consistent(gateway, orders, lag_visible=None):
    """What must hold at any moment, fault or not: the gateway is up; an intent has at most one
    transfer, that transfer is the payment made to it (never another's, never twice), and no
    transfer was dropped (nothing here is a reorg). With a lagging endpoint, a payment in a block
    that endpoint never showed cannot have been detected (`lag_visible`: a callable giving the
    highest block it showed, read after each look). Returns the intents' `show` data."""
    assert gateway.process.poll() is None, f"the gateway died:\n{gateway.logs()[-6000:]}"
    seen = {}
    for order in orders:
        data = show(gateway, order.intent_id)
        transfers = data["transfers"]
        assert len(transfers) <= 1, f"{order.intent_id} has {len(transfers)} transfers: {transfers}"
        assert all(t["state"] != "dropped" for t in transfers), f"a fault was taken for a reorg: {transfers}"
        for transfer in transfers:
            assert transfer["tx_hash"] == order.tx.lower(), transfers
            assert transfer["block_number"] == order.block, transfers
            assert transfer["amount"] == order.amount, transfers
        status = data["intent"]["status"]
        if status in (ON_CHAIN, CONFIRMED):
            assert len(transfers) == 1, data
            if order.polled_at is None:
                order.polled_at = time.time()
            if lag_visible is not None:
                assert order.block <= (lag_visible() or -1), (
                    f"payment in block {order.block} detected while the only endpoint showed blocks up to {lag_visible()}")
        seen[order.intent_id] = data
    return seen


def wait_confirmed(gateway, orders, seconds, while_=None):
    """Until every order is CONFIRMED with exactly its one credited transfer; `while_()` must
    hold throughout (e.g. the first endpoint is still faulty)."""
    deadline = time.time() + seconds
    while True:
        if while_ is not None:
            while_()
        seen = check_consistent(gateway, orders)
        done = [o for o in orders if seen[o.intent_id]["intent"]["status"] == CONFIRMED]
        if len(done) == len(orders):
            return seen
        if time.time() > deadline:
            states = {o.intent_id: (seen[o.intent_id]["intent"]["status"], seen[o.intent_id]["transfers"]) for o in orders}
            raise AssertionError(f"not all confirmed after {seconds} s: {states}\n--- gateway log (tail) ---\n{gateway.logs()[-8000:]}")
        time.sleep(0.2)


def assert_credited_once(gateway, orders, seen):
    for order in orders:
        data = seen[order.intent_id]
        intent, transfers = data["intent"], data["transfers"]
        assert intent["status"] == CONFIRMED, data
        assert len(transfers) == 1, transfers
        transfer = transfers[0]
        assert transfer["credited"] and transfer["state"] == "confirmed" and transfer["kind"] == "payment", transfer
        assert transfer["tx_hash"] == order.tx.lower()
        assert intent["actual_paid_amount"] == order.amount, intent
        assert order.detected_at(data) is not None, data["transitions"]


def record(name, backend, orders, seen, in_fault, recover, faults):
    RESULTS.append({
        "name": name, "backend": backend, "in_fault": in_fault, "recover": recover, "faults": faults,
        "detect": [o.detected_at(seen[o.intent_id]) - o.mined_at for o in orders],
        "polled": [(o.polled_at or time.time()) - o.mined_at for o in orders],
    })


# ---- one endpoint, one fault at a time ------------------------------------------------------------

FAULTS = {
    # mode: proxy parameters
    "pass": {},
    "rate_limit": {"retry_after": 1},
    "range_cap": {"cap": CAP},
    "html_502": {},
    "truncated": {},
    "empty": {},
    "hang": {"hang_seconds": 2 * RPC_TIMEOUT_MS / 1000},
    "lag": {"lag": LAG},
    "backwards": {"backwards_by": 4},
    "dead": {},
    "refuse": {},
}
MATRIX = [pytest.param(mode, "sqlite", id=mode) for mode in FAULTS]
if POSTGRES_URL:
    MATRIX.append(pytest.param("lag", "postgres", id="lag-postgres"))


@pytest.mark.parametrize("mode,database", MATRIX, indirect=["database"])
def test_payments_made_during_a_fault_are_confirmed_once_after_it(mode, database, tmp_path, chain):
    backend = "postgres" if database.startswith("postgres") else "sqlite"
    proxy = RPCFaultProxy(chain.chain(0)["rpc_url"], name=mode).start()
    gateway = launch(database, tmp_path, chain, [proxy.url])
    try:
        orders = orders_for(gateway, chain)
        scanned_before = wait_caught_up(gateway, chain)

        proxy.set(mode, **FAULTS[mode])
        fault_started = time.time()
        if mode == "lag":
            # The first payment, then LAG + 1 blocks: the lagging backend comes to show it (it
            # must be detected, late, while the backend still lags). Then the two others and one
            # block: they lie in the part of the chain the gateway's head covers and the serving
            # backend does not have (the sweep of the first adds a block or two, not LAG).
            orders[0].pay(chain)
            for _ in range(LAG + 1):
                chain.mine(1)
                time.sleep(0.1)
            for order in orders[1:]:
                order.pay(chain)
            chain.mine(1)
        else:
            for order in orders:
                order.pay(chain)
            # A burst: the next range is wider than range_cap's cap (and than any narrowed window).
            chain.mine(3 * CAP)
        lag_visible = (lambda: proxy.lag_visible_max) if mode == "lag" else None

        def visible_ones_pending(seen):
            """Lag: payments the lagging backend shows that the gateway has not detected yet."""
            return mode == "lag" and any(o.block <= (proxy.lag_visible_max or -1) and seen[o.intent_id]["intent"]["status"] not in
                                         (ON_CHAIN, CONFIRMED) for o in orders)

        seen = {}
        while time.time() - fault_started < FAULT_SECONDS or (visible_ones_pending(seen) and time.time() - fault_started < 20):
            if mode != "lag":
                chain.mine(1)
            seen = check_consistent(gateway, orders, lag_visible=lag_visible)
            if mode == "lag":
                scanned = metric(gateway, "stablegate_chain_scanned_block")
                assert scanned <= max(scanned_before, proxy.lag_visible_max or 0), (
                    f"the cursor moved to block {scanned}, past what the lagging endpoint proved ({proxy.lag_visible_max})")
            time.sleep(0.3)
        assert gateway.process.poll() is None, gateway.logs()[-6000:]
        seen = check_consistent(gateway, orders, lag_visible=(lambda: proxy.lag_visible_max) if mode == "lag" else None)
        in_fault = sum(1 for o in orders if seen[o.intent_id]["intent"]["status"] in (ON_CHAIN, CONFIRMED))
        if mode not in ("pass", "refuse"):  # refused connections never reach the proxy to be counted
            assert proxy.fault_count(mode) > 0, f"the {mode} fault was never exercised: {dict(proxy.counts)}"
        if mode in ("rate_limit", "html_502", "truncated", "empty", "hang", "dead", "refuse"):
            # Nothing gets through such an endpoint: nothing can have been detected through it.
            assert in_fault == 0, {o.intent_id: seen[o.intent_id]["intent"]["status"] for o in orders}
        if mode == "lag":
            assert proxy.lag_visible_max < orders[1].block, "the last two payments must have stayed beyond the lagging backend"
            shown = [o for o in orders if o.block <= proxy.lag_visible_max]
            assert shown and not visible_ones_pending(seen), (
                f"payments the lagging endpoint showed (blocks <= {proxy.lag_visible_max}) were not detected while it lagged: "
                f"{[(o.block, seen[o.intent_id]['intent']['status']) for o in orders]}\n{gateway.logs()[-6000:]}")

        proxy.mode = "pass"
        recovery_started = time.time()
        seen = wait_confirmed(gateway, orders, RECOVERY_SECONDS)
        # From the transitions' timestamps: a wait for the binary (busy_retry) does not count.
        # 0 when all were confirmed during the fault.
        recover = max(0.0, max(Order.confirmed_at(seen[o.intent_id]) for o in orders) - recovery_started)
        time.sleep(4 * POLL_MS / 1000)  # a few more passes: nothing is counted again
        seen = check_consistent(gateway, orders)
        assert_credited_once(gateway, orders, seen)
        if mode == "range_cap":
            assert "eth_getLogs range narrowed" in gateway.logs(), gateway.logs()[-4000:]
            assert proxy.fault_count("range_cap", "range") > 0
        faults = {kind: n for (m, kind), n in sorted(proxy.faults.items()) if m == mode}
        print(f"\n[{mode}/{backend}] in fault {in_fault}/3, recovered in {recover:.2f} s, faults {faults}, "
              f"calls in fault {proxy.count(mode=mode)}")
        record(mode, backend, orders, seen, in_fault, recover, faults)
    finally:
        gateway.stop()
        proxy.stop()


# ---- two endpoints: the first faulty, the second healthy ---------------------------------------------

@pytest.mark.parametrize("first_mode", ["dead", "refuse", "lag"])
def test_a_faulty_first_endpoint_does_not_stop_detection_on_the_second(first_mode, tmp_path, chain):
    first = RPCFaultProxy(chain.chain(0)["rpc_url"], name="A").start()
    second = RPCFaultProxy(chain.chain(0)["rpc_url"], name="B").start()
    gateway = launch(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, [first.url, second.url])
    try:
        orders = orders_for(gateway, chain)
        wait_caught_up(gateway, chain)
        logs_before = second.count("eth_getLogs", mode="pass")
        first.set(first_mode, lag=LAG)
        fault_started = time.time()
        for order in orders:
            order.pay(chain)
        chain.mine(CONFIRMATIONS)

        def first_still_faulty():
            assert first.mode == first_mode

        # Detected and confirmed while A is still down / behind: the second endpoint carries it.
        seen = wait_confirmed(gateway, orders, 25, while_=first_still_faulty)
        during = max(Order.confirmed_at(seen[o.intent_id]) for o in orders) - fault_started
        if first_mode == "refuse":
            # Connections are refused; a request racing the switch on an open keep-alive
            # connection is reset, never answered.
            assert first.count(mode="refuse") == 0, f"endpoint A answered while refusing: {dict(first.counts)}"
        else:
            assert first.fault_count(first_mode) > 0, f"endpoint A was never asked during its fault: {dict(first.counts)}"
        assert second.count("eth_getLogs", mode="pass") > logs_before, "endpoint B served no eth_getLogs"
        assert_credited_once(gateway, orders, seen)

        first.mode = "pass"
        chain.mine(2)
        time.sleep(6 * POLL_MS / 1000)  # A is back: nothing is counted twice
        seen = check_consistent(gateway, orders)
        assert_credited_once(gateway, orders, seen)
        faults = {kind: n for (m, kind), n in sorted(first.faults.items()) if m == first_mode}
        print(f"\n[A {first_mode} + B pass] all 3 confirmed {during:.2f} s into A's fault; A faults {faults}, "
              f"B eth_getLogs {second.count('eth_getLogs', mode='pass') - logs_before}")
        record(f"2 endpoints: A {first_mode}", "sqlite", orders, seen, 3, None, faults)
    finally:
        gateway.stop()
        first.stop()
        second.stop()
