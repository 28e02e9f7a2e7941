from datetime import timedelta
from unittest.mock import patch

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

    # --- a silent operator (issue 16.4)

    def cron_at(self, minutes):
        with freeze_time(fields.Datetime.now() + timedelta(minutes=minutes)):
            self.env["chatbot.dialog"]._cron_operator_queue()

    def test_a_silent_operators_dialog_goes_to_the_next_operator(self):
        self.bot.write({"silent_operator_time": 5, "dialog_end_time": 0})
        dialog = self.start(1001)
        first = dialog.operator_id
        conversation = dialog.discuss_channel_id
        self.cron_at(4)
        self.assertEqual(dialog.operator_id, first, "not yet")
        with patch.object(type(self.env["res.users"]), "_bus_send") as told:
            self.cron_at(6)
        second = dialog.operator_id
        self.assertTrue(second and second != first, "the next operator has it")
        self.assertEqual((first.active_dialog_count, second.active_dialog_count), (0, 1))
        warnings = [c for c in told.call_args_list if c.args[0] == "simple_notification"]
        self.assertIn("did not answer", warnings[0].args[1]["message"], "the first one is told")
        members = conversation.channel_member_ids.partner_id
        self.assertIn(second.user_id.partner_id, members, "the same conversation, with the history")
        self.assertNotIn(first.user_id.partner_id, members)
        self.assertIn(f"{second.name} connected to chat. Please start messaging!", self.texts_to(dialog))

    def test_an_operator_who_answered_keeps_the_dialog(self):
        self.bot.write({"silent_operator_time": 5, "dialog_end_time": 0})
        dialog = self.start(1001)
        operator = dialog.operator_id
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            dialog.discuss_channel_id.with_user(operator.user_id).message_post(
                body="Hello!", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.cron_at(30)
        self.assertEqual(dialog.operator_id, operator)

    def test_with_nobody_else_free_it_waits_at_the_head_of_the_queue(self):
        self.bot.write(
            {"silent_operator_time": 5, "dialog_end_time": 0, "max_waiting_time": 10, "max_parallel_chats": 1}
        )
        self.operators[1:].write({"status": "inactive"})
        first = self.operators[0]
        dialog = self.start(1001)
        self.assertEqual(dialog.operator_id, first)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=1)):
            later = self.start(1002)
        self.assertEqual(later.state, "waiting", "the one Active operator is at their limit")
        later_queued = later.queue_date
        self.cron_at(6)
        self.assertEqual(dialog.state, "waiting", "nobody else is free; not given back to the silent one")
        self.assertEqual(dialog.silent_operator_id, first)
        self.assertLess(dialog.queue_date, later_queued, "at the head of the queue")
        self.assertEqual(later.operator_id, first, "the silent operator takes the next customer instead")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=7)):
            later.discuss_channel_id.with_user(first.user_id).message_post(
                body="Hello!", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.cron_at(12)
        self.assertEqual(dialog.state, "waiting", "its max waiting time counts from its return to the queue")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=13)):
            self.operators[1].with_user(self.operators[1].user_id).chatbot_set_my_status("active")
        self.assertEqual(dialog.operator_id, self.operators[1], "the next operator gets it")

    def test_zero_never_reassigns(self):
        self.bot.write({"silent_operator_time": 0, "dialog_end_time": 0})
        dialog = self.start(1001)
        operator = dialog.operator_id
        self.cron_at(600)
        self.assertEqual(dialog.operator_id, operator)
