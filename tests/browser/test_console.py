"""The console as its people open it: signing in through the form, each role's workbench at a
desk (1366×768) and on a phone without running off it, no script or style refused by the
page's policy, and signing out back to the sign-in page."""

import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from support import BASE_URL, DEMO_PASSWORD, api, chromium, console_errors, overflow, screenshot, token, wait

SIZES = {"desk": (1366, 768), "phone": (390, 844)}


def arrives_at(driver, path):
    """Waits for the navigation a click started to land on `path`."""
    wait(driver).until(expected_conditions.url_to_be(BASE_URL + path))


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
            alert = wait(driver).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))
            )
            self.assertIn("用户名或密码错误", alert.text)
            self.assertEqual(driver.find_element(By.NAME, "username").get_attribute("value"), "agent")
            self.assertEqual(overflow(driver), 0)
            screenshot(driver, "console-sign-in-refused-phone.png")
        finally:
            driver.quit()


class TicketPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        agent, dispatcher = token("agent"), token("dispatcher")
        unit_id = api("GET", "/api/v1/auth/me", token("renshe"))["unit_id"]
        ticket = api(
            "POST",
            "/api/v1/tickets",
            agent,
            {
                "type": "complaint",
                "title": "拖欠工资三个月未发",
                "content": "本人在城关镇某建筑工地务工，工资已拖欠三个月，多次讨要无果，请人社部门协调处理。",
                "caller_name": "李四",
                "caller_phone": "13912345678",
                "address": "城关镇建设路工地",
            },
        )
        api(
            "POST",
            f"/api/v1/tickets/{ticket['id']}/dispatch",
            dispatcher,
            {"primary_unit_id": unit_id, "note": "请核实后答复"},
        )
        cls.path = f"/tickets/{ticket['id']}"

    def test_the_unit_reads_the_ticket_with_its_deadlines_and_timeline(self):
        for size, (width, height) in SIZES.items():
            with self.subTest(size=size):
                driver = chromium(width, height)
                try:
                    sign_in(driver, "renshe")
                    arrives_at(driver, "/")
                    # The workbench lists the ticket with its light; its title leads to the page.
                    item = driver.find_element(By.CSS_SELECTOR, f"ul.queue a[href='{self.path}']")
                    self.assertIn("拖欠工资三个月未发", item.text)
                    self.assertEqual(overflow(driver), 0, "the workbench runs off the window")
                    screenshot(driver, f"console-workbench-queue-{size}.png")
                    item.click()
                    arrives_at(driver, self.path)
                    body = driver.find_element(By.TAG_NAME, "body").text
                    for words in ("拖欠工资三个月未发", "待签收", "办理过程", "登记", "派单给", "请核实后答复"):
                        self.assertIn(words, body)
                    self.assertNotIn("13912345678", body)
                    self.assertEqual(overflow(driver), 0, "the page runs off the window")
                    self.assertEqual(console_errors(driver), [])
                    screenshot(driver, f"console-ticket-{size}.png")
                finally:
                    driver.quit()

    def test_the_unit_signs_it_from_its_page(self):
        driver = chromium(*SIZES["phone"])
        try:
            sign_in(driver, "renshe")
            arrives_at(driver, "/")
            driver.get(BASE_URL + self.path)
            driver.find_element(By.CSS_SELECTOR, f"form[action='{self.path}/sign'] button").click()
            wait(driver).until(
                expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".tag.status"), "办理中")
            )
            self.assertEqual(driver.current_url, BASE_URL + self.path)
            self.assertIn("人社局 签收", driver.find_element(By.CSS_SELECTOR, "ol.timeline").text)
            self.assertEqual(driver.find_elements(By.CSS_SELECTOR, f"form[action='{self.path}/sign']"), [])
            self.assertEqual(console_errors(driver), [])
            screenshot(driver, "console-ticket-signed-phone.png")
        finally:
            driver.quit()

    def test_another_unit_finds_no_such_ticket(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, "chengguan")
            arrives_at(driver, "/")
            driver.get(BASE_URL + self.path)
            self.assertIn("未找到", driver.find_element(By.TAG_NAME, "h1").text)
            self.assertNotIn("拖欠工资", driver.find_element(By.TAG_NAME, "body").text)
        finally:
            driver.quit()


class OfficePages(unittest.TestCase):
    """The pages beside the tickets, each at a desk and on a phone: the unit's notifications and
    articles, the supervisions and the bulletins."""

    def test_each_page_fits_and_says_what_it_is(self):
        for size, (width, height) in SIZES.items():
            for username, path, words in (
                ("renshe", "/notifications", "通知"),
                ("renshe", "/articles", "本单位知识条目"),
                ("renshe", "/figures", "考核数据"),
                ("supervisor", "/figures", "考核数据"),
                ("supervisor", "/supervisions", "督办中的工单"),
                ("supervisor", "/bulletins", "月度通报"),
            ):
                with self.subTest(size=size, path=path):
                    driver = chromium(width, height)
                    try:
                        sign_in(driver, username)
                        arrives_at(driver, "/")
                        driver.get(BASE_URL + path)
                        self.assertIn(words, driver.find_element(By.TAG_NAME, "h1").text)
                        self.assertEqual(overflow(driver), 0, f"{path} runs off the window")
                        self.assertEqual(console_errors(driver), [])
                        screenshot(driver, f"console{path.replace('/', '-')}-{size}.png")
                    finally:
                        driver.quit()

    def test_the_bulletin_opens_as_the_office_prints_it(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, "supervisor")
            arrives_at(driver, "/")
            driver.get(BASE_URL + "/bulletins")
            link = driver.find_elements(By.CSS_SELECTOR, "ul.queue a")[1]
            driver.get(link.get_attribute("href"))
            self.assertIn("通报", driver.find_element(By.TAG_NAME, "h1").text)
            # Its own stylesheet applies: the policy let it in by its digest.
            self.assertNotEqual(
                driver.execute_script("return getComputedStyle(document.body).maxWidth"), "none"
            )
            self.assertEqual(console_errors(driver), [])
            screenshot(driver, "console-bulletin-desk.png")
        finally:
            driver.quit()


if __name__ == "__main__":
    unittest.main()
