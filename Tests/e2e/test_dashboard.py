"""The merchant dashboard in a real browser (Debian's Chromium, driven by Selenium) against the
built gateway: the operator's setup link, login and logout, API key creation, order filtering
and the CSV download. Screens are saved to artifacts/dashboard/."""
import csv
import json
import urllib.error
import urllib.request
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import browsers
from browsers import chromium, csp_violations, text, wait_text
from conftest import backends, checkout_url, create_intent, signed_request, wait_for

PASSWORD = "a long dashboard password"


def shot(driver, name):
    browsers.screenshot(driver, "dashboard", name)


def invite(gateway, merchant_id, email):
    """The operator's command: a dashboard user and their one-time setup link."""
    return json.loads(gateway.cli("users", "create", "--merchant", merchant_id, "--email", email, "--json",
                                  "--public-url", gateway.base_url).stdout)


def set_password(driver, setup_url):
    driver.get(setup_url)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "password2").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait_text(driver, "Your password is set. Log in.")


def log_in(driver, gateway, email, password=PASSWORD):
    driver.get(gateway.base_url + "/dashboard/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()


@pytest.fixture
def shop(gateway):
    """A running gateway with a merchant whose owner has set a password."""
    merchant = gateway.merchant("Dashboard Shop")
    link = invite(gateway, merchant["merchant_id"], "owner@shop.example")
    driver = chromium()
    try:
        set_password(driver, link["setup_url"])
    finally:
        driver.quit()
    return gateway, merchant


def test_setup_link_login_wrong_password_and_logout(gateway):
    merchant = gateway.merchant("Dashboard Shop")
    link = invite(gateway, merchant["merchant_id"], "Owner@Shop.example")
    assert link["email"] == "owner@shop.example"
    assert link["setup_url"].startswith(gateway.base_url + "/dashboard/setup?token=")
    driver = chromium()
    try:
        set_password(driver, link["setup_url"])
        driver.get(link["setup_url"])
        wait_text(driver, "This link is not valid any more")

        log_in(driver, gateway, "owner@shop.example", "not the password at all")
        wait_text(driver, "The e-mail or the password is not right.")
        log_in(driver, gateway, "owner@shop.example")
        wait_text(driver, "Confirmed volume, last 30 days")
        assert "owner@shop.example · Dashboard Shop" in text(driver)
        shot(driver, "01-overview")
        cookie = driver.get_cookie("sg_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"

        driver.find_element(By.CSS_SELECTOR, "header button.link").click()  # Log out
        wait_text(driver, "Log in to your store")
        assert driver.get_cookie("sg_session") is None
        driver.get(gateway.base_url + "/dashboard/orders")
        wait_text(driver, "Log in to your store")
        assert "next=%2Fdashboard%2Forders" in driver.current_url or "next=/dashboard/orders" in driver.current_url
        assert csp_violations(driver) == []
    finally:
        driver.quit()


def test_create_a_key_copy_its_secret_sign_with_it_and_revoke_the_old_one(shop):
    gateway, merchant = shop
    driver = chromium()
    try:
        log_in(driver, gateway, "owner@shop.example")
        wait_text(driver, "Overview")
        driver.find_element(By.LINK_TEXT, "API keys").click()
        wait_text(driver, "Create a key")
        driver.find_element(By.ID, "label").send_keys("browser key")
        ips = driver.find_element(By.ID, "ips")
        ips.send_keys("127.0.0.1")
        ips.send_keys(Keys.ENTER)  # the browser submits CRLF between the lines
        ips.send_keys("::1")
        rate = driver.find_element(By.ID, "rate")
        rate.clear()
        rate.send_keys("100")
        driver.find_element(By.ID, "create-key").click()
        wait_text(driver, "Your new API key")
        key = driver.find_element(By.ID, "new-key").text
        secret = driver.find_element(By.ID, "new-secret").text
        assert key.startswith("sgk_") and secret.startswith("sgs_")
        shot(driver, "02-key-created")

        # The copy button puts exactly the secret on the clipboard.
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": gateway.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        copy = driver.find_element(By.CSS_SELECTOR, f'button.copy[data-copy="{secret}"]')
        assert copy.is_displayed(), "the copy button shows when the clipboard is available"
        copy.click()
        wait_for("the Copied label", lambda: copy.text == "Copied", 10)
        clipboard = driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], function (e) { arguments[0]('error: ' + e); });")
        assert clipboard == secret

        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", key, secret)
        assert (status, reply["code"]) == (200, 0), reply

        driver.find_element(By.CSS_SELECTOR, "a.button.primary").click()  # Done
        wait_text(driver, "browser key")
        listing = text(driver)
        assert secret not in driver.page_source
        assert "127.0.0.1/32, ::1/128" in listing or ("127.0.0.1/32" in listing and "::1/128" in listing)

        # Rotation: the old key still works until it is revoked here.
        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], merchant["api_secret"])
        assert reply["code"] == 0
        driver.find_element(By.CSS_SELECTOR, f'a[href="/dashboard/keys/{merchant["api_key"]}"]').click()
        wait_text(driver, "Revoke")
        driver.find_element(By.NAME, "confirm").click()
        driver.find_element(By.CSS_SELECTOR, "form[action$='/revoke'] button[type=submit]").click()
        wait_text(driver, "The key is revoked.")
        shot(driver, "03-keys")
        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], merchant["api_secret"])
        assert status == 401 and reply["code"] != 0
        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", key, secret)
        assert reply["code"] == 0
        assert csp_violations(driver) == []
    finally:
        driver.quit()


