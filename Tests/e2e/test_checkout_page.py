"""The hosted checkout page in a real browser (Debian's Chromium, driven by Selenium) against
the built gateway and the sandbox chain. Every screen is saved to artifacts/checkout/."""
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

import browsers
from browsers import chromium, csp_violations, text, wait_text

from conftest import ROOT, checkout_url, create_intent, random_address, setup_merchant, show, start_gateway, wait_for

ARTIFACTS = ROOT / "artifacts" / "checkout"
TEST_WALLET = (Path(__file__).parent / "checkout" / "test-wallet.js").read_text()


def browser(language="en-US", width=1280, height=900, javascript=True):
    return chromium(language, width, height, javascript)


def screenshot(driver, name, full_page=True):
    browsers.screenshot(driver, "checkout", name, full_page)


class Merchant(BaseHTTPRequestHandler):
    """The merchant's return page."""
    def do_GET(self):
        body = b"<!doctype html><title>Merchant</title><h1>Back at the merchant</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def merchant_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Merchant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def shop(tmp_path_factory, chain):
    """One gateway (SQLite, 3-minute payment window) with a merchant, for most page tests."""
    directory = tmp_path_factory.mktemp("shop")
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{directory}/db.sqlite", directory, chain).start()
    wallet = random_address()
    merchant = setup_merchant(gateway, wallet)
    yield gateway, merchant
    gateway.stop()


def test_wallet_scan_from_choice_to_fund_sent_and_back_to_the_merchant(shop, chain, merchant_site):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 2500, currency=44, order_description="Two flat whites",
                              redirect_url=merchant_site + "/order/A-1001?ref=x")
    driver = browser()
    try:
        driver.get(checkout_url(gateway, intent_id))
        assert show(gateway, intent_id)["intent"]["status"] == 2, "opening the page moves CREATED to PAYING (AllScale's older name: VIEWED)"
        page = text(driver)
        for expected in ("Two flat whites", "25.00 EUR", "29.315197 USDT", "1 USDT = 0.8528 EUR", "Choose how to pay"):
            assert expected in page, expected
        screenshot(driver, "01-choose-network")
        driver.find_element(By.CSS_SELECTOR, "input[value$=':1']").click()
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_text(driver, "Scan or copy")
        address = driver.find_element(By.ID, "deposit-address").text
        assert driver.find_element(By.ID, "exact-amount").text == "29.315197"
        assert "Time left" in text(driver)
        # The QR code the customer scans decodes to the EIP-681 request.
        qr_png = ARTIFACTS / "qr.png"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.find_element(By.CSS_SELECTOR, "svg.qr").screenshot(str(qr_png))
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(qr_png)], capture_output=True, text=True).stdout.strip()
        token = chain.token("USDT")["contract"]
        assert decoded == f"ethereum:{token}@{chain.chain(0)['chain_id']}/transfer?address={address}&uint256=29315197", decoded
        screenshot(driver, "02-wallet-scan")
        assert not csp_violations(driver)
        chain.pay(address, 29_315_197)
        wait_text(driver, "Payment detected")
        wait_text(driver, "Confirmations: 1 of 2")
        screenshot(driver, "03-payment-detected")
        chain.mine(1)
        wait_text(driver, "Fund Sent")
        page = text(driver)
        assert "29.315197 USDT on Sandbox is confirmed" in page
        tx_hash = driver.find_element(By.ID, "tx-hash").text
        assert tx_hash == show(gateway, intent_id)["intent"]["tx_hash"]
        screenshot(driver, "04-fund-sent")
        driver.find_element(By.ID, "return-to-merchant").click()
        wait_for("the merchant's page", lambda: "Back at the merchant" in text(driver))
        assert driver.current_url == f"{merchant_site}/order/A-1001?ref=x&allscale_checkout_intent_id={intent_id}"
        assert show(gateway, intent_id)["intent"]["payment_method_type"] == 1
    finally:
        driver.quit()


