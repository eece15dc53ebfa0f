"""Pay with a StableGate account (docs/ARCHITECTURE.md §7) against the built gateway, the sandbox chain
and a real browser: sign-up, a custodial deposit credited once confirmed, paying a checkout
from the balance (ALL_SCALE_PAY, tx_from = the account's address), withdrawals with a
confirmation step, and the money rules — insufficient balance, double clicks, two tabs and a
crash between the ledger entry and the broadcast never debit twice or lose funds.

After every test the ledger is audited (`stablegate accounts ledger-check`) and every
account's on-chain token balance is compared with its ledger balance."""
import http.client
import http.cookiejar
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

import browsers
from browsers import chromium, csp_violations, text, wait_text

from conftest import ROOT, backends, checkout_path, checkout_url, create_intent, random_address, setup_merchant, show, start_gateway, wait_for

PASSWORD = "correct horse battery"
UNITS = 10**6  # the sandbox USDT has 6 decimals


def screenshot(driver, name):
    browsers.screenshot(driver, "accounts", name)


class Shopper:
    """A browser-like HTTP client with its own cookie jar (one per shopper or per tab set)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, path, fields=None):
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        try:
            with self.opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode(), reply.geturl()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.geturl()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        return self.request("POST", path, fields)

    @staticmethod
    def csrf(page):
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def signup(self, email=None):
        email = email or f"shopper-{uuid.uuid4().hex[:8]}@example.com"
        _, page, _ = self.get("/account/signup")
        status, page, url = self.post("/account/signup", {
            "csrf": self.csrf(page), "next": "/account", "email": email, "password": PASSWORD, "password2": PASSWORD})
        assert status == 200 and url.endswith("/account"), (status, url, page[:500])
        self.email = email
        self.address = re.search(r'id="deposit-address">(0x[0-9a-fA-F]{40})<', page).group(1)
        return self

    def balance(self, chain_id, coin="USDT"):
        _, page, _ = self.get("/account")
        row = re.search(rf'<tr data-chain-id="{chain_id}" data-coin="{coin}">.*?class="num mono available">([0-9.,]+)<', page)
        return Decimal(row.group(1).replace(",", ""))


def fill_signup(driver, email):
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "password2").send_keys(PASSWORD)
    driver.find_element(By.ID, "signup").click()


def browser_signup(driver, gateway, email):
    driver.get(f"{gateway.base_url}/account/signup")
    fill_signup(driver, email)
    wait_text(driver, "Balances")


def accounts(gateway):
    return [json.loads(line) for line in gateway.cli("accounts", "list").stdout.splitlines() if line.strip()]


def account(gateway, email):
    return next(a for a in accounts(gateway) if a["email"] == email)


def ledger_balance(gateway, email, chain, symbol="USDT"):
    token = chain.token(symbol)["contract"].lower()
    found = [b["balance"] for b in account(gateway, email)["balances"] if b["token"] == token]
    return Decimal(found[0]) if found else Decimal(0)


def mine_until(chain, what, probe, seconds=60):
    """Waits for `probe` while blocks keep coming, as they do on a real chain (the sandbox mines
    only on demand, and payouts count only with their confirmations)."""
    def step():
        chain.mine(1)
        return probe()
    return wait_for(what, step, seconds)


def fund(gateway, chain, shopper, units):
    """A deposit to the shopper's address, credited once it has its confirmations."""
    before = ledger_balance(gateway, shopper.email, chain)
    chain.pay(shopper.address, units)
    chain.mine(1)
    wait_for("the deposit to be credited", lambda: ledger_balance(gateway, shopper.email, chain) == before + Decimal(units) / UNITS)


AUDITED = []


