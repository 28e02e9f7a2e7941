import base64

from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ChatbotCase


@tagged("chatbot", "post_install", "-at_install")
class TestPartner(ChatbotCase):
    def test_new_sender_gets_a_partner_from_the_profile(self):
        self.env["res.lang"]._activate_lang("uk_UA")
        self.receive(
            1, chat=3001, user={"id": 3001, "name": "Oksana Bondar", "lang": "uk", "phone": "0671112233"}
        )
        partner = self.dialog_of(3001).partner_id
        self.assertEqual(partner.name, "Oksana Bondar")
        self.assertEqual(partner.lang, "uk_UA")
        self.assertEqual(partner.phone, "+380671112233", "a local number is read in the company's country")

    def test_existing_partner_is_matched_by_phone(self):
        existing = self.env["res.partner"].create({"name": "Petro (CRM)", "mobile": "+380 (50) 765-43-21"})
        self.receive(1, chat=3002, user={"id": 3002, "name": "Petro", "phone": "380507654321"})
        self.assertEqual(self.dialog_of(3002).partner_id, existing)
        self.assertEqual(self.env["res.partner"].search_count([("name", "like", "Petro")]), 1)

    def test_shared_contact_links_the_partner_later(self):
        existing = self.env["res.partner"].create({"name": "Iryna (CRM)", "phone": "+380 44 123 45 67"})
        self.bot.create_partner = True
        self.receive(1, chat=3003, user={"id": 3003, "name": "Iryna"})
        sender = self.dialog_of(3003).sender_id
        self.assertNotEqual(sender.partner_id, existing, "unknown phone: a new partner was made")
        other_sender = self.dialog_of(3003).sender_id
        self.assertEqual(other_sender.phone, False)
        self.receive(2, chat=3003, user={"id": 3003, "name": "Iryna"}, contact_phone="+380441234567")
        self.assertEqual(sender.phone, "+380441234567")
        self.assertEqual(sender.partner_id.phone, "+380441234567", "the partner without phone gets it")

    def test_profile_picture_becomes_the_partner_picture(self):
        png_b64 = (
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        )
        png = base64.b64decode(png_b64)
        self.receive(1, chat=3008, user={"id": 3008, "name": "Pic", "photo": png_b64})
        self.assertEqual(base64.b64decode(self.dialog_of(3008).partner_id.image_1920)[:8], png[:8])

    def test_profile_with_phone_and_picture_gives_both_to_the_partner(self):
        png_b64 = (
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        )
        self.receive(1, chat=3009, user={"id": 3009, "name": "Both", "phone": "0671113344", "photo": png_b64})
        partner = self.dialog_of(3009).partner_id
        self.assertEqual(partner.phone, "+380671113344")
        self.assertEqual(base64.b64decode(partner.image_1920)[:8], base64.b64decode(png_b64)[:8])

    def test_existing_partner_is_matched_by_email(self):
        existing = self.env["res.partner"].create({"name": "Anna", "email": "Anna@Example.com"})
        self.receive(1, chat=3004, user={"id": 3004, "name": "Anna K", "email": "anna@example.com"})
        self.assertEqual(self.dialog_of(3004).partner_id, existing)

    def test_no_partner_when_the_bot_does_not_create_them(self):
        self.bot.create_partner = False
        partners = self.env["res.partner"].search_count([])
        self.receive(1, chat=3005, user={"id": 3005, "name": "Anonymous"})
        dialog = self.dialog_of(3005)
        self.assertTrue(dialog)
        self.assertFalse(dialog.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)

    def test_invalid_phone_is_kept_as_written(self):
        self.receive(1, chat=3006, user={"id": 3006, "name": "X", "phone": "12"})
        self.assertEqual(self.dialog_of(3006).sender_id.phone, "12")

    def test_one_open_dialog_per_sender_and_bot_in_the_database(self):
        self.receive(1, chat=3007, text="Hi")
        dialog = self.dialog_of(3007)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["chatbot.dialog"].create({"bot_id": self.bot.id, "sender_id": dialog.sender_id.id})
