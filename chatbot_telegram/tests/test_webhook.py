import json
from unittest.mock import Mock, patch

from odoo.service import model as odoo_service_model
from odoo.tests import HttpCase, tagged

from odoo.addons.chatbot_base.models.chatbot_channel import MAX_KEY_LENGTH

from ..controllers.main import MAX_DEPTH
from .common import TelegramMixin, with_update_id
from .fake_telegram import incompressible_digits


def _nested(depth):
    """JSON text of arrays nested `depth` levels deep."""
    return "[" * depth + "]" * depth


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
        # a POST even with an empty body (url_open sends a GET then)
        return self.opener.post(self.base_url() + (path or self.path), data=data, headers=headers, timeout=20)

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

    # -- bodies Python reads but PostgreSQL cannot store, and replays ------------------------------------

    def assert_kept_as_failed(self, body, error):
        response = self.post(body)
        self.assertEqual(response.status_code, 200, "Telegram must stop resending it")
        self.assertEqual(response.json(), {"ok": True})
        self.assertEqual(self.rows().state, "failed")
        self.assertIn(error, self.rows().error)

    def test_lone_surrogate_is_acknowledged_and_kept_as_failed(self):
        """ "\\ud800": Python reads it, UTF-8 and PostgreSQL's jsonb refuse it (it was a 500)."""
        update = {"update_id": 8010, "message": {"chat": {"id": 8010}, "text": "\ud800"}}
        self.assert_kept_as_failed(json.dumps(update).encode(), "lone UTF-16 surrogate")

    def test_surrogate_in_a_key_or_raw_is_refused_too(self):
        self.post(b'{"update_id": 8011, "\\udfff": 1}')
        self.post('{"update_id": 8012, "message": {"text": "\udc00"}}'.encode("utf-8", "surrogatepass"))
        self.assertEqual(self.rows().mapped("state"), ["failed", "failed"])

    def test_nesting_deeper_than_python_recursion_is_acknowledged(self):
        """Deeper than Python's recursion limit: a RecursionError in json.loads (it was a 500)."""
        self.assert_kept_as_failed(b"[" * 100_000 + b"]" * 100_000, "nests deeper")

    def test_nesting_is_limited_below_python_recursion(self):
        self.assert_kept_as_failed(_nested(MAX_DEPTH + 1).encode(), "nests deeper")
        self.rows().unlink()
        update = {"update_id": 8013, "message": {"chat": {"id": 8013}, "text": "ok"}}
        update["message"]["entities"] = json.loads(_nested(MAX_DEPTH - 3))
        self.assertEqual(self.post(update).status_code, 200)
        self.assertEqual(self.rows().state, "pending", f"{MAX_DEPTH} levels are kept")

    def test_ids_and_chats_the_database_cannot_index_are_kept_as_failed(self):
        """An update_id of 4,000 digits or a chat id of 3,000 characters (that do not compress): more than a
        B-tree index entry holds (it was a 500)."""
        self.assertEqual(
            self.post(b'{"update_id": %s, "message": {}}' % incompressible_digits(4000).encode()).status_code,
            200,
        )
        long_chat = {
            "update_id": 8014,
            "message": {"chat": {"id": incompressible_digits(3000, hexadecimal=True)}, "text": "x"},
        }
        self.assertEqual(self.post(long_chat).status_code, 200)
        rows = self.rows()
        self.assertEqual(rows.mapped("state"), ["failed", "failed"])
        self.assertIn("8014", rows.mapped("external_id"), "a valid id is kept: a resend is still stored once")
        self.assertTrue(all(len(row.external_id) <= MAX_KEY_LENGTH for row in rows))

    def store_raising_serialization_failures(self, times):
        """_chatbot_store_inbound raising PostgreSQL's serialization failure `times` times, as when another
        worker committed the same update after this request's transaction began."""
        Channel = self.registry["chatbot.channel"]
        original = Channel._chatbot_store_inbound
        calls = []

        def store(channel, payload, error=None):
            calls.append(payload)
            if len(calls) <= times:
                channel.env.cr.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'concurrent copy' USING ERRCODE = 'serialization_failure'; "
                    "END $$",
                    log_exceptions=False,
                )
            return original(channel, payload, error=error)

        return calls, patch.object(Channel, "_chatbot_store_inbound", store)

    def test_copy_stored_concurrently_is_answered_at_once(self):
        """The other copy committed after this request began: the webhook answers 200 without Odoo's
        retry of the request (which waits up to 2 s), stores nothing twice, and no junk row."""
        update = with_update_id(self.fake.make_message_update(8020, "twice at once"))
        self.channel._chatbot_store_inbound(update)  # the other worker's copy
        calls, patcher = self.store_raising_serialization_failures(1)
        retry_clock = Mock()
        with patcher, patch.object(odoo_service_model, "time", retry_clock):
            response = self.post(update)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(calls), 2, "stored again at once, in a new transaction")
        retry_clock.sleep.assert_not_called()
        self.assertEqual(self.rows().mapped("external_id"), [str(update["update_id"])])

    def test_request_run_again_by_odoo_reads_the_same_body(self):
        """A serialization failure that reaches Odoo: it runs the request again, which must read the same
        body (it read 0 bytes and kept a junk row "The body is not JSON.")."""
        update = with_update_id(self.fake.make_message_update(8021, "run again"))
        calls, patcher = self.store_raising_serialization_failures(2)
        with patcher, patch.object(odoo_service_model, "time", Mock()):
            response = self.post(update)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(calls), 3)
        self.assertEqual(calls[-1], update, "the same body, read again")
        self.assertEqual(self.rows().mapped("external_id"), [str(update["update_id"])])
        self.assertEqual(self.rows().state, "pending")
