"""What the browser tests share: the service's API as an integrator calls it, and a headless
Chromium from Debian's packages driven through the system's chromedriver."""

import json
import os
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

BASE_URL = os.environ["BASE_URL"]
DEMO_PASSWORD = os.environ["DEMO_PASSWORD"]
OUT = os.environ.get("BROWSER_OUT", ".")


def api(method, path, token=None, body=None):
    """One request; the answer's JSON. A status of 400 or more raises with the answer."""
    request = urllib.request.Request(BASE_URL + path, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, data) as answer:
        return json.loads(answer.read() or b"null")


def token(username, password=DEMO_PASSWORD):
    return api("POST", "/api/v1/auth/token", body={"username": username, "password": password})[
        "access_token"
    ]


def chromium(width, height):
    """A headless Chromium showing `width` × `height` CSS pixels, its console kept for reading."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Given by path, the driver is used as it is: Selenium Manager downloads nothing.
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    return driver


def signed_in(driver, bearer):
    """Every request of the browser from now on carries the API token."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {bearer}"}})


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def overflow(driver):
    """How many CSS pixels the page is wider than the window (0: nothing runs off it)."""
    return driver.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);"
    )


def screenshot(driver, name):
    path = os.path.join(OUT, name)
    driver.save_screenshot(path)
    return path


def wait(driver, seconds=10):
    """Waits for a condition, looking again when the page changed under the look: a form's
    answer replaces the document between finding an element and reading it, and Chromium then
    reports the node as gone from the document with an error of no more specific class."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,))
