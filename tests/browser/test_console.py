"""The console as its people open it: signing in through the form, each role's workbench at a
desk (1366×768) and on a phone without running off it, no script or style refused by the
page's policy, and signing out back to the sign-in page."""

import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from support import BASE_URL, DEMO_PASSWORD, chromium, console_errors, overflow, screenshot

SIZES = {"desk": (1366, 768), "phone": (390, 844)}


def arrives_at(driver, path):
    """Waits for the navigation a click started to land on `path`."""
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(BASE_URL + path))


def sign_in(driver, username):
    driver.get(BASE_URL + "/sign-in")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


class Console(unittest.TestCase):
    def test_each_role_signs_in_to_its_workbench_and_out(self):
        for size, (width, height) in SIZES.items():
            for username, expected in (
                ("agent", "待派单"),
                ("dispatcher", "各承办单位"),
                ("supervisor", "督办中"),
                ("renshe", "待签收"),
            ):
                with self.subTest(size=size, username=username):
                    driver = chromium(width, height)
                    try:
                        sign_in(driver, username)
                        arrives_at(driver, "/")
                        body = driver.find_element(By.TAG_NAME, "body").text
                        self.assertIn("工作台", body)
                        self.assertIn(expected, body)
                        self.assertEqual(overflow(driver), 0, "the page runs off the window")
                        self.assertEqual(console_errors(driver), [])
                        screenshot(driver, f"console-workbench-{username}-{size}.png")
                        if size == "desk" and username == "agent":
                            driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
                            arrives_at(driver, "/sign-in")
                            driver.get(BASE_URL + "/")
                            self.assertEqual(driver.current_url, BASE_URL + "/sign-in")
                    finally:
                        driver.quit()

    def test_a_wrong_password_stays_on_the_sign_in_page(self):
        driver = chromium(*SIZES["phone"])
        try:
            driver.get(BASE_URL + "/sign-in")
            driver.find_element(By.NAME, "username").send_keys("agent")
            driver.find_element(By.NAME, "password").send_keys("not the password")
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            alert = WebDriverWait(driver, 10).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))
            )
            self.assertIn("用户名或密码错误", alert.text)
            self.assertEqual(driver.find_element(By.NAME, "username").get_attribute("value"), "agent")
            self.assertEqual(overflow(driver), 0)
            screenshot(driver, "console-sign-in-refused-phone.png")
        finally:
            driver.quit()


if __name__ == "__main__":
    unittest.main()
