from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TOKEN, TelegramCase


@tagged("chatbot", "post_install", "-at_install")
class TestConnect(TelegramCase):
    def test_connect_checks_the_token_and_registers_the_webhook(self):
        info = self.connect()
        channel = self.channel.sudo()
        self.assertEqual(channel.state, "connected")
        self.assertEqual(channel.telegram_bot_username, "shop_test_bot")
        self.assertEqual(channel.telegram_bot_name, "Shop")
        self.assertEqual(info["url"], f"https://erp.example.com/chatbot/telegram/{channel.webhook_key}")
        self.assertNotIn(TOKEN, info["url"], "the token is never in a URL")
        call = self.fake.calls_for("setWebhook")[0]
        self.assertEqual(call.params["secret_token"], channel.telegram_webhook_secret)
        self.assertGreaterEqual(len(channel.telegram_webhook_secret), 40)
        self.assertEqual(
            call.params["allowed_updates"], ["message", "edited_message", "callback_query", "my_chat_member"]
        )
        self.assertTrue(1 <= call.params["max_connections"] <= 100)

    def test_a_new_secret_at_each_connection(self):
        self.connect()
        first = self.channel.sudo().telegram_webhook_secret
        self.connect()
        self.assertNotEqual(self.channel.sudo().telegram_webhook_secret, first)

    def test_wrong_token_saves_nothing(self):
        self.channel.sudo().telegram_token = "42:wrong-token-for-this-fake-server-xx"
        with self.assertRaisesRegex(UserError, "Telegram refused"):
            self.connect()
        self.assertEqual(self.channel.state, "draft")
        self.assertFalse(self.channel.telegram_bot_username)
        self.assertFalse(self.channel.sudo().telegram_webhook_secret)
        self.assertFalse(self.fake.calls_for("setWebhook"))

    def test_unreachable_api_says_so(self):
        self.channel.telegram_api_url = "http://127.0.0.1:9"
        with self.assertRaisesRegex(UserError, "cannot be reached"):
            self.connect()
        self.assertEqual(self.channel.state, "draft")

    def test_refused_webhook_saves_nothing(self):
        self.fake.fail_next(
            "setWebhook",
            kind="custom",
            status=400,
            description="Bad Request: bad webhook: HTTPS url must be provided for webhook",
        )
        with self.assertRaisesRegex(UserError, "HTTPS url must be provided"):
            self.connect()
        self.assertEqual(self.channel.state, "draft")
        self.assertFalse(self.channel.telegram_bot_username, "getMe's answer is not kept either")

    def test_only_system_administrators_connect(self):
        manager = self.env["res.users"].create(
            {
                "name": "Bot admin, not system",
                "login": "tg_bot_admin",
                "groups_id": [(6, 0, [self.env.ref("chatbot_base.chatbot_base_group_admin").id])],
            }
        )
        with self.assertRaisesRegex(UserError, "system administrators"):
            self.channel.with_user(manager).action_telegram_connect()

    def test_disconnect_deletes_the_webhook(self):
        self.connect()
        self.channel.with_user(self.sysadmin).action_telegram_disconnect()
        self.assertEqual(self.channel.state, "draft")
        self.assertEqual(self.fake.webhook_info(TOKEN)["url"], "")
        self.assertTrue(self.fake.calls_for("deleteWebhook"))

    def test_webhook_health_and_drift_repair(self):
        self.connect()
        # Someone deleted the webhook behind our back (another server with the same token, say).
        self.channel._chatbot_connector().api().delete_webhook()
        self.env["chatbot.channel"]._cron_telegram_check_webhooks()
        info = self.fake.webhook_info(TOKEN)
        self.assertEqual(info["url"], self.channel.sudo().telegram_webhook_url, "re-registered")
        self.assertTrue(self.channel.telegram_checked_date)
        self.assertEqual(self.channel.telegram_pending_updates, 0)

    def test_long_polling_stores_updates_and_advances_the_offset(self):
        self.connect(intake="polling")
        self.assertEqual(self.fake.webhook_info(TOKEN)["url"], "")
        for text in ("one", "two"):
            self.fake.push_update(TOKEN, self.fake.make_message_update(7001, text))
        stored = self.env["chatbot.channel"]._cron_telegram_poll(time_budget=3, poll_seconds=0)
        self.assertEqual(stored, 2)
        self.assertTrue(self.channel.telegram_update_offset)
        self.assertEqual(
            self.env["chatbot.channel"]._cron_telegram_poll(time_budget=2, poll_seconds=0),
            0,
            "confirmed updates are not fetched again",
        )
        self.process_inbound()
        self.assertEqual(self.dialog_of(7001).message_ids.mapped("body"), ["one", "two"])
