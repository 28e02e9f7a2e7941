from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestTimeouts(OperatorCase):
    def test_waiting_too_long_gets_the_timeout_text_and_closes(self):
        self.bot.max_waiting_time = 10
        self.operators.write({"status": "inactive"})
        dialog = self.start(1001)
        self.assertEqual(dialog.state, "waiting")
        later = fields.Datetime.now() + timedelta(minutes=9)
        with freeze_time(later):
            self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(dialog.state, "waiting", "not yet")
        with freeze_time(later + timedelta(minutes=2)):
            self.env["chatbot.dialog"]._cron_operator_queue()
            self.env["chatbot.dialog"]._cron_operator_queue()  # a second run (late, or another worker)
        self.assertEqual(dialog.state, "closed")
        self.assertEqual(dialog.close_reason, "timeout")
        timeouts = [t for t in self.texts_to(dialog) if t.startswith("Thank you for contacting us")]
        self.assertEqual(len(timeouts), 1, "told once")

    def test_inactive_dialog_closes_with_the_completion_text(self):
        self.bot.dialog_end_time = 30
        dialog = self.start(1001)
        operator = dialog.operator_id
        with freeze_time(fields.Datetime.now() + timedelta(minutes=20)):
            self.say(1001, "still here", 2)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=45)):
            self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(dialog.state, "active", "the customer wrote 25 minutes before")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=55)):
            self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(dialog.state, "closed")
        self.assertEqual(dialog.close_reason, "inactivity")
        self.assertEqual(self.texts_to(dialog)[-1], "Consultation completed")
        self.assertEqual(operator.active_dialog_count, 0)

    def test_zero_means_no_limit_and_batches_are_bounded(self):
        self.bot.write({"max_waiting_time": 0, "dialog_end_time": 5})
        self.operators.write({"status": "inactive"})
        waiting = self.start(1001)
        self.operators.write({"status": "active"})
        dialogs = [self.start(2000 + i) for i in range(3)]
        with freeze_time(fields.Datetime.now() + timedelta(days=3)):
            self.assertEqual(
                self.env["chatbot.dialog"]._chatbot_due_timeouts("inactivity", 2).ids.__len__(), 2
            )
            self.env["chatbot.dialog"]._cron_operator_queue(batch_size=2)
        self.assertEqual(
            waiting.state, "closed", "taken when operators came back, then closed for inactivity"
        )
        self.assertTrue(all(d.state == "closed" for d in dialogs))
