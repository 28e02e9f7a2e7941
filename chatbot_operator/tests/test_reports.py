from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestReports(OperatorCase):
    """Seed 002's figures (issue 18): waiting, first reply and handling times, messages, the first-reply
    target; and dialogs left with the bot closing after the idle time."""

    def cron(self, at):
        with freeze_time(at):
            self.env["chatbot.dialog"]._cron_operator_queue()

    def answer(self, dialog, text):
        dialog.discuss_channel_id.with_user(dialog.operator_id.user_id).message_post(
            body=text, message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_figures_of_a_dialog_that_waited_then_was_answered(self):
        self.bot.first_reply_target = 5
        self.operators.write({"status": "inactive"})
        start = fields.Datetime.now()
        with freeze_time(start):
            dialog = self.start(1001)
        self.assertEqual(dialog.state, "waiting")
        with freeze_time(start + timedelta(minutes=3)):
            self.operators[0].status = "active"
        self.assertEqual((dialog.state, dialog.wait_seconds), ("active", 180))
        with freeze_time(start + timedelta(minutes=5)):
            self.answer(dialog, "Hello!")
        self.assertEqual(dialog.first_reply_seconds, 120)
        self.assertFalse(dialog.first_reply_late, "within the 5 minutes")
        self.assertEqual(dialog.first_reply_on_time, 100, "counted in the share answered in time")
        with freeze_time(start + timedelta(minutes=13)):
            dialog.action_end()
        self.assertEqual(dialog.handling_seconds, 600)
        self.assertEqual(dialog.message_total, len(dialog.message_ids))
        self.assertGreaterEqual(dialog.message_total, 5)

    def test_an_unanswered_dialog_is_late_once_the_target_passed(self):
        self.bot.first_reply_target = 5
        start = fields.Datetime.now()
        with freeze_time(start):
            dialog = self.start(1001)
        self.cron(start + timedelta(minutes=4))
        self.assertFalse(dialog.first_reply_late)
        self.cron(start + timedelta(minutes=6))
        self.assertTrue(dialog.first_reply_late, "highlighted while still unanswered")
        with freeze_time(start + timedelta(minutes=7)):
            self.answer(dialog, "Sorry for the wait")
        self.assertTrue(dialog.first_reply_late)
        self.assertEqual((dialog.first_reply_seconds, dialog.first_reply_on_time), (420, 0))
        late = self.env["chatbot.dialog"].search([("first_reply_late", "=", True)])
        self.assertEqual(late, dialog)

    def test_the_pivot_figures_per_operator(self):
        """The reports read these stored figures: averages per operator over known dialogs."""
        start = fields.Datetime.now()
        dialogs = self.env["chatbot.dialog"]
        for n, reply in enumerate((60, 180), start=1):
            with freeze_time(start):
                dialog = self.start(1000 + n)
            with freeze_time(start + timedelta(seconds=reply)):
                self.answer(dialog, "Hi")
            dialogs |= dialog
        self.assertEqual(sorted(dialogs.mapped("first_reply_seconds")), [60, 180])
        unanswered = self.start(1009)
        self.assertFalse(unanswered.first_reply_seconds, "no time to first reply, not 0")
        groups = self.env["chatbot.dialog"].read_group(
            [("id", "in", (dialogs | unanswered).ids)], ["first_reply_seconds:avg"], ["bot_id"]
        )
        self.assertEqual(groups[0]["first_reply_seconds"], 120, "the average of the answered dialogs")
        self.assertEqual(groups[0]["bot_id_count"], 3)

    def test_a_dialog_left_with_the_bot_closes_after_the_idle_time(self):
        self.bot.idle_end_time = 60
        start = fields.Datetime.now()
        with freeze_time(start):
            self.receive(1, chat=1001, text="Hello")  # waits for /start: with the bot
        dialog = self.dialog_of(1001)
        self.assertEqual(dialog.state, "bot")
        self.cron(start + timedelta(minutes=59))
        self.assertEqual(dialog.state, "bot")
        self.cron(start + timedelta(minutes=61))
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "idle"))
        self.assertEqual(self.texts_to(dialog), ["Press /start to talk."], "no text by default")
        # with a text, the customer gets it
        self.bot.text_idle = "We closed this chat. Write again any time."
        with freeze_time(start):
            self.receive(2, chat=1002, text="Hi")
        self.cron(start + timedelta(minutes=61))
        self.assertEqual(
            self.texts_to(self.dialog_of(1002))[-1], "We closed this chat. Write again any time."
        )
        # 0: never
        self.bot.idle_end_time = 0
        with freeze_time(start):
            self.receive(3, chat=1003, text="Hi")
        self.cron(start + timedelta(days=2))
        self.assertEqual(self.dialog_of(1003).state, "bot")


