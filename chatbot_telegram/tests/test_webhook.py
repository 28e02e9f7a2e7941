import json

from odoo.tests import HttpCase, tagged

from .common import TelegramMixin, with_update_id


@tagged("chatbot", "post_install", "-at_install")
class TestWebhook(TelegramMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telegram()

    def setUp(self):
        super().setUp()
        self.connect()
        channel = self.channel.sudo()
        self.path = f"/chatbot/telegram/{channel.webhook_key}"
        self.secret = channel.telegram_webhook_secret
        self.Inbound = self.env["chatbot.inbound"]

    def post(self, body, secret=None, path=None):
        headers = {"Content-Type": "application/json"}
        if secret is not False:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret or self.secret
        data = body if isinstance(body, bytes) else json.dumps(with_update_id(body)).encode()
        return self.url_open(path or self.path, data=data, headers=headers, timeout=20)

    def rows(self):
        return self.Inbound.search([("channel_id", "=", self.channel.id)])

    def test_update_is_stored_once_and_processed(self):
        update = self.fake.make_message_update(8001, "Hello bot")
        for _delivery in range(3):
            response = self.post(update)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json(), {"ok": True})
        self.assertEqual(len(self.rows()), 1, "Telegram's resends are stored once")
        self.assertEqual(self.rows().external_id, str(update["update_id"]))
        self.assertEqual(self.rows().chat_key, "8001")
        self.env["chatbot.inbound"]._cron_process(time_budget=10)
        self.assertEqual(self.rows().state, "done")
        dialog = self.env["chatbot.dialog"].search([("sender_id.external_id", "=", "8001")])
        self.assertEqual(dialog.message_ids.mapped("body"), ["Hello bot"])

    def test_unknown_key_is_404_and_stores_nothing(self):
        response = self.post(self.fake.make_message_update(8002, "x"), path="/chatbot/telegram/not-a-key")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.rows())

    def test_wrong_or_missing_secret_is_403_and_stores_nothing(self):
        update = self.fake.make_message_update(8003, "x")
        self.assertEqual(self.post(update, secret="wrong-secret").status_code, 403)
        self.assertEqual(self.post(update, secret=False).status_code, 403)
        self.assertFalse(self.rows())

    def test_disconnected_channel_refuses_its_old_secret(self):
        self.channel.with_user(self.sysadmin).action_telegram_disconnect()
        self.assertEqual(self.post(self.fake.make_message_update(8004, "x")).status_code, 403)
        self.assertFalse(self.rows())

    def test_body_over_one_megabyte_is_refused(self):
        body = json.dumps({"update_id": 1, "message": {"text": "x" * (1024 * 1024)}}).encode()
        self.assertEqual(self.post(body).status_code, 413)
        self.assertFalse(self.rows())

    def test_malformed_body_is_acknowledged_and_kept_as_failed(self):
        response = self.post(b"{not json")
        self.assertEqual(response.status_code, 200, "Telegram must stop resending it")
        self.assertEqual(self.rows().state, "failed")
        self.assertIn("not JSON", self.rows().error)

    def test_update_kind_we_do_not_handle_is_acknowledged_and_ignored(self):
        response = self.post({"update_id": 99, "poll": {"id": "1", "question": "?", "options": []}})
        self.assertEqual(response.status_code, 200)
        self.env["chatbot.inbound"]._cron_process(time_budget=10)
        self.assertEqual(self.rows().state, "ignored")

    def test_get_is_not_allowed(self):
        response = self.url_open(self.path, timeout=10)
        self.assertEqual(response.status_code, 405)

    def test_storing_one_update_costs_few_queries(self):
        self.post(self.fake.make_message_update(8005, "warm up"))
        update = self.fake.make_message_update(8005, "Hello")
        with self.assertQueryCount(4):
            self.post(update)