def test_plugin_wallet_pays_through_an_injected_eip1193_provider(shop, chain):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000)
    payer = chain.chain(0)["accounts"][4]["address"]
    driver = browser()
    try:
        # A wallet extension's provider lives outside the page's CSP; this test wallet lives in the
        # page, so CSP is bypassed for this browser session only.
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        chains = {hex(c["chain_id"]): c["rpc_url"] for c in chain.state["chains"]}
        setup = f"window.__SANDBOX_WALLET__ = {json.dumps({'account': payer, 'chainId': hex(chain.chain(1)['chain_id']), 'chains': chains})};"
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": setup + TEST_WALLET})
        driver.get(checkout_url(gateway, intent_id))
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_text(driver, "Pay with a browser wallet")
        screenshot(driver, "05-plugin-wallet")
        driver.find_element(By.ID, "wallet-pay").click()
        wait_text(driver, "Transaction sent")
        calls = driver.execute_script("return window.__walletCalls")
        assert calls[:4] == ["eth_requestAccounts", "eth_chainId", "wallet_switchEthereumChain", "eth_sendTransaction"], calls
        # The page's report alone sets nothing; WALLET_CONNECT once the chain shows a transfer in
        # the reported transaction, with tx_hash and tx_from taken from the chain.
        try:
            data = wait_for("WALLET_CONNECT recorded", lambda: (d := show(gateway, intent_id)) and d["intent"]["payment_method_type"] == 2 and d)
        except AssertionError as failure:
            raise AssertionError(f"{failure}: {json.dumps(show(gateway, intent_id)['intent'])}") from None
        assert data["intent"]["tx_from"].lower() == payer.lower()
        assert data["intent"]["tx_hash"] == data["transfers"][0]["tx_hash"]
        chain.mine(2)
        wait_text(driver, "Fund Sent")
        screenshot(driver, "06-plugin-wallet-fund-sent")
        data = show(gateway, intent_id)
        assert data["intent"]["status"] == 20 and data["intent"]["payment_method_type"] == 2
        assert data["transfers"][0]["from"] == payer.lower()
    finally:
        driver.quit()


def test_cancel_asks_first_then_shows_canceled(shop):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000)
    driver = browser()
    try:
        driver.get(checkout_url(gateway, intent_id))
        driver.find_element(By.ID, "cancel-link").click()
        wait_text(driver, "Cancel this payment?")
        screenshot(driver, "07-cancel-confirm")
        assert show(gateway, intent_id)["intent"]["status"] == 2, "asking does not cancel"
        driver.find_element(By.ID, "cancel-yes").click()
        wait_text(driver, "Payment canceled")
        screenshot(driver, "08-canceled")
        assert show(gateway, intent_id)["intent"]["status"] == -4
    finally:
        driver.quit()


def test_underpaid_and_expired_screens(tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, {"STABLEGATE_PAYMENTS_WINDOW": "12"}).start()
    driver = browser()
    try:
        merchant = setup_merchant(gateway, random_address())
        short = create_intent(gateway, merchant, 1000)
        nothing = create_intent(gateway, merchant, 1000)
        for intent_id in (short, nothing):
            driver.get(checkout_url(gateway, intent_id))
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait_text(driver, "Scan or copy")
        address = show(gateway, short)["intent"]["deposit_address"]
        chain.pay(address, 4_000_000)
        chain.mine(2)
        driver.get(checkout_url(gateway, short))
        wait_text(driver, "Still to pay")
        assert "6.00 USDT" in text(driver)
        driver.find_element(By.LINK_TEXT, "Pay the rest").click()
        wait_text(driver, "Scan or copy")
        assert driver.find_element(By.ID, "exact-amount").text == "6.00", "topping up asks for what is missing"
        driver.get(checkout_url(gateway, short))
        screenshot(driver, "09-partial-payment")
        wait_text(driver, "Payment incomplete", seconds=40)
        assert "We received 4.00 USDT, but 6.00 USDT was missing" in text(driver)
        screenshot(driver, "10-underpaid")
        driver.get(checkout_url(gateway, nothing))
        wait_text(driver, "Payment window ended", seconds=40)
        screenshot(driver, "11-expired")
        # The page says so as soon as the window has passed; the expiry pass that records TIMEOUT
        # runs on its own interval, so give it that long.
        wait_for("TIMEOUT after the window", lambda: show(gateway, nothing)["intent"]["status"] == -5, seconds=30)
    finally:
        driver.quit()
        gateway.stop()