def audit(gateway, chain):
    """No transfer left on its way, the ledger sound, and each account's on-chain balance equal
    to what the ledger says it holds."""
    def settled():
        open_transfers = [t for a in accounts(gateway) for t in a["transfers"] if t["state"] in ("approved", "sending")]
        if open_transfers:
            chain.mine(1)
        return not open_transfers
    if gateway.process.poll() is None:
        wait_for("account transfers to finish", settled, 60)
    check = gateway.cli("accounts", "ledger-check", check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ledger OK" in check.stdout
    for entry in accounts(gateway):
        ledger = sum((Decimal(b["balance"]) for b in entry["balances"] if b["token"] == chain.token("USDT")["contract"].lower()), Decimal(0))
        assert Decimal(chain.balance(entry["deposit_address"])) / UNITS == ledger, entry


@pytest.fixture(autouse=True)
def ledger_audit(chain):
    """Audits every gateway a test used after it (tests on a throwaway database audit before
    it is dropped, themselves)."""
    AUDITED.clear()
    yield
    for gateway in AUDITED:
        audit(gateway, chain)


@pytest.fixture(scope="module")
def shop(tmp_path_factory, chain):
    directory = tmp_path_factory.mktemp("account-shop")
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{directory}/db.sqlite", directory, chain).start()
    merchant = setup_merchant(gateway, random_address())
    yield gateway, merchant
    gateway.stop()


def test_sign_up_fund_and_pay_a_checkout_from_the_account_in_the_browser(shop, chain):
    gateway, merchant = shop
    AUDITED.append(gateway)
    driver = chromium()
    try:
        email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
        browser_signup(driver, gateway, email)
        address = driver.find_element(By.ID, "deposit-address").text
        assert address.lower() == account(gateway, email)["deposit_address"]
        # The QR code decodes to the deposit address.
        qr_png = ROOT / "artifacts" / "accounts" / "deposit-qr.png"
        qr_png.parent.mkdir(parents=True, exist_ok=True)
        driver.find_element(By.CSS_SELECTOR, "svg.qr").screenshot(str(qr_png))
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(qr_png)], capture_output=True, text=True).stdout.strip()
        assert decoded == address
        screenshot(driver, "01-new-account")

        # A zero-value Transfer (anyone can send one) is ignored and stops nothing.
        chain.pay(address, 0)
        chain.pay(address, 50 * UNITS)
        wait_for("the deposit to show as arriving", lambda: driver.refresh() or "Confirming" in text(driver))
        chain.mine(1)
        wait_for("the deposit to be credited", lambda: driver.refresh() or "Credited" in text(driver))
        row = driver.find_element(By.CSS_SELECTOR, f"tr[data-chain-id='{chain.chain(0)['chain_id']}'][data-coin='USDT'] .available")
        assert row.text == "50.00"
        screenshot(driver, "02-funded")

        intent_id = create_intent(gateway, merchant, 1234)
        driver.get(checkout_url(gateway, intent_id))
        wait_text(driver, "Pay with StableGate account")
        screenshot(driver, "03-checkout-offers-account")
        driver.find_element(By.ID, "pay-with-account").click()
        wait_text(driver, "Pay from your balance")
        screenshot(driver, "04-balances")
        driver.find_element(By.ID, "account-review").click()
        wait_text(driver, "Review and approve")
        assert driver.find_element(By.ID, "review-amount").text == "12.34 USDT"
        assert re.fullmatch(r"[0-9.]+ ETH", driver.find_element(By.ID, "review-gas").text), driver.find_element(By.ID, "review-gas").text
        screenshot(driver, "05-review")
        driver.find_element(By.ID, "account-approve").click()
        wait_for("the checkout page", lambda: driver.current_url == checkout_url(gateway, intent_id))
        wait_for("the payment to be detected", lambda: any(s in text(driver) for s in ("Paying from your StableGate account", "Payment detected", "Fund Sent")))
        screenshot(driver, "06-paying")
        mine_until(chain, "Fund Sent", lambda: "Fund Sent" in text(driver))
        mine_until(chain, "the payment to be final", lambda: account(gateway, email)["transfers"][0]["state"] == "sent")
        screenshot(driver, "07-fund-sent")
        assert not csp_violations(driver)

        intent = show(gateway, intent_id)["intent"]
        assert intent["status"] == 20
        assert intent["payment_method_type"] == 3, "ALL_SCALE_PAY"
        assert intent["tx_from"].lower() == address.lower()
        assert ledger_balance(gateway, email, chain) == Decimal("37.66")
        assert len(account(gateway, email)["transfers"]) == 1

        driver.get(f"{gateway.base_url}/account")
        page = text(driver)
        assert f"Payment for checkout {intent_id}" in page and "Sent" in page
        assert driver.find_element(By.CSS_SELECTOR, f"tr[data-chain-id='{chain.chain(0)['chain_id']}'][data-coin='USDT'] .available").text == "37.66"
        screenshot(driver, "08-history")
    finally:
        driver.quit()


