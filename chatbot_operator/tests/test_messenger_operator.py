from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestMessengerOperator(OperatorCase):
    def setUp(self):
        super().setUp()
        self.operators.write({"status": "inactive"})  # only the messenger operator serves
        self.receive(1, chat=7007, text="/operator", user={"id": 7007, "name": "Taras"})
        self.candidate = self.dialog_of(7007).sender_id

    def sent_to(self, chat):
        self.Outbound._send_channel(self.channel, time_budget=5)
        return [m.text for m in self.fake.sent if str(m.chat_id) == str(chat)]

    def test_moderation_then_approval(self):
        self.assertEqual(self.candidate.operator_request_state, "pending")
        self.assertEqual(self.sent_to(7007), ["Please wait for approval you as consultant"])
        with self.assertRaises(AccessError):
            self.candidate.with_user(self.bot_manager).action_chatbot_approve()
        self.candidate.with_user(self.bot_admin).action_chatbot_approve()
        self.assertEqual(self.candidate.operator_request_state, "approved")
        self.assertEqual(self.sent_to(7007)[-1], "You Approved")
        operator = self.candidate.operator_ids
        self.assertEqual(operator.messenger, self.channel.display_name)

    def test_anyone_who_wrote_can_be_approved_from_the_senders_tab(self):
        # seed §1.1.3: a customer who never sent /operator is in the bot's Senders too
        self.receive(2, chat=9009, text="Hello", user={"id": 9009, "name": "Oksana"})
        customer = self.dialog_of(9009).sender_id
        self.assertEqual((customer.operator_request_state, customer.can_be_operator), (False, True))
        customer.with_user(self.bot_admin).action_chatbot_approve()
        self.assertEqual(customer.operator_request_state, "approved")
        self.assertTrue(customer.operator_ids.filtered("active"))
        self.assertFalse(customer.can_be_operator, "approved already")
        self.assertEqual(self.sent_to(9009)[-1], "You Approved")

    def test_a_website_visitor_cannot_be_a_messenger_operator(self):
        # the website's and the flow test page's people have no messenger chat with the bot (those channels
        # come with chatbot_livechat and chatbot_client: here the fake messenger plays one)
        with patch("odoo.addons.chatbot_operator.models.chatbot_sender.NOT_MESSENGERS", ("fake",)):
            self.candidate.invalidate_recordset(["can_be_operator"])
            self.assertFalse(self.candidate.can_be_operator)
            with self.assertRaisesRegex(UserError, "only a messenger user"):
                self.candidate.with_user(self.bot_admin).action_chatbot_approve()

    def test_rejection(self):
        self.candidate.with_user(self.bot_admin).action_chatbot_reject()
        self.assertEqual(self.candidate.operator_request_state, "rejected")
        self.assertEqual(self.sent_to(7007)[-1], "You Reject")
        self.assertFalse(self.candidate.operator_ids.filtered("active"))

    def test_odoo_operators_only_refuses_with_a_message(self):
        self.bot.odoo_operators_only = True
        self.receive(2, chat=8008, text="/operator", user={"id": 8008, "name": "Petro"})
        self.assertIn("Odoo only", self.sent_to(8008)[-1])
        self.assertFalse(self.dialog_of(8008).sender_id.operator_request_state)
        with self.assertRaises(UserError):
            self.candidate.with_user(self.bot_admin).action_chatbot_approve()

    def test_serves_one_customer_with_commands(self):
        self.candidate.with_user(self.bot_admin).action_chatbot_approve()
        operator = self.candidate.operator_ids
        first = self.start(1001)
        self.assertEqual(first.operator_id, operator)
        self.assertIn("New customer", self.sent_to(7007)[-1])
        second = self.start(1002)
        self.assertEqual(second.state, "waiting", "a messenger operator serves one customer at a time")
        # the customer's text reaches the operator, the operator's answer the customer
        self.say(1001, "Where is my parcel?", 3)
        self.assertTrue(self.sent_to(7007)[-1].endswith("Where is my parcel?"))
        self.receive(4, chat=7007, text="It left today")
        self.assertEqual(self.texts_to(first)[-1], "It left today")
        self.assertIn("It left today", self.sent_to(1001))
        # /next while busy; /end; then /next takes the waiting customer
        self.receive(5, chat=7007, text="/next")
        self.assertIn("first", self.sent_to(7007)[-1])
        self.receive(6, chat=7007, text="/end")
        self.assertEqual(first.state, "closed")
        self.assertEqual(self.texts_to(first)[-1], "Consultation completed")
        self.assertEqual(second.operator_id, operator, "freed: the waiting customer comes at once")
        self.receive(7, chat=7007, text="/help")
        self.assertIn("/transfer", self.sent_to(7007)[-1])
        # the operator's own messages never open a customer dialog for them
        self.assertFalse(
            self.env["chatbot.dialog"].search(
                [("sender_id", "=", self.candidate.id), ("state", "!=", "closed")]
            )
        )

    def test_canned_responses_serve_a_messenger_operator_too(self):
        self.env["mail.canned.response"].create(
            {"source": "onit", "substitution": "Thank you for waiting, we are on it."}
        )
        self.candidate.with_user(self.bot_admin).action_chatbot_approve()
        dialog = self.start(1001)
        self.receive(11, chat=7007, text=":onit")
        self.receive(12, chat=7007, text=":nosuchone")
        self.assertEqual(self.texts_to(dialog)[-2:], ["Thank you for waiting, we are on it.", ":nosuchone"])

    def test_transfer_to_another_operator_or_keep_it(self):
        self.candidate.with_user(self.bot_admin).action_chatbot_approve()
        operator = self.candidate.operator_ids
        dialog = self.start(1001)
        self.receive(3, chat=7007, text="/transfer")
        self.assertEqual(dialog.operator_id, operator, "nobody else is free: the dialog stays")
        self.assertIn("stays with you", self.sent_to(7007)[-1])
        self.operators[0].status = "active"
        self.receive(4, chat=7007, text="/transfer")
        child = dialog.child_ids
        self.assertEqual((dialog.close_reason, child.operator_id), ("transfer", self.operators[0]))
        self.assertEqual(operator.active_dialog_count, 0)
        self.assertTrue(child.discuss_channel_id, "the Odoo operator gets the conversation with the history")
        conversation = child.discuss_channel_id.message_ids.mapped("body")
        self.assertTrue(any("/start" in str(body) for body in conversation), conversation)

    def test_transfer_by_name_from_the_messenger(self):
        self.candidate.with_user(self.bot_admin).action_chatbot_approve()
        dialog = self.start(1001)
        target = self.operators[0]
        self.receive(3, chat=7007, text=f"/transfer {target.name}")
        self.assertEqual(dialog.child_ids.operator_id, target, "inactive, but named: seed 002 allows it")
        self.assertIn(f"handed to {target.name}", self.sent_to(7007)[-1])
