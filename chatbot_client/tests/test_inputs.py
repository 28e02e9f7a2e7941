from datetime import date

from odoo.tests import BaseCase, tagged

from ..tools.inputs import display, read_input


@tagged("chatbot", "post_install", "-at_install")
class TestInputs(BaseCase):
    def test_phone(self):
        self.assertEqual(read_input("phone", "067 123 45 67", region="UA"), "+380671234567")
        self.assertEqual(read_input("phone", "380671234567"), "+380671234567", "Telegram's shared contact")
        self.assertEqual(read_input("phone", "+1 650 253 0000", region="UA"), "+16502530000")
        self.assertIsNone(read_input("phone", "067 12", region="UA"))
        self.assertIsNone(read_input("phone", "call me", region="UA"))

    def test_email(self):
        self.assertEqual(read_input("email", " Ada@Example.COM "), "ada@example.com")
        self.assertIsNone(read_input("email", "ada at example"))

    def test_number(self):
        self.assertEqual(read_input("number", "12"), 12.0)
        self.assertEqual(read_input("number", "1 200,50"), 1200.5)
        self.assertEqual(read_input("number", "-3.5"), -3.5)
        self.assertIsNone(read_input("number", "12 apples"))
        self.assertEqual(display(12.0), "12")

    def test_date(self):
        self.assertEqual(read_input("date", "2026-12-31"), date(2026, 12, 31))
        self.assertEqual(read_input("date", "31.12.2026"), date(2026, 12, 31))
        self.assertEqual(read_input("date", "31/12/26"), date(2026, 12, 31))
        self.assertEqual(read_input("date", "12/31/2026", lang_format="%m/%d/%Y"), date(2026, 12, 31))
        self.assertIsNone(read_input("date", "31.02.2026"), "no 31 February")
        self.assertEqual(display(date(2026, 12, 31)), "2026-12-31")

    def test_text(self):
        self.assertEqual(read_input("text", "  hi  "), "hi")
        self.assertIsNone(read_input("text", "   "))
