import base64
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.chatbot_base.models import chatbot_inbound, chatbot_sender
from odoo.addons.chatbot_base.tools.connector import TransientError

from .common import ChatbotCase, FakeConnector

T0 = datetime(2026, 1, 1, 10, 0, 0)
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
NOT_AN_IMAGE = base64.b64encode(b"Not Found: this photo is gone").decode()


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
        self.fake.parse_error = TransientError("database of the messenger is down")
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
        self.fake.parse_error = TransientError("502 Bad Gateway")
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

    # ------------------------------------------------------------------------------------------
    # What is retried, and how long a failed update may hold its chat (issue 14)
    # ------------------------------------------------------------------------------------------

    def store(self, update_id, chat=1001, **values):
        return self.Inbound.browse(
            self.channel._chatbot_store_inbound({"id": update_id, "chat": chat, **values})
        )

    def failing(self, errors):
        """Updates whose id is a key of `errors` (a dict, changed as the test goes) raise that error."""
        original = FakeConnector.parse

        def parse(connector, payload):
            if payload["id"] in errors:
                raise errors[payload["id"]]
            return original(connector, payload)

        return patch.object(FakeConnector, "parse", parse)

    def process_at(self, moment):
        with freeze_time(moment):
            return self.Inbound._cron_process(time_budget=10)

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_poison_update_fails_at_once_and_its_chat_goes_on(self):
        """An update whose processing raises something waiting cannot mend (python-telegram-bot's
        OverflowError on a date of 2**63) fails at the first attempt; the chat's next update is processed in
        the same run instead of waiting behind its retries."""
        with self.failing({1: OverflowError("timestamp out of range for platform time_t")}):
            poison = self.store(1, text="poison")
            after = self.store(2, text="after")
            self.Inbound._cron_process(time_budget=10)
        self.assertEqual((poison.state, poison.attempts), ("failed", 1))
        self.assertEqual(poison.error, "OverflowError: timestamp out of range for platform time_t")
        self.assertFalse(poison.hold_until)
        self.assertEqual(after.state, "done")
        self.assertEqual(self.dialog_of().message_ids.mapped("body"), ["after"])
        # shown in the Inbound queue with Retry; retried once the cause is mended, it comes after "after"
        poison.action_retry()
        self.Inbound._cron_process(time_budget=10)
        self.assertEqual(poison.state, "done")
        self.assertEqual(self.dialog_of().message_ids.mapped("body"), ["after", "poison"])

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_only_failures_that_heal_by_waiting_are_retried(self):
        cases = [
            (TransientError("Telegram file download: HTTP 502"), "pending"),
            (LockNotAvailable("could not obtain lock on row"), "pending"),
            (SerializationFailure("could not serialize access"), "pending"),
            (UserError("This file could not be decoded as an image file."), "failed"),
            (KeyError("file_unique_id"), "failed"),
            (ValueError("bad value"), "failed"),
        ]
        for update_id, (error, state) in enumerate(cases, start=1):
            with self.subTest(error=type(error).__name__), self.failing({update_id: error}):
                row = self.store(update_id, chat=4000 + update_id, text="x")
                row._process_one()
                self.assertEqual((row.state, row.attempts), (state, 1))
                self.assertIn(type(error).__name__, row.error)

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_transient_failure_holds_its_chat_only_for_the_setting(self):
        """A transient failure holds the chat's later updates from its first failure until the setting's
        seconds have passed, whatever the retries meanwhile; then they go on, and the failed update is
        processed late, at its retry, after them. Other chats never wait."""
        self.env["ir.config_parameter"].sudo().set_param("chatbot_base.inbound_hold_seconds", "45")
        errors = {1: TransientError("Telegram file download: HTTP 502")}
        with self.failing(errors):
            with freeze_time(T0):
                first, second = self.store(1, text="one"), self.store(2, text="two")
                other = self.store(3, chat=2002, text="other chat")
            self.process_at(T0)
            self.assertEqual((first.state, first.attempts), ("pending", 1))
            self.assertEqual(first.next_try, T0 + timedelta(seconds=10))
            self.assertEqual(first.hold_until, T0 + timedelta(seconds=45))
            self.assertEqual((second.state, other.state), ("pending", "done"))
            self.process_at(T0 + timedelta(seconds=10))  # retried, fails again: next try in 20 s
            self.process_at(T0 + timedelta(seconds=30))  # and again: next try in 40 s, at T0 + 70 s
            self.assertEqual((first.attempts, first.next_try), (3, T0 + timedelta(seconds=70)))
            self.assertEqual(first.hold_until, T0 + timedelta(seconds=45), "counted from the first failure")
            self.assertEqual(second.state, "pending")
            with freeze_time(T0 + timedelta(seconds=44)):
                self.assertFalse(self.Inbound._claim(10), "still held")
            self.process_at(T0 + timedelta(seconds=45))
            self.assertEqual(second.state, "done", "the hold is over: the chat goes on")
            self.assertEqual(first.state, "pending")
            self.assertEqual(self.dialog_of().message_ids.mapped("body"), ["two"])
            # a later update does not wait for the failed one any more
            with freeze_time(T0 + timedelta(seconds=50)):
                third = self.store(4, text="three")
            self.process_at(T0 + timedelta(seconds=50))
            self.assertEqual(third.state, "done")
            errors.clear()
            with freeze_time(T0 + timedelta(seconds=65)):
                fourth = self.store(5, text="four")
                self.assertEqual(self.Inbound._claim(10), fourth)
                self.env.invalidate_all()
        # its retry due, the failed update goes first again: the updates still pending wait behind it
        with freeze_time(T0 + timedelta(seconds=70)):
            self.assertEqual(self.Inbound._claim(10), first)
        self.process_at(T0 + timedelta(seconds=70))
        self.assertEqual((first.state, fourth.state), ("done", "done"))
        self.assertFalse(first.hold_until)
        self.assertEqual(self.dialog_of().message_ids.mapped("body"), ["two", "three", "one", "four"])

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_hold_defaults_to_a_minute(self):
        self.env["ir.config_parameter"].sudo().set_param("chatbot_base.inbound_hold_seconds", False)
        # retried in ten minutes: the chat goes on when the hold ends, long before
        with self.failing({1: chatbot_inbound.RetryLater("Too Many Requests", retry_after=600)}):
            with freeze_time(T0):
                first, second = self.store(1, text="one"), self.store(2, text="two")
                first._process_one()
            self.assertEqual(first.hold_until, T0 + timedelta(seconds=60))
            with freeze_time(T0 + timedelta(seconds=59)):
                self.assertFalse(self.Inbound._claim(10))
            with freeze_time(T0 + timedelta(seconds=60)):
                self.assertEqual(self.Inbound._claim(10), second)

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_a_held_chat_wakes_the_queue_when_the_hold_ends_not_at_once(self):
        """Due updates waiting behind a hold are not work the run can do: the job must not trigger itself
        at once (it would spin until the hold ends) but when the hold or the next retry falls due."""
        error = chatbot_inbound.RetryLater("Too Many Requests", retry_after=300)
        with (
            self.failing({1: error}),
            patch.object(chatbot_inbound, "wake_cron") as wake_cron,
            patch.object(chatbot_inbound, "trigger_at") as trigger_at,
        ):
            with freeze_time(T0):
                first = self.store(1, text="one")
                self.store(2, text="two")
            self.process_at(T0)
            self.assertEqual(first.next_try, T0 + timedelta(seconds=300), "a retry-after is honoured")
            wake_cron.assert_not_called()
            trigger_at.assert_called_once_with(
                self.env, chatbot_inbound.INBOUND_CRON, T0 + timedelta(seconds=60)
            )

    def test_claim_is_one_query_that_can_walk_the_pending_index(self):
        for update_id in range(1, 4):
            self.store(update_id, text=str(update_id))
        self.env.flush_all()
        with self.assertQueryCount(1):
            self.assertEqual(len(self.Inbound._claim(10)), 1)
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(
            "EXPLAIN " + self.Inbound._claim_query(),
            {"limit": 10, "ids": None, "now": fields.Datetime.now()},
        )
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute("SET LOCAL enable_seqscan = on")
        self.assertIn("chatbot_inbound_pending_idx", plan)

    # ------------------------------------------------------------------------------------------
    # A profile picture that is not an image (issue 14)
    # ------------------------------------------------------------------------------------------

    def test_profile_picture_that_is_not_an_image_is_left_out(self):
        """The contact is made without the picture (logged) and the first message is processed, not
        retried: Odoo's image_1920 raises on a file it cannot decode."""
        with patch.object(chatbot_sender, "_logger") as logger:
            row = self.receive(
                1, chat=3101, text="Hello", user={"id": 3101, "name": "Taras", "photo": NOT_AN_IMAGE}
            )
        self.assertEqual(row.state, "done")
        dialog = self.dialog_of(3101)
        self.assertEqual(dialog.message_ids.mapped("body"), ["Hello"])
        self.assertEqual(dialog.partner_id.name, "Taras")
        self.assertFalse(dialog.partner_id.image_1920)
        self.assertIn("not a usable image", logger.info.call_args.args[0])

    def test_profile_picture_that_is_not_an_image_is_not_put_on_an_existing_contact(self):
        existing = self.env["res.partner"].create({"name": "Halyna (CRM)", "phone": "+380671239876"})
        user = {"id": 3102, "name": "Halyna", "phone": "+380671239876", "photo": NOT_AN_IMAGE}
        with mute_logger("odoo.addons.chatbot_base.models.chatbot_sender"):
            row = self.receive(1, chat=3102, text="Hi", user=user)
        self.assertEqual(row.state, "done")
        self.assertEqual(self.dialog_of(3102).partner_id, existing)
        self.assertFalse(existing.image_1920)

    def test_profile_picture_is_decoded_before_it_is_kept(self):
        """Odoo's image_1920 reads only the header of a small image: a picture whose pixels cannot be
        decoded would be kept, broken, and fail later in its smaller copies. SVG and HTML are refused too."""
        png = base64.b64decode(PNG_1PX)
        for chat, photo in ((3103, png[:33] + b"\x00garbage" * 20), (3104, b"<html><body>404</body></html>")):
            with self.subTest(chat=chat), mute_logger("odoo.addons.chatbot_base.models.chatbot_sender"):
                user = {"id": chat, "name": "Garbage", "photo": base64.b64encode(photo).decode()}
                self.assertEqual(self.receive(chat, chat=chat, text="Hi", user=user).state, "done")
                self.assertFalse(self.dialog_of(chat).partner_id.image_1920)
        self.receive(3105, chat=3105, text="Hi", user={"id": 3105, "name": "Fine", "photo": PNG_1PX})
        self.assertEqual(base64.b64decode(self.dialog_of(3105).partner_id.image_1920), png)
