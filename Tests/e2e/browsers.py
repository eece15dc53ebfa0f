"""Debian's Chromium, headless, driven by Selenium: shared by the checkout page and dashboard
browser tests."""
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from conftest import ROOT, wait_for


def chromium(language="en-US", width=1280, height=900, javascript=True, downloads=None):
    """A headless Chromium; with `downloads`, files it downloads land in that directory."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--lang={language}",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    prefs = {"intl.accept_languages": language}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    if downloads:
        prefs.update({"download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(30)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def screenshot(driver, folder, name, full_page=True):
    """Saves the screen to artifacts/FOLDER/NAME.png, the whole page when `full_page`."""
    directory = ROOT / "artifacts" / folder
    directory.mkdir(parents=True, exist_ok=True)
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(driver.get_window_size()["width"], max(600, min(height + 20, 3000)))
    driver.save_screenshot(str(directory / f"{name}.png"))


def text(driver):
    """The visible text; empty while the page is between two loads."""
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""
    except WebDriverException as error:
        # Chromium reports a body replaced mid-read as an inspector error, not as stale.
        if "does not belong to the document" in str(error):
            return ""
        raise


def wait_text(driver, needle, seconds=40):
    return wait_for(f"“{needle}” on the page", lambda: needle in text(driver), seconds)


def csp_violations(driver):
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]
