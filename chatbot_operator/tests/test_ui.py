import json

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import set_online
from odoo.addons.chatbot_telegram.tests.common import TOKEN, TelegramMixin, with_update_id


@tagged("chatbot", "post_install", "-at_install")
class TestOperatorTour(TelegramMixin, HttpCase):
    """An operator joins in the browser, a customer writes from (fake) Telegram, the dialog appears in the
    operator's Discuss, the operator answers there, and the fake Telegram receives the answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telegram()
        cls.bot.write({"name": "Tour consultations", "bot_type": "operator", "wait_start_message": False})
        cls.operator_user = new_test_user(
            cls.env,
            "tour_operator",
            name="Iryna Operator",
            groups="base.group_user,chatbot_base.chatbot_base_group_user",
        )

    def test_operator_answers_a_telegram_customer_from_discuss(self):
        self.connect()
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action",
            "chatbot_operator_join_tour",
            login="tour_operator",
        )
        self.assertTrue(self.bot.with_user(self.operator_user).is_joined)
        set_online(self.operator_user)  # the tour's browser tab is gone: the operator is still at work

        channel = self.channel.sudo()
        update = with_update_id(
            self.fake.make_message_update(
                4242, "Hello from Telegram", {"id": 4242, "first_name": "Olena", "is_bot": False}
            )
        )
        response = self.url_open(
            f"/chatbot/telegram/{channel.webhook_key}",
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": channel.telegram_webhook_secret,
            },
        )
        self.assertEqual(response.status_code, 200)
        self.process_inbound()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)

        self.start_tour("/odoo/discuss", "chatbot_operator_answer_tour", login="tour_operator")
        self.send_outbound()
        texts = [m.get("text") for m in self.fake.sent_messages(4242, token=TOKEN)]
        self.assertIn("How can I help you, Olena?", texts)
        self.assertIn("Iryna Operator connected to chat. Please start messaging!", texts)
