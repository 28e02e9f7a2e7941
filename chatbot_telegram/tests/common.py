"""A Telegram channel connected to the fake Bot API server, for the connector's tests."""

import itertools

from odoo.tests import new_test_user
from odoo.tests.common import TransactionCase

from .fake_telegram import FakeTelegram

TOKEN = "123456789:TEST-fake-server-token"
UPDATE_IDS = itertools.count(500000)


def with_update_id(update):
    """Updates built by the fake's helpers get their update_id when pushed; tests that hand them to
    Odoo directly number them here (once: a resent update keeps its id)."""
    update.setdefault("update_id", next(UPDATE_IDS))
    return update


class TelegramMixin:
    """Starts one fake Telegram per test class; each test starts with its records cleared."""

    @classmethod
    def setup_telegram(cls):
        cls.fake = FakeTelegram(retry_delay=0.05)
        cls.fake.start()
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.add_bot(TOKEN, username="shop_test_bot", first_name="Shop")
        cls.env.company.country_id = cls.env.ref("base.ua")
        cls.sysadmin = new_test_user(
            cls.env, "tg_sysadmin", groups="base.group_system,chatbot_base.chatbot_base_group_admin"
        )
        cls.bot = cls.env["chatbot.bot"].create({"name": "Telegram test bot", "bot_type": "client"})
        cls.channel = cls.env["chatbot.channel"].create(
            {
                "name": "Telegram test",
                "bot_id": cls.bot.id,
                "provider": "telegram",
                "telegram_token": TOKEN,
                "telegram_api_url": cls.fake.base_url,
                "telegram_public_url": "https://erp.example.com",
            }
        )

    def setUp(self):
        super().setUp()
        self.fake.reset()

    def connect(self, intake="webhook"):
        self.channel.telegram_intake = intake
        self.channel.with_user(self.sysadmin).action_telegram_connect()
        return self.fake.webhook_info(TOKEN)

    def process_inbound(self):
        return self.env["chatbot.inbound"]._cron_process(time_budget=10)

    def send_outbound(self):
        return self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)

    def dialog_of(self, chat_id):
        return self.env["chatbot.dialog"].search(
            [("sender_id.external_id", "=", str(chat_id)), ("bot_id", "=", self.bot.id)],
            order="id desc",
            limit=1,
        )


class TelegramCase(TelegramMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telegram()