def test_unknown_checkout_is_a_proper_404_page(shop):
    """An unknown token, a malformed one and the intent's own id all get the same 404 page: the
    id names the intent for its merchant but opens nothing."""
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000)

    def not_found(path):
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(gateway.base_url + path, timeout=10)
        assert failure.value.code == 404, path
        return failure.value.read()

    unknown = not_found("/checkout/" + "A" * 24)
    assert b"Checkout not found" in unknown
    for path in (f"/checkout/{intent_id}", "/checkout/0123456789abcdef01234567", "/checkout/not-a-real-id", "/checkout/" + "A" * 23):
        assert not_found(path) == unknown, f"{path} answers differently from an unknown token"
    assert show(gateway, intent_id)["intent"]["status"] == 1, "opening the id did not view the order"
    driver = browser()
    try:
        driver.get(f"{gateway.base_url}/checkout/{intent_id}")
        assert "Checkout not found" in text(driver)
        screenshot(driver, "12-not-found")
    finally:
        driver.quit()


def test_simplified_chinese_from_accept_language_with_a_switcher(shop):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000, order_description="咖啡两杯")
    driver = browser(language="zh-CN")
    try:
        driver.get(checkout_url(gateway, intent_id))
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
        assert "选择支付方式" in text(driver) and "咖啡两杯" in text(driver)
        screenshot(driver, "13-chinese")
        driver.find_element(By.LINK_TEXT, "English").click()
        wait_text(driver, "Choose how to pay")
        driver.get(checkout_url(gateway, intent_id))
        assert "Choose how to pay" in text(driver), "the choice is remembered"
    finally:
        driver.quit()


def test_a_360px_phone_screen_has_no_horizontal_scroll(shop):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 123456, order_description="A long order description that has to wrap nicely on a small phone screen")
    driver = browser()
    try:
        # A window cannot be made that narrow in headless Chromium; emulate the phone instead.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
        driver.get(checkout_url(gateway, intent_id))
        assert driver.execute_script("return window.innerWidth") == 360
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_text(driver, "Scan or copy")
        overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow}px of horizontal scroll at 360 px"
        screenshot(driver, "14-phone-360px", full_page=False)
    finally:
        driver.quit()


def test_wallet_scan_works_without_javascript(shop):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000)
    driver = browser(javascript=False)
    try:
        driver.get(checkout_url(gateway, intent_id))
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_text(driver, "Scan or copy")
        assert driver.find_element(By.CSS_SELECTOR, "svg.qr").is_displayed()
        assert driver.find_element(By.ID, "deposit-address").text.startswith("0x")
        assert not driver.find_element(By.ID, "wallet-panel").is_displayed(), "the wallet panel needs JavaScript"
        assert "This page updates by itself" in text(driver)
        screenshot(driver, "15-no-javascript")
    finally:
        driver.quit()


def test_page_weight_accessibility_basics_and_no_csp_violations(shop):
    gateway, merchant = shop
    intent_id = create_intent(gateway, merchant, 1000)
    driver = browser()
    try:
        driver.get(checkout_url(gateway, intent_id))
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_text(driver, "Scan or copy")
        time.sleep(0.5)
        weight = driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0];"
            "return performance.getEntriesByType('resource').reduce(function (s, r) { return s + (r.decodedBodySize || 0); }, n.decodedBodySize);")
        assert weight < 100 * 1024, f"the page weighs {weight} bytes"
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(function (r) { return r.name; })")
        assert all(url.startswith(gateway.base_url) for url in resources), resources  # no CDN, font or remote script
        assert not csp_violations(driver)
        # Every form control and button has an accessible name; one h1; a language.
        unnamed = driver.execute_script("""
            return Array.from(document.querySelectorAll('input:not([type=hidden]), button, a')).filter(function (e) {
              var name = (e.getAttribute('aria-label') || e.textContent || '').trim();
              if (e.tagName === 'INPUT') name = e.labels && e.labels.length ? e.labels[0].textContent.trim() : '';
              return !name && e.offsetParent !== null;
            }).map(function (e) { return e.outerHTML; });""")
        assert unnamed == []
        assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
        assert driver.find_element(By.CSS_SELECTOR, "svg.qr").get_attribute("aria-label").startswith("QR code: send 10.00 USDT")
        print(f"checkout page weight: {weight} bytes")
    finally:
        driver.quit()
