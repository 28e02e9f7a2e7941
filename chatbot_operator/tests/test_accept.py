from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestAcceptMode(OperatorCase):
    """Issue 16.3: with "Operators accept new dialogs", a new dialog is offered to the routed operator, who
    accepts or declines it; not accepted in time, it goes to the next operator and keeps its place."""

    def setUp(self):
        super().setUp()
        self.bot.write({"accept_mode": True, "accept_timeout": 30})

    def offers(self):
        """Start a dialog while recording the bus notifications sent to users."""
        return patch.object(type(self.env["res.users"]), "_bus_send")

    def test_a_new_dialog_is_offered_then_accepted(self):
        with self.offers() as sent:
            dialog = self.start(1001)
        operator = dialog.offer_operator_id
        self.assertEqual((dialog.state, dialog.operator_id.id), ("waiting", False), "not theirs yet")
        self.assertTrue(operator)
        self.assertEqual(operator.active_dialog_count, 1, "an offer holds its place in the operator's load")
        offer = [c.args[1] for c in sent.call_args_list if c.args[0] == "chatbot/offer"]
        self.assertEqual(offer[0]["dialogId"], dialog.id, "the operator's browser rings")
        new_chats = self.env.ref("chatbot_operator.chatbot_dialog_action_new_chats")
        listed = (
            self.env["chatbot.dialog"]
            .with_user(operator.user_id)
            .search([("offer_operator_id.user_id", "=", operator.user_id.id), ("state", "=", "waiting")])
        )
        self.assertIn(dialog, listed, f"listed under {new_chats.name}")
        self.assertFalse([t for t in self.texts_to(dialog) if "connected to chat" in t])
        dialog.with_user(operator.user_id).action_accept()
        self.assertEqual((dialog.state, dialog.operator_id), ("active", operator))
        self.assertFalse(dialog.offer_operator_id)
        self.assertEqual(operator.active_dialog_count, 1)
        self.assertIn(f"{operator.name} connected to chat. Please start messaging!", self.texts_to(dialog))

    def test_only_the_operator_it_is_offered_to_accepts_it(self):
        dialog = self.start(1001)
        other = (self.operators - dialog.offer_operator_id)[0]
        with self.assertRaises(AccessError):
            dialog.with_user(other.user_id).action_accept()
        with self.assertRaises(AccessError):
            dialog.with_user(other.user_id).action_decline()

    def test_declined_it_goes_to_the_next_operator(self):
        dialog = self.start(1001)
        first = dialog.offer_operator_id
        dialog.with_user(first.user_id).action_decline()
        self.assertTrue(dialog.offer_operator_id and dialog.offer_operator_id != first)
        self.assertEqual(dialog.declined_operator_ids, first)
        self.assertEqual(first.active_dialog_count, 0)

    def test_not_accepted_in_time_it_goes_to_the_next_operator_and_keeps_its_place(self):
        dialog = self.start(1001)
        first, queued = dialog.offer_operator_id, dialog.queue_date
        with freeze_time(fields.Datetime.now() + timedelta(seconds=20)):
            self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(dialog.offer_operator_id, first, "not yet")
        with freeze_time(fields.Datetime.now() + timedelta(seconds=40)):
            self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertTrue(dialog.offer_operator_id and dialog.offer_operator_id != first)
        self.assertEqual(
            (dialog.state, dialog.queue_date), ("waiting", queued), "the customer keeps their place"
        )

    def test_an_offer_let_go_while_everyone_is_busy_waits_with_its_place_told(self):
        """Offered on arrival, the customer was told no place in the queue; declined while every other
        operator is busy, they wait, and the queue tells them their place."""
        dialogs = [self.start(1001 + i) for i in range(6)]  # two offers for each of the three operators
        declined, first = dialogs[0], dialogs[0].offer_operator_id
        for dialog in dialogs[1:]:
            dialog.with_user(dialog.offer_operator_id.user_id).action_accept()
        declined.with_user(first.user_id).action_decline()
        self.assertEqual(
            (declined.state, declined.offer_operator_id.id), ("waiting", False), "nobody has room"
        )
        self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(declined.queue_position, 1)
        self.assertEqual(self.texts_to(declined), ["All operators are busy. You are number 1 in the queue."])
        self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(len(self.texts_to(declined)), 1, "not told twice the same place")

    def test_a_messenger_operator_accepts_with_a_button(self):
        self.operators.write({"status": "inactive"})
        self.receive(1, chat=7007, text="/operator", user={"id": 7007, "name": "Taras"})
        candidate = self.dialog_of(7007).sender_id
        candidate.with_user(self.bot_admin).action_chatbot_approve()
        messenger_operator = candidate.operator_ids
        dialog = self.start(1001)
        self.assertEqual(dialog.offer_operator_id, messenger_operator)
        self.Outbound._send_channel(self.channel, time_budget=5)
        offer = [m for m in self.fake.sent if m.chat_id == "7007" and m.buttons][-1]
        self.assertIn(f"({dialog.code})", offer.text)
        labels = [button.label for row in offer.buttons for button in row]
        self.assertEqual(labels, ["Accept", "Decline"])
        self.receive(2, chat=7007, kind="button", button=offer.buttons[0][0].data)
        self.assertEqual((dialog.state, dialog.operator_id), ("active", messenger_operator))

    def test_off_by_default_dialogs_are_given_at_once(self):
        self.bot.accept_mode = False
        dialog = self.start(1001)
        self.assertEqual(dialog.state, "active")
        self.assertFalse(dialog.offer_operator_id)