def cancel(gateway, intent_id):
    """The shopper cancels on the checkout page (a form post with its CSRF cookie)."""
    token = uuid.uuid4().hex
    request = urllib.request.Request(checkout_url(gateway, intent_id, "/cancel"), data=f"csrf={token}".encode(), method="POST",
                                     headers={"Cookie": f"sg_csrf={token}", "Content-Type": "application/x-www-form-urlencoded"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 303, error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def rows(driver):
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#orders tbody tr") if "No orders match" not in row.text]


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_filter_orders_and_download_the_csv(shop, tmp_path):
    gateway, merchant = shop
    ids = {}
    for number in range(1, 7):
        ids[f"A-{number}"] = create_intent(gateway, merchant, amount_cents=number * 1000, order_id=f"A-{number}", user_id=f"shopper-{number % 2}")
    cancel(gateway, ids["A-2"])
    cancel(gateway, ids["A-5"])
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(downloads=downloads)
    try:
        log_in(driver, gateway, "owner@shop.example")
        wait_text(driver, "Overview")
        driver.find_element(By.LINK_TEXT, "Orders").click()
        wait_text(driver, "6 orders · due 210.00")
        listed = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "#orders tbody td:nth-child(2) a")]
        assert listed == ["A-6", "A-5", "A-4", "A-3", "A-2", "A-1"], "newest first"

        Select(driver.find_element(By.NAME, "status")).select_by_visible_text("CANCELED")
        driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        wait_text(driver, "2 orders · due 70.00")
        assert len(rows(driver)) == 2 and all("CANCELED" in row for row in rows(driver))
        shot(driver, "04-orders-canceled")

        driver.find_element(By.LINK_TEXT, "Clear").click()
        wait_text(driver, "6 orders")
        search = driver.find_element(By.NAME, "q")
        search.send_keys("A-3")
        search.send_keys(Keys.ENTER)
        wait_text(driver, "1 order · due 30.00")
        driver.find_element(By.LINK_TEXT, "A-3").click()
        wait_text(driver, "Status timeline")
        assert ids["A-3"] in text(driver) and "shopper-1" in text(driver)

        driver.get(gateway.base_url + "/dashboard/orders")
        driver.find_element(By.NAME, "min").send_keys("30")
        driver.find_element(By.NAME, "max").send_keys("50.00")
        driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        wait_text(driver, "3 orders · due 120.00")
        shot(driver, "05-orders-amount-range")

        driver.find_element(By.ID, "export-csv").click()
        def finished():
            files = [path for path in downloads.iterdir() if path.suffix == ".csv"]
            return files[0] if files and not any(path.suffix == ".crdownload" for path in downloads.iterdir()) else None
        path = wait_for("the CSV download", finished, 30)
        assert path.name.startswith("orders-")
        with path.open(newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
        assert [(record["order_id"], record["amount_coins"], record["status_name"]) for record in records] == [
            ("A-5", "50.00", "CANCELED"), ("A-4", "40.00", "CREATED"), ("A-3", "30.00", "CREATED")]
        assert [record["intent_id"] for record in records] == [ids["A-5"], ids["A-4"], ids["A-3"]]
        assert csp_violations(driver) == []
    finally:
        driver.quit()