@tagged("chatbot", "post_install", "-at_install")
class TestRatings(OperatorCase):
    """Seed 002 / issue 18: the customer rates the consultation with buttons on Odoo's scale, then may
    comment; the operator sees it."""

    def setUp(self):
        super().setUp()
        self.bot.rating_enabled = True
        self.dialog = self.start(1001)
        self.operator = self.dialog.operator_id

    def test_rate_and_comment_after_the_operator_ends(self):
        self.dialog.with_user(self.operator.user_id).action_end()
        question = self.dialog.message_ids.filtered(lambda m: m.direction == "out").sorted("id")[-1]
        self.assertEqual(question.body, "How was your consultation? Please rate it.")
        buttons = question.outbound_id.payload["buttons"][0]
        self.assertEqual(
            [(b["label"], b["data"]) for b in buttons],
            [
                (label, f"rate:{self.dialog.id}:{value}")
                for label, value in (("Good", 5), ("Okay", 3), ("Bad", 1))
            ],
        )
        self.assertIn(
            "How was your consultation? Please rate it.", self.send_all(), "sent after the completion"
        )
        self.receive(3, chat=1001, kind="button", button=f"rate:{self.dialog.id}:5")
        self.assertEqual((self.dialog.rating, self.dialog.rating_value), ("5", 5))
        self.assertEqual(
            self.texts_to(self.dialog)[-1],
            "Thank you for your rating! If you like, write a comment in your next message.",
        )
        self.receive(4, chat=1001, text="Olena was very helpful")
        self.assertEqual(self.dialog.rating_comment, "Olena was very helpful")
        self.assertEqual(self.dialog_of(1001), self.dialog, "the comment opened no new dialog")
        notes = self.dialog.discuss_channel_id.message_ids.mapped("body")
        self.assertTrue(
            any("rated dialog" in str(n) and "very helpful" in str(n) for n in notes), "told to the operator"
        )
        # the reports average the rated dialogs only
        groups = self.env["chatbot.dialog"].read_group(
            [("bot_id", "=", self.bot.id)], ["rating_value:avg"], ["bot_id"]
        )
        self.assertEqual(groups[0]["rating_value"], 5)

    def test_a_later_message_is_a_new_dialog_and_others_buttons_do_nothing(self):
        self.dialog.action_end()
        self.receive(3, chat=2002, text="/start", user={"id": 2002, "name": "Stranger"})
        self.receive(4, chat=2002, kind="button", button=f"rate:{self.dialog.id}:1")
        self.assertFalse(self.dialog.rating, "only the dialog's own customer rates it")
        self.receive(5, chat=1001, kind="button", button=f"rate:{self.dialog.id}:3")
        self.assertEqual(self.dialog.rating, "3")
        later = fields.Datetime.now() + timedelta(minutes=11)
        with freeze_time(later):
            self.receive(6, chat=1001, text="Another question")
        self.assertNotEqual(self.dialog_of(1001), self.dialog, "too late for a comment: a new dialog")
        self.assertFalse(self.dialog.rating_comment)

    def test_not_asked_when_off_or_after_the_waiting_timeout(self):
        self.bot.rating_enabled = False
        self.dialog.action_end()
        self.send_all()
        self.assertFalse([m for m in self.fake.sent if m.text.startswith("How was your consultation")])