def test_logging_in_from_the_checkout_and_an_insufficient_balance(shop, chain):
    gateway, merchant = shop
    AUDITED.append(gateway)
    intent_id = create_intent(gateway, merchant, 5000)
    driver = chromium()
    try:
        driver.get(checkout_url(gateway, intent_id))
        driver.find_element(By.ID, "pay-with-account").click()
        wait_text(driver, "Log in to pay this order")
        screenshot(driver, "10-login-from-checkout")
        driver.find_element(By.ID, "signup-link").click()
        email = f"bob-{uuid.uuid4().hex[:6]}@example.com"
        fill_signup(driver, email)
        wait_text(driver, "not enough for this order")
        assert driver.current_url == checkout_url(gateway, intent_id, "/account")
        assert not driver.find_elements(By.ID, "account-review"), "nothing to approve without the balance"
        screenshot(driver, "11-insufficient")
    finally:
        driver.quit()

    # A forged approval changes nothing either.
    shopper = Shopper(gateway.base_url)
    _, page, _ = shopper.get("/account/login")
    shopper.post("/account/login", {"csrf": Shopper.csrf(page), "next": "/account", "email": email, "password": PASSWORD})
    # Funded the way the README tells an operator to in the sandbox.
    sent = gateway.cli("sandbox", "fund", email, "--amount", "10", "--chains", str(chain.chains_file), "--state-file", str(chain.state_file))
    assert "sent 10.00 USDT" in sent.stdout, sent.stdout
    chain.mine(1)
    wait_for("the deposit to be credited", lambda: ledger_balance(gateway, email, chain) == Decimal(10))
    _, page, _ = shopper.get("/account")
    status, page, _ = shopper.post(f"{checkout_path(gateway, intent_id)}/account/approve", {"csrf": Shopper.csrf(page), "option": f"{chain.chain(0)['chain_id']}:1"})
    assert status == 409 and "not enough" in page, (status, page[:400])
    assert account(gateway, email)["transfers"] == []
    assert ledger_balance(gateway, email, chain) == Decimal(10)
    assert show(gateway, intent_id)["intent"]["payment_method_type"] == 0


