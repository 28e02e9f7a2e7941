from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.chatbot_base.models.chatbot_outbound import _Pacer
from odoo.addons.chatbot_base.tools.connector import (
    Button,
    ChatMigrated,
    ConnectorError,
    RateLimits,
    RecipientBlocked,
    RetryLater,
    TransientError,
)

from .common import ChatbotCase


@tagged("chatbot", "post_install", "-at_install")
class TestOutbound(ChatbotCase):
    def setUp(self):
        super().setUp()
        self.receive(1, chat=1001, text="Hi")
        self.receive(2, chat=2002, text="Hi")
        self.dialog = self.dialog_of(1001)
        self.other = self.dialog_of(2002)

    def send_queue(self):
        return self.Outbound._send_channel(self.channel, time_budget=5)

    def test_message_is_queued_then_sent_with_its_id(self):
        message = self.dialog._chatbot_send(
            "Hello!", buttons=[[Button("Yes", data="y"), Button("No", data="n")]]
        )
        self.assertEqual(message.delivery_state, "queued")
        self.assertFalse(self.fake.sent, "nothing is sent inside the transaction that queued it")
        self.assertEqual(self.send_queue(), 1)
        self.assertEqual(message.delivery_state, "sent")
        self.assertEqual(message.external_id, "m1")
        sent = self.fake.sent[0]
        self.assertEqual((sent.chat_id, sent.text), ("1001", "Hello!"))
        self.assertEqual([b.label for b in sent.buttons[0]], ["Yes", "No"])
        self.assertEqual(message.outbound_id.provider_message_id, "m1")

    def test_order_is_kept_per_chat(self):
        for text in ("one", "two", "three"):
            self.dialog._chatbot_send(text)
        self.other._chatbot_send("other")
        self.send_queue()
        self.assertEqual([m.text for m in self.fake.sent if m.chat_id == "1001"], ["one", "two", "three"])
        self.assertEqual(len(self.fake.sent), 4)

    def test_operator_reply_sets_reply_dates(self):
        self.dialog._chatbot_send("From the bot")
        self.assertFalse(self.dialog.first_reply_date)
        self.dialog._chatbot_send("From a human", author_kind="operator", author_user=self.bot_manager)
        self.assertTrue(self.dialog.first_reply_date)
        self.assertEqual(self.dialog.last_operator_date, self.dialog.first_reply_date)

    def test_retry_after_for_the_channel_holds_everything(self):
        self.fake.script = [RetryLater("Too Many Requests: retry after 30", 30, scope="channel")]
        with freeze_time("2026-01-01 10:00:00"):
            message = self.dialog._chatbot_send("Hello")
            self.other._chatbot_send("Hello too")
            self.assertEqual(self.Outbound._send_channel(self.channel, time_budget=1), 0)
        self.assertEqual(message.delivery_state, "queued")
        self.assertEqual(self.channel.hold_until, fields.Datetime.to_datetime("2026-01-01 10:00:30"))
        self.assertFalse(self.fake.sent, "nothing is sent during the hold")
        with freeze_time("2026-01-01 10:00:31"):
            self.assertEqual(self.send_queue(), 2)
        self.assertEqual(message.delivery_state, "sent")

    def test_retry_after_for_one_chat_holds_only_that_chat(self):
        self.fake.script = [RetryLater("slow down", 5, scope="chat")]
        with freeze_time("2026-01-01 10:00:00"):
            first = self.dialog._chatbot_send("first")
            second = self.dialog._chatbot_send("second")
            self.other._chatbot_send("other chat")
            self.send_queue()
            self.assertEqual([m.text for m in self.fake.sent], ["other chat"])
            self.assertEqual((first.delivery_state, second.delivery_state), ("queued", "queued"))
        with freeze_time("2026-01-01 10:00:06"):
            self.send_queue()
        self.assertEqual([m.text for m in self.fake.sent], ["other chat", "first", "second"])

    def test_blocked_recipient_fails_and_marks_the_sender(self):
        self.fake.script = [RecipientBlocked("Forbidden: bot was blocked by the user")]
        first = self.dialog._chatbot_send("first")
        second = self.dialog._chatbot_send("second")
        self.send_queue()
        self.assertEqual((first.delivery_state, second.delivery_state), ("failed", "failed"))
        self.assertIn("blocked", first.delivery_error)
        self.assertTrue(self.dialog.sender_id.is_blocked)
        self.assertEqual(self.dialog.failed_message_count, 2)
        with self.assertRaises(UserError):
            self.dialog._chatbot_send("third")

    def test_migrated_chat_is_stored_and_sent_again(self):
        self.fake.script = [ChatMigrated("group chat was upgraded to a supergroup chat", -100500)]
        message = self.dialog._chatbot_send("to the group")
        self.send_queue()
        self.assertEqual(message.delivery_state, "sent")
        self.assertEqual(self.fake.sent[0].chat_id, "-100500")
        self.assertEqual(self.dialog.sender_id.chat_id, "-100500")

    def test_transient_errors_back_off_then_fail(self):
        self.fake.script = [TransientError("502 Bad Gateway")] * 8
        with freeze_time("2026-01-01 10:00:00"):
            message = self.dialog._chatbot_send("Hello")
            self.send_queue()
            self.assertEqual(message.delivery_state, "queued")
            self.assertEqual(message.outbound_id.next_try, fields.Datetime.to_datetime("2026-01-01 10:00:10"))
        now = fields.Datetime.to_datetime("2026-01-01 10:00:00")
        for _attempt in range(7):
            now += timedelta(hours=1)
            with freeze_time(now):
                self.send_queue()
        self.assertEqual(message.delivery_state, "failed")
        self.assertEqual(message.outbound_id.attempts, 8)
        self.assertIn("502", message.delivery_error)
        self.assertFalse(self.fake.sent)

    def test_permanent_error_fails_at_once_and_retry_sends(self):
        self.fake.script = [ConnectorError("Bad Request: message text is empty")]
        message = self.dialog._chatbot_send("x")
        self.send_queue()
        self.assertEqual(message.delivery_state, "failed")
        self.assertEqual(message.delivery_error, "Bad Request: message text is empty")
        message.outbound_id.action_retry()
        self.send_queue()
        self.assertEqual(message.delivery_state, "sent")

    def test_stale_sending_row_is_not_sent_twice(self):
        message = self.dialog._chatbot_send("x")
        message.outbound_id.state = "sending"
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE chatbot_outbound SET write_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(minutes=11), message.outbound_id.id],
        )
        self.env.invalidate_all()
        self.Outbound._cron_send(time_budget=2)
        self.assertEqual(message.delivery_state, "failed")
        self.assertIn("delivery unknown", message.delivery_error)
        self.assertFalse(self.fake.sent)

    def test_row_left_sending_by_a_dead_worker_is_failed_by_the_next_run(self):
        """Only the holder of the channel's lock marks rows 'sending'; a run that takes the lock and finds
        such rows knows their worker died (its connection, and lock, are gone): failed at once, not sent."""
        first = self.dialog._chatbot_send("first")
        second = self.dialog._chatbot_send("second")
        first.outbound_id.state = "sending"  # written a moment ago, far from the 10 minutes of the net
        self.Outbound._cron_send(time_budget=2)
        self.assertEqual(first.delivery_state, "failed")
        self.assertIn("delivery unknown", first.delivery_error)
        self.assertEqual(second.delivery_state, "sent")
        self.assertEqual([m.text for m in self.fake.sent], ["second"])

    def assert_at_most_per_second(self, starts, limit):
        for index in range(limit, len(starts)):
            self.assertGreaterEqual(
                starts[index] - starts[index - limit], 1.0, f"send {index}: more than {limit} in one second"
            )

    def test_pacer_keeps_every_limit(self):
        clock = [0.0]

        def sleep(seconds):
            clock[0] += seconds

        pacer = _Pacer(
            RateLimits(per_second=10, per_chat_per_second=1, per_group_per_minute=20),
            lambda chat: chat.startswith("-"),
            clock=lambda: clock[0],
            sleep=sleep,
        )

        def send(chat, duration=0.0):
            start = pacer.wait(chat)
            clock[0] += duration
            pacer.done()
            return start

        starts = [send(str(chat)) for chat in range(30)]
        self.assertAlmostEqual(starts[-1], 2.9, places=6, msg="30 chats at 10/s take 2.9 s")
        self.assert_at_most_per_second(starts, 10)
        # the queue's own work delays a send: the next ones catch up, never above 10 in any second
        clock[0] += 0.35
        late = [send(str(chat), duration=0.01) for chat in range(100, 130)]
        self.assertLess(late[1] - late[0], 0.05, "a late start lets the next send follow sooner than 0.1 s")
        self.assert_at_most_per_second(starts + late, 10)
        same_chat = [send("42") for _ in range(3)]
        self.assertGreaterEqual(same_chat[1] - same_chat[0], 1.0)
        self.assertGreaterEqual(same_chat[2] - same_chat[1], 1.0)
        group = [send("-1") for _ in range(21)]
        self.assertGreaterEqual(
            group[20] - group[0], 60.0 - 1e-6, "the 21st message to a group waits for the minute"
        )
