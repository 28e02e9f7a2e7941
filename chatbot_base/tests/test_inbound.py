from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import ChatbotCase


@tagged("chatbot", "post_install", "-at_install")
class TestInbound(ChatbotCase):
    def test_first_message_makes_sender_partner_dialog_and_message(self):
        row = self.receive(
            1,
            chat=1001,
            text="Hello",
            user={"id": 1001, "name": "Ivan Petrenko", "username": "ivanp", "lang": "uk"},
        )
        self.assertEqual(row.state, "done")
        dialog = self.dialog_of(1001)
        self.assertEqual(dialog.sender_id.name, "Ivan Petrenko")
        self.assertEqual(dialog.sender_id.username, "ivanp")
        self.assertEqual(dialog.state, "bot")
        self.assertEqual(dialog.message_ids.mapped("body"), ["Hello"])
        self.assertEqual(dialog.message_ids.direction, "in")
        self.assertTrue(dialog.code.startswith("D"))
        self.assertTrue(dialog.last_customer_date)
        self.assertEqual(dialog.partner_id, dialog.sender_id.partner_id)
        self.assertEqual(dialog.partner_id.name, "Ivan Petrenko")

    def test_same_update_twice_is_stored_and_processed_once(self):
        first = self.channel._chatbot_store_inbound({"id": 7, "chat": 1001, "text": "Hi"})
        again = self.channel._chatbot_store_inbound({"id": 7, "chat": 1001, "text": "Hi"})
        self.assertTrue(first)
        self.assertIsNone(again)
        self.assertEqual(self.Inbound.search_count([("channel_id", "=", self.channel.id)]), 1)
        self.Inbound.browse(first)._process_one()
        self.assertEqual(len(self.dialog_of(1001).message_ids), 1)

    def test_next_message_goes_to_the_open_dialog(self):
        self.receive(1, text="One")
        self.receive(2, text="Two")
        dialog = self.dialog_of()
        self.assertEqual(dialog.message_ids.mapped("body"), ["One", "Two"])
        self.assertEqual(
            self.env["chatbot.dialog"].search_count([("sender_id", "=", dialog.sender_id.id)]), 1
        )
        dialog.action_close()
        self.receive(3, text="Three")
        new_dialog = self.dialog_of()
        self.assertNotEqual(new_dialog, dialog)
        self.assertEqual(new_dialog.message_ids.mapped("body"), ["Three"])
        self.assertEqual(len(dialog.sender_id.dialog_ids), 2)

    def test_edit_updates_the_stored_message(self):
        self.receive(1, text="Helo", message_id=55)
        self.receive(2, kind="edit", text="Hello", message_id=55)
        message = self.dialog_of().message_ids
        self.assertEqual(len(message), 1)
        self.assertEqual(message.body, "Hello")
        self.assertTrue(message.is_edited)

    def test_files_become_attachments(self):
        self.receive(1, files=[{"name": "note.txt", "data": "file body"}])
        message = self.dialog_of().message_ids
        self.assertEqual(message.attachment_ids.mapped("name"), ["note.txt"])
        self.assertEqual(message.attachment_ids.raw, b"file body")

    def test_blocked_and_unblocked(self):
        self.receive(1, text="Hi")
        sender = self.dialog_of().sender_id
        self.receive(2, kind="blocked")
        self.assertTrue(sender.is_blocked)
        self.receive(3, kind="unblocked")
        self.assertFalse(sender.is_blocked)

    def test_failure_is_kept_and_retried_with_backoff(self):
        self.fake.parse_error = ValueError("database of the messenger is down")
        with freeze_time("2026-01-01 10:00:00"):
            row = self.receive(1, text="Hi")
        self.assertEqual(row.state, "pending")
        self.assertEqual(row.attempts, 1)
        self.assertIn("database of the messenger is down", row.error)
        self.assertEqual(row.next_try, fields.Datetime.to_datetime("2026-01-01 10:00:10"))
        self.assertFalse(self.dialog_of(), "a failed update leaves nothing half-done")
        with freeze_time("2026-01-01 10:00:05"):
            self.assertFalse(self.Inbound._claim(10), "not due before its back-off ends")
        with freeze_time("2026-01-01 10:00:11"):
            row._process_one()
        self.assertEqual(row.attempts, 2)
        self.assertEqual(row.next_try, fields.Datetime.to_datetime("2026-01-01 10:00:31"))
        self.fake.parse_error = None
        row._process_one()
        self.assertEqual(row.state, "done")
        self.assertFalse(row.error)
        self.assertEqual(self.dialog_of().message_ids.body, "Hi")

    def test_failed_after_max_attempts_then_manual_retry(self):
        self.fake.parse_error = RuntimeError("boom")
        row = self.receive(1, text="Hi")
        for _attempt in range(7):
            row._process_one()
        self.assertEqual(row.state, "failed")
        self.assertEqual(row.attempts, 8)
        self.fake.parse_error = None
        row.action_retry()
        self.assertEqual((row.state, row.attempts), ("pending", 0))
        row._process_one()
        self.assertEqual(row.state, "done")

    def test_unsupported_update_is_ignored(self):
        row = self.receive(1, kind="unsupported")
        self.assertEqual(row.state, "ignored")
        self.assertIn("poll answers", row.error)

    def test_update_without_id_is_kept_as_failed(self):
        row_id = self.channel._chatbot_store_inbound({"chat": 5})
        row = self.Inbound.browse(row_id)
        self.assertEqual(row.state, "failed")
        self.assertIn("no id", row.error)

    def test_one_chat_is_processed_in_order(self):
        ids = [self.channel._chatbot_store_inbound({"id": i, "chat": 1001, "text": str(i)}) for i in (1, 2)]
        other = self.channel._chatbot_store_inbound({"id": 3, "chat": 2002, "text": "3"})
        claimed = self.Inbound._claim(10)
        self.assertEqual(claimed.ids, [ids[0], other], "the second update of chat 1001 waits for the first")
        for row in claimed:
            row._process_one()
        self.assertEqual(self.Inbound._claim(10).ids, [ids[1]])

    def test_cron_processes_everything_due(self):
        for i in range(5):
            self.channel._chatbot_store_inbound({"id": i, "chat": 1000 + i % 2, "text": f"m{i}"})
        done = self.Inbound._cron_process()
        self.assertEqual(done, 5)
        self.assertEqual(
            set(self.Inbound.search([("channel_id", "=", self.channel.id)]).mapped("state")), {"done"}
        )
        self.assertEqual(self.dialog_of(1000).message_ids.mapped("body"), ["m0", "m2", "m4"])

    def test_purge_keeps_recent_and_pending_rows(self):
        old = self.receive(1, text="old")
        failed = self.receive(2, text="x")
        failed.state = "failed"
        pending = self.Inbound.browse(self.channel._chatbot_store_inbound({"id": 3, "chat": 9}))
        recent = self.receive(4, text="recent")
        self.env.cr.execute(
            "UPDATE chatbot_inbound SET create_date = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=8), (old.id, failed.id, pending.id)],
        )
        self.Inbound._cron_purge()
        self.assertEqual(
            self.Inbound.search([("id", "in", (old | failed | pending | recent).ids)]),
            failed | pending | recent,
        )

    def test_query_budget_of_one_message(self):
        self.receive(1, text="warm up the caches")
        row_id = self.channel._chatbot_store_inbound({"id": 2, "chat": 1001, "text": "Hello"})
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=11):
            self.Inbound.browse(row_id)._process_one()
        self.assertEqual(self.Inbound.browse(row_id).state, "done")
