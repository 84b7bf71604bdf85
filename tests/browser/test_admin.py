"""The administrator's screens as an administrator opens them: the first sign-in with the
one-time password the service printed, each screen at a desk and on a phone without running off
it, a unit, a holiday and a channel added through their forms, and a webhook subscribed with its
secret shown once."""

import os
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from support import BASE_URL, chromium, console_errors, overflow, screenshot, wait

SIZES = {"desk": (1366, 768), "phone": (390, 844)}
NEW_PASSWORD = "admin-pass-2026-console"
SCREENS = {
    "/admin/users": "用户管理",
    "/admin/units": "承办单位",
    "/admin/categories": "事项分类",
    "/admin/channels": "受理渠道",
    "/admin/calendar": "工作日历",
    "/admin/policy": "办理时限与催办规则",
    "/admin/webhooks": "事件推送",
}


def arrives_at(driver, path):
    wait(driver).until(expected_conditions.url_to_be(BASE_URL + path))


def sign_in(driver, password):
    driver.get(BASE_URL + "/sign-in")
    driver.find_element(By.NAME, "username").send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


class Admin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The first sign-in asks for a new password before anything else.
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, os.environ["ADMIN_PASSWORD"])
            arrives_at(driver, "/password")
            driver.find_element(By.NAME, "current_password").send_keys(os.environ["ADMIN_PASSWORD"])
            driver.find_element(By.NAME, "new_password").send_keys(NEW_PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "form[action='/password'] button[type=submit]").click()
            wait(driver).until(expected_conditions.url_changes(BASE_URL + "/password"))
        finally:
            driver.quit()

    def test_every_screen_fits_a_desk_and_a_phone(self):
        for size, (width, height) in SIZES.items():
            driver = chromium(width, height)
            try:
                sign_in(driver, NEW_PASSWORD)
                arrives_at(driver, "/")
                for path, heading in SCREENS.items():
                    with self.subTest(size=size, path=path):
                        driver.get(BASE_URL + path)
                        self.assertIn(heading, driver.find_element(By.TAG_NAME, "h1").text)
                        self.assertEqual(overflow(driver), 0, "the page runs off the window")
                        self.assertEqual(console_errors(driver), [])
                        name = path.rsplit("/", 1)[1]
                        screenshot(driver, f"console-admin-{name}-{size}.png")
            finally:
                driver.quit()

    def test_a_unit_and_a_holiday_are_added_through_their_forms(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, NEW_PASSWORD)
            arrives_at(driver, "/")
            driver.get(BASE_URL + "/admin/units")
            driver.find_element(By.CSS_SELECTOR, "details.card > summary").click()
            form = driver.find_element(By.ID, "add")
            form.find_element(By.NAME, "code").send_keys("jiaoti")
            form.find_element(By.NAME, "name").send_keys("教育体育局")
            Select(form.find_element(By.NAME, "kind")).select_by_visible_text("部门")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait(driver).until(expected_conditions.url_contains("q=jiaoti"))
            self.assertIn("教育体育局", driver.find_element(By.CSS_SELECTOR, "table").text)

            driver.get(BASE_URL + "/admin/calendar?year=2031")
            holidays = driver.find_element(By.NAME, "holidays")
            holidays.send_keys("2031-10-01 国庆节")
            driver.find_element(By.CSS_SELECTOR, "#year button[type=submit]").click()
            wait(driver).until(
                expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "main"), "法定节假日（1天）")
            )
            self.assertIn("2031-10-01 周三 国庆节", driver.find_element(By.TAG_NAME, "main").text)
            self.assertEqual(console_errors(driver), [])
            screenshot(driver, "console-admin-calendar-saved-desk.png")
        finally:
            driver.quit()

    def test_a_channel_is_defined_through_its_form_and_reported_apart(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, NEW_PASSWORD)
            arrives_at(driver, "/")
            driver.get(BASE_URL + "/admin/channels")
            driver.find_element(By.CSS_SELECTOR, "details.card > summary").click()
            form = driver.find_element(By.ID, "add")
            form.find_element(By.NAME, "code").send_keys("province_12345")
            form.find_element(By.NAME, "name").send_keys("省级12345热线")
            Select(form.find_element(By.NAME, "kind")).select_by_visible_text("上级交办")
            form.find_element(By.NAME, "bulletin_row").send_keys("上级交办")
            form.find_element(By.NAME, "sort_order").clear()
            form.find_element(By.NAME, "sort_order").send_keys("61")
            form.find_element(By.NAME, "own_section").click()
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait(driver).until(
                expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "table"), "省级12345热线")
            )
            row = [r for r in driver.find_elements(By.CSS_SELECTOR, "tbody tr") if "province_12345" in r.text][0]
            self.assertIn("上级交办", row.text)
            self.assertIn("是", row.text)
            self.assertEqual(console_errors(driver), [])
            screenshot(driver, "console-admin-channel-defined-desk.png")
        finally:
            driver.quit()

    def test_a_webhook_is_subscribed_and_its_secret_shown_once(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, NEW_PASSWORD)
            arrives_at(driver, "/")
            driver.get(BASE_URL + "/admin/webhooks")
            driver.find_element(By.CSS_SELECTOR, "details.card > summary").click()
            form = driver.find_element(By.ID, "add")
            form.find_element(By.NAME, "url").send_keys("https://portal.example.cn/hotline/events")
            form.find_element(By.NAME, "description").send_keys("市民网页")
            form.find_element(By.CSS_SELECTOR, "input[name=kinds][value=replied]").click()
            form.find_element(By.CSS_SELECTOR, "input[name=kinds][value=closed]").click()
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait(driver).until(expected_conditions.presence_of_element_located((By.ID, "made")))
            secret = driver.find_element(By.CSS_SELECTOR, "#made code.secret").text
            self.assertTrue(secret.startswith("whsec_"), secret)
            self.assertIn("答复、办结", driver.find_element(By.CSS_SELECTOR, "table").text)
            self.assertEqual(overflow(driver), 0, "the page runs off the window")
            screenshot(driver, "console-admin-webhook-made-desk.png")

            driver.find_element(By.LINK_TEXT, "密钥与投递记录").click()
            wait(driver).until(expected_conditions.url_contains("/admin/webhooks/"))
            self.assertNotIn(secret, driver.page_source, "a secret is shown only once")
            self.assertEqual(len(driver.find_elements(By.CSS_SELECTOR, "#secrets tbody tr")), 1)
            self.assertEqual(console_errors(driver), [])
            screenshot(driver, "console-admin-webhook-desk.png")
        finally:
            driver.quit()
