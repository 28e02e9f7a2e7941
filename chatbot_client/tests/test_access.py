from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestAccess(ClientCase):
    def test_users_read_steps_managers_edit_them(self):
        (step,) = self.flow({"step_type": "message", "text": "Hello"})
        self.assertEqual(step.with_user(self.bot_user).text, "Hello")
        with self.assertRaises(AccessError):
            step.with_user(self.bot_user).text = "Changed"
        step.with_user(self.bot_manager).text = "Changed"
        self.assertEqual(step.text, "Changed")
        new = (
            self.env["chatbot.step"]
            .with_user(self.bot_manager)
            .create({"bot_id": self.bot.id, "text": "Bye", "step_type": "end"})
        )
        self.assertEqual(new.position, 2)

    def test_only_managers_open_the_test_page(self):
        with self.assertRaises(AccessError):
            self.bot.with_user(self.bot_user).action_test_flow()
        self.assertEqual(
            self.bot.with_user(self.bot_manager).action_test_flow()["url"], f"/chatbot/test/{self.bot.id}"
        )
        channel = (
            self.env["chatbot.channel"]
            .with_context(active_test=False)
            .search([("bot_id", "=", self.bot.id), ("provider", "=", "browser")])
        )
        self.assertEqual(len(channel), 1)
        self.assertFalse(channel.active, "the test channel stays out of the Channels tab")
        self.bot.action_test_flow()
        self.assertEqual(
            self.env["chatbot.channel"]
            .with_context(active_test=False)
            .search_count([("bot_id", "=", self.bot.id), ("provider", "=", "browser")]),
            1,
            "one test channel per bot",
        )
