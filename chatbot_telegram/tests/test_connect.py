from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import TOKEN, TelegramCase, with_update_id


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
        self.assertEqual(
            self.dialog_of(7001).message_ids.mapped("body"), ["one", "two"], "processed in the run"
        )

    def test_long_polling_never_writes_the_channel(self):
        """The offset lives in a row of its own: the channel's row is written by other jobs (the outbound
        queue's pacing), and a poll writing it too lost its run to a serialization failure."""
        self.connect(intake="polling")

        def channel_row_version():
            self.env.flush_all()
            self.env.cr.execute("SELECT ctid FROM chatbot_channel WHERE id = %s", [self.channel.id])
            return self.env.cr.fetchone()[0]

        before = channel_row_version()
        update = self.fake.push_update(TOKEN, self.fake.make_message_update(7002, "three"))
        stored = self.env["chatbot.channel"]._cron_telegram_poll(time_budget=3, poll_seconds=0)
        self.assertEqual(stored, 1)
        self.assertEqual(channel_row_version(), before, "an UPDATE of the channel's row gives it a new ctid")
        poll = self.env["chatbot.telegram.poll"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(poll.update_offset, str(update["update_id"] + 1))
        self.assertEqual(self.channel.telegram_update_offset, poll.update_offset)
        self.assertEqual(self.fake.calls_for("getUpdates")[-1].params["offset"], update["update_id"] + 1)


@tagged("chatbot", "post_install", "-at_install")
class TestConnectionRights(TelegramCase):
    """The token goes in the path of every Bot API call and the webhook's secret to Odoo's public address:
    who may change those addresses may take the token. System administrators only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bots_admin = new_test_user(
            cls.env, "tg_bots_admin", groups="chatbot_base.chatbot_base_group_admin"
        )
        cls.bots_manager = new_test_user(
            cls.env, "tg_bots_manager", groups="chatbot_base.chatbot_base_group_manager"
        )

    def test_a_manager_cannot_point_the_token_elsewhere(self):
        self.connect()
        for user in (self.bots_manager, self.bots_admin):
            channel = self.channel.with_user(user)
            for values in (
                {"telegram_api_url": "https://evil.example.com"},
                {"telegram_public_url": "https://evil.example.com"},
                {"telegram_intake": "polling"},
                {"name": "Renamed", "telegram_api_url": "https://evil.example.com"},
            ):
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    channel.write(values)
        channel = self.channel.sudo()
        self.assertEqual(channel.telegram_api_url, self.fake.base_url)
        self.assertEqual(channel.telegram_public_url, "https://erp.example.com")
        self.assertEqual(channel.telegram_intake, "webhook")
        # the token still goes to the Bot API the administrator chose, and nowhere else
        self.assertEqual(self.channel._chatbot_connector().api().base_url, self.fake.base_url)
        self.channel._chatbot_store_inbound(with_update_id(self.fake.make_message_update(7101, "hello")))
        self.process_inbound()
        self.assertTrue(self.dialog_of(7101))

    def test_a_manager_cannot_create_a_channel_pointing_elsewhere(self):
        Channel = self.env["chatbot.channel"].with_user(self.bots_manager)
        values = {"name": "Evil", "bot_id": self.bot.id, "provider": "telegram"}
        for extra in (
            {"telegram_api_url": "https://evil.example.com"},
            {"telegram_public_url": "https://evil.example.com"},
            {"webhook_key": "chosen-by-the-manager"},
        ):
            with self.subTest(extra=extra), self.assertRaises(AccessError):
                Channel.create({**values, **extra})
        # with the defaults, a manager prepares a channel the administrator will connect
        channel = Channel.create({**values, "telegram_api_url": "https://api.telegram.org"})
        self.assertEqual(channel.sudo().telegram_api_url, "https://api.telegram.org")
        self.assertEqual(channel.telegram_api_url_shown, "https://api.telegram.org")

    def test_system_administrators_change_the_addresses(self):
        channel = self.channel.with_user(self.sysadmin)
        channel.write(
            {"telegram_api_url": "https://bots.example.com", "telegram_public_url": "https://x.example"}
        )
        self.assertEqual(channel.telegram_api_url, "https://bots.example.com")
        self.assertEqual(
            channel.telegram_webhook_url, f"https://x.example/chatbot/telegram/{channel.webhook_key}"
        )

    def test_a_manager_reads_the_addresses_but_not_the_secrets(self):
        channel = self.channel.with_user(self.bots_manager)
        self.assertEqual(channel.telegram_api_url_shown, self.fake.base_url)
        self.assertEqual(channel.telegram_public_url_shown, "https://erp.example.com")
        for fname in ("telegram_api_url", "telegram_token", "telegram_webhook_secret", "webhook_key"):
            with self.subTest(fname=fname), self.assertRaises(AccessError):
                channel.read([fname])
        arch = channel.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="telegram_api_url_shown"', arch)
        self.assertNotIn('name="telegram_api_url"', arch)
        self.assertNotIn('name="telegram_token"', arch)
        admin_arch = self.channel.with_user(self.sysadmin).get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        self.assertIn('name="telegram_api_url"', admin_arch)
        self.assertNotIn('name="telegram_api_url_shown"', admin_arch)
