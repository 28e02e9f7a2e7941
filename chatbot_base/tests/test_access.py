from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ChatbotCase


@tagged("chatbot", "post_install", "-at_install")
class TestAccess(ChatbotCase):
    """The three roles of seed §1.1.1: User, Manager, Administrator."""

    def setUp(self):
        super().setUp()
        self.receive(1, chat=4001, text="Hello")
        self.dialog = self.dialog_of(4001)

    def test_user_sees_bots_dialogs_and_senders_but_changes_nothing(self):
        bot = self.bot.with_user(self.bot_user)
        self.assertEqual(bot.name, "Test bot")
        self.assertEqual((bot.dialog_count, bot.sender_count, bot.channel_count), (1, 1, 1))
        self.assertEqual(self.dialog.with_user(self.bot_user).message_ids.body, "Hello")
        self.assertTrue(self.dialog.sender_id.with_user(self.bot_user).name)
        with self.assertRaises(AccessError):
            bot.name = "Renamed"
        with self.assertRaises(AccessError):
            self.env["chatbot.bot"].with_user(self.bot_user).create({"name": "New"})
        with self.assertRaises(AccessError):
            self.dialog.with_user(self.bot_user).unlink()

    def test_user_cannot_open_a_bot_but_its_dialogs(self):
        action = self.bot.with_user(self.bot_user).action_open_bot()
        self.assertEqual(action["res_model"], "chatbot.dialog")
        self.assertEqual(action["domain"], [("bot_id", "=", self.bot.id)])
        action = self.bot.with_user(self.bot_manager).action_open_bot()
        self.assertEqual((action["res_model"], action["res_id"]), ("chatbot.bot", self.bot.id))

    def test_settings_are_for_administrators_only(self):
        country = self.env.ref("base.pl")
        for user in (self.bot_user, self.bot_manager):
            with self.assertRaises(AccessError, msg=user.login):
                self.bot.with_user(user).read(["default_country_id"])
            with self.assertRaises(AccessError, msg=user.login):
                self.bot.with_user(user).write({"default_country_id": country.id})
        self.bot.with_user(self.bot_admin).default_country_id = country
        self.assertEqual(self.bot.default_country_id, country)

    def test_manager_manages_bots_channels_and_dialogs(self):
        bot = (
            self.env["chatbot.bot"]
            .with_user(self.bot_manager)
            .create({"name": "Lviv", "bot_type": "operator"})
        )
        bot.name = "Lviv customers"
        channel = (
            self.env["chatbot.channel"]
            .with_user(self.bot_manager)
            .create({"name": "Second", "bot_id": bot.id, "provider": "fake"})
        )
        channel.unlink()
        self.dialog.with_user(self.bot_manager).action_close()
        self.assertTrue(self.dialog.is_closed)

    def test_queues_are_not_for_users(self):
        with self.assertRaises(AccessError):
            self.env["chatbot.inbound"].with_user(self.bot_user).search([])
        self.assertTrue(self.env["chatbot.inbound"].with_user(self.bot_manager).search([]))
        with self.assertRaises(AccessError):
            self.env["chatbot.inbound"].with_user(self.bot_manager).search([]).unlink()

    def test_webhook_key_is_for_system_administrators_only(self):
        with self.assertRaises(AccessError):
            self.channel.with_user(self.bot_admin).read(["webhook_key"])
        self.assertGreaterEqual(len(self.channel.sudo().webhook_key), 32)

    def test_channel_with_history_cannot_be_deleted(self):
        with self.assertRaisesRegex(Exception, "Archive it"):
            self.channel.with_user(self.bot_manager).unlink()

    def test_removing_a_chat_with_senders_archives_it_and_keeps_the_history(self):
        second = self.env["chatbot.channel"].create(
            {"name": "Unused", "bot_id": self.bot.id, "provider": "fake"}
        )
        (self.channel | second).with_user(self.bot_manager).action_chatbot_remove()
        self.assertFalse(second.exists(), "nobody wrote to it: deleted")
        self.assertEqual(self.channel.active, False, "archived, not deleted")
        self.assertEqual(self.dialog.sender_id.channel_id, self.channel)
        self.assertEqual(self.dialog.message_ids.body, "Hello", "the history stays")
        with self.assertRaises(AccessError):
            self.channel.with_user(self.bot_user).action_chatbot_remove()

    def test_a_contact_shows_every_dialog_and_messenger_account(self):
        partner = self.env["res.partner"].create({"name": "Olena Koval"})
        self.dialog.sender_id.partner_id = partner
        self.dialog.partner_id = partner
        self.dialog.action_close()
        self.receive(2, chat=4001, text="Me again")
        contact = partner.with_user(self.bot_user)
        self.assertEqual(contact.chatbot_dialog_count, 2, "closed dialogs too")
        self.assertEqual(contact.chatbot_sender_ids, self.dialog.sender_id)
        action = contact.action_chatbot_dialogs()
        dialogs = self.env["chatbot.dialog"].with_user(self.bot_user).search(action["domain"])
        self.assertEqual(len(dialogs), 2)
        self.assertNotIn("search_default_filter_open", action["context"])

    def test_other_company_records_are_invisible(self):
        other_company = self.env["res.company"].create({"name": "Other company"})
        self.bot_manager.company_ids = [(4, other_company.id)]
        other_bot = self.env["chatbot.bot"].create({"name": "Elsewhere", "company_id": other_company.id})
        visible = self.env["chatbot.bot"].with_user(self.bot_user).search([])
        self.assertIn(self.bot, visible)
        self.assertNotIn(other_bot, visible)

    def test_kanban_figures_cost_the_same_for_many_bots(self):
        self.env["chatbot.bot"].create([{"name": f"Bot {i}"} for i in range(20)])
        fields_ = ["name", "operator_count", "dialog_count", "channel_count", "sender_count"]
        Bot = self.env["chatbot.bot"].with_user(self.bot_user)
        Bot.web_search_read([], {f: {} for f in fields_}, limit=2)
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=7):
            Bot.web_search_read([], {f: {} for f in fields_}, limit=80)
