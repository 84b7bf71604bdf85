"""A call from the phone to the closed ticket, every step done in the console as its people do
it: the agent takes the call at the intake form (the caller's history and the knowledge base
filling in beside it) and dispatches it; the unit's handler signs for it and replies from a
phone with the contact record and a photo; the dispatcher accepts the reply; the agent calls
the citizen back and the ticket is closed. Screenshots of each screen on the way."""

import os
import struct
import unittest
import zlib

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select

from support import BASE_URL, OUT, api, chromium, console_errors, overflow, screenshot, token, wait
from test_console import SIZES, arrives_at, sign_in



def photo(width=320, height=240):
    """A PNG of a sky over a road, as small as a phone's photo is large."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes((90, 150, 220) if y < height * 2 // 3 else (110, 110, 110)) * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def status_becomes(driver, words):
    wait(driver).until(
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".tag.status"), words)
    )


def submit(driver, action):
    """Clicks the submit button of the form posting to `action`."""
    button = driver.find_element(By.CSS_SELECTOR, f"form[action='{action}'] button[type=submit]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def open_form(driver, action):
    """Opens the folded form posting to `action` (the usual action of a state is open already)."""
    form = driver.find_element(By.CSS_SELECTOR, f"form[action='{action}']")
    details = form.find_element(By.XPATH, "./ancestor::details")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    return form


class CallToClosedTicket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        office = token("dispatcher")
        article = api(
            "POST",
            "/api/v1/articles",
            office,
            {
                "title": "拖欠农民工工资的投诉渠道",
                "body": "农民工工资被拖欠，可向人社局劳动保障监察大队投诉，需提供劳动合同或考勤记录等证据。",
                "keywords": ["拖欠工资", "劳动监察"],
            },
        )
        api("POST", f"/api/v1/articles/{article['id']}/submit", office, {})
        api("POST", f"/api/v1/articles/{article['id']}/publish", office, {})
        cls.photo = os.path.join(OUT, "site-photo.png")
        with open(cls.photo, "wb") as f:
            f.write(photo())

    def test_a_call_goes_from_intake_to_closed(self):
        desk = chromium(*SIZES["desk"])
        try:
            # The agent takes the call.
            sign_in(desk, "agent")
            arrives_at(desk, "/")
            desk.find_element(By.LINK_TEXT, "登记来电").click()
            arrives_at(desk, "/intake")
            Select(desk.find_element(By.NAME, "type")).select_by_visible_text("投诉")
            desk.find_element(By.NAME, "category").send_keys("社会保障—工资薪金")
            desk.find_element(By.NAME, "caller_name").send_keys("张三")
            desk.find_element(By.NAME, "caller_phone").send_keys("13700001111")
            wait(desk).until(
                expected_conditions.text_to_be_present_in_element((By.ID, "history"), "此前没有来电记录")
            )
            desk.find_element(By.NAME, "address").send_keys("城关镇建设路工地")
            desk.find_element(By.NAME, "title").send_keys("建筑工地拖欠工资")
            desk.find_element(By.NAME, "content").send_keys("在城关镇建设路工地务工，工资拖欠两个月。")
            desk.find_element(By.NAME, "q").send_keys("拖欠工资")
            wait(desk).until(
                expected_conditions.text_to_be_present_in_element((By.ID, "answers"), "拖欠农民工工资的投诉渠道")
            )
            self.assertEqual(len(desk.find_elements(By.CSS_SELECTOR, "#answers mark")) > 0, True)
            self.assertEqual(overflow(desk), 0, "the intake form runs off the window")
            self.assertEqual(console_errors(desk), [])
            screenshot(desk, "console-intake-desk.png")
            desk.find_element(By.CSS_SELECTOR, "button[name=then][value=dispatch]").click()
            wait(desk).until(expected_conditions.url_contains("/tickets/"))
            path = desk.current_url[len(BASE_URL):]
            status_becomes(desk, "待派发")

            # ... and dispatches it to the category's unit, suggested by the form.
            form = open_form(desk, f"{path}/dispatch")
            chosen = Select(form.find_element(By.NAME, "primary_unit_id")).first_selected_option.text
            self.assertIn("人社局", chosen)
            screenshot(desk, "console-dispatch-desk.png")
            submit(desk, f"{path}/dispatch")
            status_becomes(desk, "待签收")
            desk.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
            arrives_at(desk, "/sign-in")
        finally:
            desk.quit()

        phone = chromium(*SIZES["phone"])
        try:
            # The unit's handler signs for it and replies from the field with a photo.
            sign_in(phone, "renshe")
            arrives_at(phone, "/")
            phone.get(BASE_URL + path)
            submit(phone, f"{path}/sign")
            status_becomes(phone, "办理中")
            form = open_form(phone, f"{path}/reply")
            Select(form.find_element(By.NAME, "result")).select_by_visible_text("已解决")
            form.find_element(By.NAME, "text").send_keys("已督促施工单位于本周内结清拖欠工资。")
            Select(form.find_element(By.NAME, "contact_method")).select_by_visible_text("上门/现场")
            form.find_element(By.NAME, "contact_outcome").send_keys("当面告知处理结果，来电人认可")
            form.find_element(By.NAME, "files").send_keys(self.photo)
            self.assertEqual(overflow(phone), 0, "the reply form runs off a phone")
            screenshot(phone, "console-reply-phone.png")
            submit(phone, f"{path}/reply")
            status_becomes(phone, "待审核")
            photo = phone.find_element(By.CSS_SELECTOR, "section.reply ul.files img")
            wait(phone).until(lambda d: d.execute_script("return arguments[0].naturalWidth", photo) == 320)
            self.assertEqual(console_errors(phone), [])
            screenshot(phone, "console-replied-phone.png")
        finally:
            phone.quit()

        desk = chromium(*SIZES["desk"])
        try:
            # The dispatcher reads the reply and its photo, and accepts it.
            sign_in(desk, "dispatcher")
            arrives_at(desk, "/")
            self.assertIn("待审核答复", desk.find_element(By.TAG_NAME, "body").text)
            desk.find_element(By.CSS_SELECTOR, f"ul.queue a[href='{path}']").click()
            arrives_at(desk, path)
            self.assertIn("已督促施工单位", desk.find_element(By.CSS_SELECTOR, "section.reply").text)
            form = open_form(desk, f"{path}/review")
            form.find_element(By.CSS_SELECTOR, "input[name=decision][value=accept]").click()
            screenshot(desk, "console-review-desk.png")
            submit(desk, f"{path}/review")
            status_becomes(desk, "待回访")
            desk.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
            arrives_at(desk, "/sign-in")

            # The agent calls the citizen back: satisfied, the ticket is closed.
            sign_in(desk, "agent")
            arrives_at(desk, "/")
            desk.find_element(By.CSS_SELECTOR, f"ul.queue a[href='{path}']").click()
            arrives_at(desk, path)
            form = open_form(desk, f"{path}/callback")
            form.find_element(By.CSS_SELECTOR, "input[name=reached][value=yes]").click()
            Select(form.find_element(By.NAME, "satisfaction")).select_by_visible_text("满意")
            Select(form.find_element(By.NAME, "resolved")).select_by_visible_text("已解决")
            form.find_element(By.NAME, "comment").send_keys("来电人表示工资已结清，满意。")
            screenshot(desk, "console-callback-desk.png")
            submit(desk, f"{path}/callback")
            status_becomes(desk, "已办结")
            timeline = desk.find_element(By.CSS_SELECTOR, "ol.timeline").text
            for words in ("登记", "派单给 人社局（主办）", "人社局 签收", "回访"):
                self.assertIn(words, timeline)
            self.assertEqual(desk.find_elements(By.CSS_SELECTOR, "section.actions form"), [])
            self.assertEqual(console_errors(desk), [])
            screenshot(desk, "console-closed-desk.png")
        finally:
            desk.quit()

    def test_a_form_without_its_token_is_refused(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, "agent")
            arrives_at(driver, "/")
            driver.get(BASE_URL + "/intake")
            driver.execute_script("document.querySelector('#intake input[name=csrf]').remove()")
            driver.find_element(By.NAME, "title").send_keys("没有令牌的表单")
            driver.find_element(By.NAME, "content").send_keys("不应登记")
            driver.find_element(By.CSS_SELECTOR, "button[name=then][value=dispatch]").click()
            # The intake page has a heading of its own: wait for the answer's, which replaces it.
            wait(driver).until(
                lambda d: "无权进行此操作" in d.find_element(By.TAG_NAME, "h1").text
            )
            self.assertEqual(driver.current_url, BASE_URL + "/intake")
        finally:
            driver.quit()

    def test_an_ended_session_goes_back_to_sign_in(self):
        driver = chromium(*SIZES["desk"])
        try:
            sign_in(driver, "agent")
            arrives_at(driver, "/")
            ended = driver.get_cookie("hotline_session")
            self.assertTrue(ended["httpOnly"])
            driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
            arrives_at(driver, "/sign-in")
            # The browser still presents the old cookie: the service no longer knows it.
            driver.add_cookie({"name": ended["name"], "value": ended["value"], "path": "/"})
            driver.get(BASE_URL + "/intake")
            self.assertEqual(driver.current_url, BASE_URL + "/sign-in")
        finally:
            driver.quit()


if __name__ == "__main__":
    unittest.main()