def test_wrong_password_and_throttling_and_cross_site_forms(shop):
    gateway, _ = shop
    AUDITED.append(gateway)
    shopper = Shopper(gateway.base_url).signup()
    other = Shopper(gateway.base_url)
    _, page, _ = other.get("/account/login")
    token = Shopper.csrf(page)
    for _ in range(5):
        status, page, _ = other.post("/account/login", {"csrf": token, "next": "/account", "email": shopper.email, "password": "wrong password!"})
        assert status == 401
    status, page, _ = other.post("/account/login", {"csrf": token, "next": "/account", "email": shopper.email, "password": PASSWORD})
    assert status == 429 and "Too many failed attempts" in page
    # A post without the pre-session cookie (a cross-site form) is refused.
    status, _, _ = Shopper(gateway.base_url).post("/account/login", {"csrf": token, "next": "/account", "email": shopper.email, "password": PASSWORD})
    assert status == 403
    # A logged-in form with a forged token is refused and changes nothing.
    status, page, _ = shopper.post("/account/withdraw", {"csrf": "0" * 32, "option": "1:1", "address": random_address(), "amount": "1"})
    assert status == 403 and "expired" in page
    # An open redirect through `next` is not possible.
    fresh = Shopper(gateway.base_url)
    _, page, _ = fresh.get("/account/login?next=https://evil.example/")
    assert 'name="next" value="/account"' in page


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_double_click_and_two_tabs_debit_once(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain).start()
    try:
        merchant = setup_merchant(gateway, random_address())
        shopper = Shopper(gateway.base_url).signup()
        fund(gateway, chain, shopper, 25 * UNITS)
        intent_id = create_intent(gateway, merchant, 1000)
        path = checkout_path(gateway, intent_id)
        option = f"{chain.chain(0)['chain_id']}:1"
        # Two tabs reviewed the same order; then both approve, each with a double click.
        tabs = []
        for _ in range(2):
            _, page, _ = shopper.get(f"{path}/account")
            status, page, _ = shopper.post(f"{path}/account/review", {"csrf": Shopper.csrf(page), "option": option})
            assert status == 200 and "Review and approve" in page
            tabs.append(Shopper.csrf(page))
        results = []
        threads = [threading.Thread(target=lambda token=token: results.append(
            shopper.post(f"{path}/account/approve", {"csrf": token, "option": option}))) for token in tabs * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(status == 200 and url.endswith(path) for status, _, url in results), [(s, u) for s, _, u in results]
        payments = [t for t in account(gateway, shopper.email)["transfers"] if t["intent_id"] == intent_id]
        assert len(payments) == 1, payments
        assert ledger_balance(gateway, shopper.email, chain) == Decimal(15)
        mine_until(chain, "the order to confirm", lambda: show(gateway, intent_id)["intent"]["status"] == 20)
        mine_until(chain, "the payment to be final", lambda: account(gateway, shopper.email)["transfers"][0]["state"] == "sent")
        assert chain.balance(shopper.address) == 15 * UNITS

        # Paying the same order again finds it paid: nothing more is taken.
        _, page, _ = shopper.get("/account")
        status, _, url = shopper.post(f"{path}/account/approve", {"csrf": Shopper.csrf(page), "option": option})
        assert url.endswith(path)
        assert ledger_balance(gateway, shopper.email, chain) == Decimal(15)
        assert len(account(gateway, shopper.email)["transfers"]) == 1
        audit(gateway, chain)
    finally:
        gateway.stop()


@pytest.mark.parametrize("point", ["after-account-approval", "after-account-signed", "after-account-broadcast"])
def test_a_crash_between_ledger_entry_and_broadcast_neither_debits_twice_nor_loses_funds(point, tmp_path, chain):
    chain.fee_wallet = random_address()
    database = f"sqlite:{tmp_path}/db.sqlite"
    gateway = start_gateway(database, tmp_path, chain).start()
    merchant = setup_merchant(gateway, random_address())
    shopper = Shopper(gateway.base_url).signup()
    fund(gateway, chain, shopper, 30 * UNITS)
    gateway.stop()

    crashing = start_gateway(database, tmp_path, chain, extra_env={"STABLEGATE_FAULT_INJECTION": point}).start()
    shopper.base_url = crashing.base_url
    intent_id = create_intent(crashing, merchant, 1200)
    path = checkout_path(crashing, intent_id)
    _, page, _ = shopper.get(f"{path}/account")
    try:
        shopper.post(f"{path}/account/approve", {"csrf": Shopper.csrf(page), "option": f"{chain.chain(0)['chain_id']}:1"})
    except (ConnectionError, urllib.error.URLError, http.client.HTTPException):
        pass  # the process died under the request
    wait_for("the injected crash", lambda: crashing.process.poll() is not None, 60)
    assert f"fault injection at {point}" in crashing.logs()
    crashing.stop()
    # Whatever was done before the crash, the debit is there exactly once.
    assert ledger_balance(crashing, shopper.email, chain) == Decimal(18)

    if point == "after-account-approval":
        # Back up without reaching the chain (its node down): the debit waits, and the order is
        # bound to it — the page says it is being paid, and neither cancel nor another network
        # is possible.
        offline = tmp_path / "chains-offline.json"
        chains = json.loads(chain.chains_file.read_text())
        for entry in chains["chains"]:
            entry["rpc_url"] = "http://127.0.0.1:9/"
        offline.write_text(json.dumps(chains))
        stalled = start_gateway(database, tmp_path, chain)
        stalled.args[stalled.args.index("--chains") + 1] = str(offline)
        stalled.start()
        try:
            page = Shopper(stalled.base_url)
            status, html, _ = page.get(f"{path}?cancel=1")
            assert status == 200 and "Paying from your StableGate account" in html and "cancel-yes" not in html and "cancel-link" not in html
            status, html, _ = page.get(f"{path}?change=1")
            assert "Paying from your StableGate account" in html
            cookie_csrf = next((c.value for c in page.jar if c.name == "sg_csrf"), "")
            status, html, _ = page.post(f"{path}/cancel", {"csrf": cookie_csrf})
            assert status == 409 and "on its way" in html, (status, html[:300])
            status, html, _ = page.post(f"{path}/select", {"csrf": cookie_csrf, "option": f"{chain.chain(1)['chain_id']}:1"})
            assert status == 400 and "on its way" in html, (status, html[:300])
            assert show(stalled, intent_id)["intent"]["status"] == 3
            assert account(stalled, shopper.email)["transfers"][0]["state"] == "approved"
        finally:
            stalled.stop()

    restarted = start_gateway(database, tmp_path, chain).start()
    AUDITED.append(restarted)
    try:
        mine_until(chain, "the order to confirm after the restart", lambda: show(restarted, intent_id)["intent"]["status"] == 20)
        mine_until(chain, "the transfer to be final", lambda: account(restarted, shopper.email)["transfers"][0]["state"] == "sent")
        transfers = account(restarted, shopper.email)["transfers"]
        assert len(transfers) == 1 and transfers[0]["amount"] == "12"
        assert ledger_balance(restarted, shopper.email, chain) == Decimal(18)
        assert chain.balance(shopper.address) == 18 * UNITS, "the tokens left the account's wallet exactly once"
        intent = show(restarted, intent_id)["intent"]
        assert intent["payment_method_type"] == 3 and intent["tx_from"].lower() == shopper.address.lower()
    finally:
        restarted.stop()


def test_withdrawal_asks_for_confirmation_and_sends_once(shop, chain):
    gateway, _ = shop
    AUDITED.append(gateway)
    driver = chromium()
    try:
        email = f"cy-{uuid.uuid4().hex[:6]}@example.com"
        browser_signup(driver, gateway, email)
        address = driver.find_element(By.ID, "deposit-address").text
        fund(gateway, chain, type("S", (), {"email": email, "address": address}), 20 * UNITS)
        recipient = random_address()

        driver.get(f"{gateway.base_url}/account/withdraw")
        driver.find_element(By.ID, "address").send_keys(recipient)
        driver.find_element(By.ID, "amount").send_keys("0.5")
        driver.find_element(By.ID, "withdraw-review").click()
        wait_text(driver, "must be at least 1.00 USDT")
        amount = driver.find_element(By.ID, "amount")
        amount.clear()
        amount.send_keys("25")
        driver.find_element(By.ID, "withdraw-review").click()
        wait_text(driver, "is more than your USDT balance")
        amount = driver.find_element(By.ID, "amount")
        amount.clear()
        amount.send_keys("7.5")
        driver.find_element(By.ID, "withdraw-review").click()
        wait_text(driver, "Confirm withdrawal")
        assert driver.find_element(By.ID, "review-address").text == recipient
        assert driver.find_element(By.ID, "review-amount").text == "7.5 USDT"
        screenshot(driver, "20-withdraw-review")
        assert account(gateway, email)["transfers"] == [], "nothing moves before the confirmation"
        form = {e.get_attribute("name"): e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, "form[action='/account/withdraw/confirm'] input")}
        driver.find_element(By.ID, "withdraw-confirm").click()
        wait_text(driver, "Withdrawal of 7.50 approved")
        screenshot(driver, "21-withdraw-approved")

        # Submitting the same confirmation again (a double click, a resent form) sends nothing more.
        shopper = Shopper(gateway.base_url)
        for cookie in driver.get_cookies():
            shopper.jar.set_cookie(http.cookiejar.Cookie(
                0, cookie["name"], cookie["value"], None, False, "127.0.0.1", False, False, cookie.get("path", "/"), True, False, None, False, None, None, {}))
        status, _, url = shopper.post("/account/withdraw/confirm", form)
        assert status == 200 and "/account?withdrawal=" in url
        assert len(account(gateway, email)["transfers"]) == 1

        def sent():
            chain.mine(1)
            return account(gateway, email)["transfers"][0]["state"] == "sent"
        wait_for("the withdrawal to be sent", sent, 60)
        assert chain.balance(recipient) == 7_500_000
        assert ledger_balance(gateway, email, chain) == Decimal("12.5")
        driver.get(f"{gateway.base_url}/account")
        assert f"Withdrawal to {recipient}" in text(driver)
        screenshot(driver, "22-after-withdrawal")

        # A mistyped (bad checksum) address is refused.
        driver.get(f"{gateway.base_url}/account/withdraw")
        bad = recipient[:-1] + ("a" if recipient[-1] != "a" else "b")
        bad = bad[:2] + bad[2:].swapcase() if bad[2:].lower() == bad[2:] else bad
        driver.find_element(By.ID, "address").send_keys(bad)
        driver.find_element(By.ID, "amount").send_keys("1")
        driver.find_element(By.ID, "withdraw-review").click()
        wait_text(driver, "valid checksum")
    finally:
        driver.quit()
