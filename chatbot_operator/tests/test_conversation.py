from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestConversation(OperatorCase):
    def setUp(self):
        super().setUp()
        self.receive(1, chat=1001, text="Hello, my order is late", user={"id": 1001, "name": "Olena"})
        self.dialog = self.say(1001, "/start", 2)
        self.operator = self.dialog.operator_id
        self.user = self.operator.user_id
        self.channel_d = self.dialog.discuss_channel_id

    def bodies(self):
        return [
            (m.author_id.name, m.body.striptags() if hasattr(m.body, "striptags") else m.body)
            for m in self.channel_d.message_ids.sorted("id")
            if m.message_type == "comment"
        ]

    def test_conversation_has_the_operator_the_customer_and_the_history(self):
        self.assertTrue(self.channel_d, "an Odoo operator gets a Discuss conversation")
        livechat = self.env["ir.module.module"]._get("chatbot_livechat").state == "installed"
        # with chatbot_livechat a live chat session, so that it pops up; else a group conversation
        self.assertEqual(self.channel_d.channel_type, "livechat" if livechat else "group")
        self.assertEqual(
            set(self.channel_d.channel_member_ids.partner_id.ids),
            {self.user.partner_id.id, self.dialog.partner_id.id},
        )
        authors = [a for a, _b in self.bodies()]
        texts = [b for _a, b in self.bodies()]
        self.assertEqual(texts[:3], ["Hello, my order is late", "Press /start to talk.", "/start"])
        self.assertEqual(authors[0], "Olena", "the customer's messages are theirs")
        self.assertIn("If you would like to end your consultation Press: /end", texts)

    def test_customer_message_appears_live_and_edits_follow(self):
        self.say(1001, "Order 42", 3)
        self.assertEqual(self.bodies()[-1], ("Olena", "Order 42"))
        self.receive(4, chat=1001, kind="edit", message_id=3, text="Order 43")
        last = self.channel_d.message_ids.sorted("id")[-1]
        self.assertIn("Order 43", str(last.body))
        self.assertIn("edited", str(last.body))

    def test_operator_answer_in_discuss_reaches_the_customer(self):
        self.channel_d.with_user(self.user).message_post(
            body="We are on it!", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        sent = self.dialog.message_ids.filtered(lambda m: m.author_kind == "operator")
        self.assertEqual(sent.mapped("body"), ["We are on it!"])
        self.assertEqual(sent.author_user_id, self.user)
        self.assertTrue(self.dialog.first_reply_date)
        self.assertIn("We are on it!", self.send_all())
        # posted once in the conversation: no echo of the operator's own message
        self.assertEqual([b for _a, b in self.bodies()].count("We are on it!"), 1)

    def test_only_the_operator_answers(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        self.channel_d.sudo()._add_members(users=other)
        with self.assertRaises(AccessError):
            self.channel_d.with_user(other).message_post(
                body="Not mine", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_customer_end_closes_with_completion_text(self):
        self.say(1001, "/end", 5)
        self.assertEqual(self.dialog.state, "closed")
        self.assertEqual(self.dialog.close_reason, "customer")
        self.assertEqual(self.texts_to(self.dialog)[-1], "Consultation completed")
        self.assertEqual(self.operator.active_dialog_count, 0)
        with self.assertRaises(UserError):
            self.channel_d.with_user(self.user).message_post(
                body="Still there?", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_close_command_in_the_conversation(self):
        self.channel_d.with_user(self.user).execute_command_close()
        self.assertEqual(self.dialog.state, "closed")
        self.assertEqual(self.dialog.close_reason, "operator")
        self.assertEqual(self.texts_to(self.dialog)[-1], "Consultation completed")

    def test_transfer_keeps_the_history_and_moves_the_conversation(self):
        target = (self.operators - self.operator)[0]
        self.channel_d.with_user(self.user).execute_command_transfer(body=f"/transfer {target.name}")
        self.assertEqual(self.dialog.operator_id, target)
        self.assertEqual(self.dialog.discuss_channel_id, self.channel_d, "same conversation, same history")
        members = self.channel_d.channel_member_ids.partner_id
        self.assertIn(target.user_id.partner_id, members)
        self.assertNotIn(self.user.partner_id, members)
        self.assertEqual(self.operator.active_dialog_count, 0)
        self.assertEqual(target.active_dialog_count, 1)
        # the greeting is not sent again
        greetings = [t for t in self.texts_to(self.dialog) if "connected to chat" in t]
        self.assertEqual(len(greetings), 1)

    def test_user_cannot_close_someone_elses_dialog(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        with self.assertRaises(AccessError):
            self.dialog.with_user(other).action_end()
        self.dialog.with_user(self.bot_manager).action_end()
        self.assertEqual(self.dialog.state, "closed")

    def test_live_chat_starts_a_new_dialog_after_the_end(self):
        self.dialog.with_user(self.user).action_end()
        action = self.dialog.with_user(self.user).action_live_chat()
        new = self.dialog_of(1001)
        self.assertNotEqual(new, self.dialog)
        self.assertEqual(new.state, "active")
        self.assertEqual(new.operator_id, self.operator)
        self.assertEqual(action["params"]["active_id"], f"discuss.channel_{new.discuss_channel_id.id}")

    def test_send_message_form(self):
        wizard = (
            self.env["chatbot.send.message"]
            .with_user(self.bot_user)
            .create({"sender_id": self.dialog.sender_id.id, "text": "A note from the shop"})
        )
        wizard.action_send()
        self.assertEqual(self.texts_to(self.dialog)[-1], "A note from the shop")
        self.assertIn("A note from the shop", self.send_all())
