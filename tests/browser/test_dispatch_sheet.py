"""The printable 交办单 as the unit's staff see and print it: in Chinese, on screen and on a
phone without running off it, on one A4 page, the caller masked."""

import base64
import os
import re
import unittest

from support import OUT, api, chromium, console_errors, overflow, screenshot, signed_in, token

LONG_CONTENT = (
    "本人居住在城关镇幸福小区3号楼，楼下新开的饭店每天晚上十点以后仍在营业，排风扇和空调外机噪音很大，"
    "油烟直接排进小区，已经持续一个多月，多次与店家沟通无果，影响老人和孩子休息，请有关部门尽快处理。"
) * 3


class DispatchSheet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        agent, dispatcher = token("agent"), token("dispatcher")
        cls.unit_token = token("renshe")
        unit_id = api("GET", "/api/v1/auth/me", cls.unit_token)["unit_id"]
        cls.unit_name = api("GET", f"/api/v1/units/{unit_id}", dispatcher)["name"]
        ticket = api(
            "POST",
            "/api/v1/tickets",
            agent,
            {
                "type": "complaint",
                "title": "饭店夜间噪音和油烟扰民",
                "content": LONG_CONTENT,
                "caller_name": "王小明",
                "caller_phone": "13812345678",
                "address": "城关镇幸福小区3号楼底商",
                "priority": "urgent",
            },
        )
        api("POST", f"/api/v1/tickets/{ticket['id']}/dispatch", dispatcher, {"primary_unit_id": unit_id})
        cls.path = f"/api/v1/tickets/{ticket['id']}/dispatch-sheet"
        cls.number = ticket["number"]

    def open(self, width, height):
        driver = chromium(width, height)
        self.addCleanup(driver.quit)
        signed_in(driver, self.unit_token)
        driver.get(os.environ["BASE_URL"] + self.path)
        return driver

    def test_the_unit_reads_it_on_a_desk_screen(self):
        driver = self.open(1366, 768)
        text = driver.find_element("tag name", "body").text
        self.assertIn("工单交办单", driver.find_element("tag name", "h1").text)
        for shown in (self.number, self.unit_name, "主办", "紧急", "138****5678", "王**"):
            self.assertIn(shown, text)
        self.assertNotIn("13812345678", text)
        self.assertEqual(overflow(driver), 0)
        self.assertEqual(console_errors(driver), [])
        screenshot(driver, "dispatch-sheet-1366.png")

    def test_nothing_runs_off_a_phone_screen(self):
        driver = self.open(390, 844)
        self.assertEqual(overflow(driver), 0)
        screenshot(driver, "dispatch-sheet-phone.png")

    def test_it_prints_on_one_a4_page(self):
        driver = self.open(1366, 768)
        printed = driver.execute_cdp_cmd(
            "Page.printToPDF",
            {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True},
        )
        pdf = base64.b64decode(printed["data"])
        with open(os.path.join(OUT, "dispatch-sheet.pdf"), "wb") as file:
            file.write(pdf)
        pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
        self.assertEqual(pages, 1)


if __name__ == "__main__":
    unittest.main()
