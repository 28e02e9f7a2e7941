from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestStartChat(OperatorCase):
    """*Message via bot* (seed 002, "initiate a chat"): from a contact to the chat where they wrote."""

    def setUp(self):
        super().setUp()
        self.receive(1, chat=1001, text="Hello", user={"id": 1001, "name": "Olena"})
        self.dialog = self.dialog_of(1001)
        self.dialog.action_close()
        self.partner = self.env["res.partner"].create({"name": "Olena Koval"})
        self.dialog.sender_id.partner_id = self.partner
        self.user = self.users[0]

    def test_a_contact_who_wrote_gets_a_dialog_with_the_user_as_operator(self):
        action = self.partner.with_user(self.user).action_chatbot_message()
        dialog = self.dialog_of(1001)
        self.assertNotEqual(dialog, self.dialog, "a new dialog: the last one was closed")
        self.assertEqual((dialog.state, dialog.operator_id.user_id), ("active", self.user))
        self.assertEqual(action["params"]["active_id"], f"discuss.channel_{dialog.discuss_channel_id.id}")
        dialog.discuss_channel_id.with_user(self.user).message_post(
            body="Your order is ready", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertIn("Your order is ready", self.send_all())
        # again: the same open dialog, no second one
        self.partner.with_user(self.user).action_chatbot_message()
        self.assertEqual(self.dialog_of(1001), dialog)

    def test_refused_with_the_reason_and_nothing_sent(self):
        before = self.send_all()
        stranger = self.env["res.partner"].create({"name": "Taras Never"})
        with self.assertRaisesRegex(UserError, "Taras Never never wrote to a bot"):
            stranger.with_user(self.user).action_chatbot_message()
        self.dialog.sender_id.is_blocked = True
        with self.assertRaisesRegex(UserError, "Olena Koval blocked the bot"):
            self.partner.with_user(self.user).action_chatbot_message()
        self.dialog.sender_id.is_blocked = False
        self.channel.active = False
        with self.assertRaisesRegex(UserError, "The chats where Olena Koval wrote are archived: Fake"):
            self.partner.with_user(self.user).action_chatbot_message()
        self.assertEqual(self.dialog_of(1001), self.dialog, "no dialog opened")
        self.assertEqual(self.send_all(), before)

    def test_only_operators_of_the_bot_start_chats(self):
        self.bot.with_user(self.user).action_leave()
        with self.assertRaisesRegex(UserError, "Join Test bot first"):
            self.partner.with_user(self.user).action_chatbot_message()

    def test_someone_elses_customer_is_not_taken(self):
        self.partner.with_user(self.users[1]).action_chatbot_message()
        with self.assertRaisesRegex(UserError, "is talking with Olena now"):
            self.partner.with_user(self.user).action_chatbot_message()

    def test_several_chats_the_user_picks_one(self):
        second = self.env["chatbot.channel"].create(
            {"name": "Second", "bot_id": self.bot.id, "provider": "fake"}
        )
        second._chatbot_store_inbound(
            {"id": 2, "chat": 2002, "text": "Hi", "user": {"id": 2002, "name": "Olena"}}
        )
        self.env["chatbot.inbound"].search([("state", "=", "pending")])._process_one()
        other = self.env["chatbot.sender"].search([("channel_id", "=", second.id)])
        other.partner_id = self.partner
        action = self.partner.with_user(self.user).action_chatbot_message()
        self.assertEqual(action["res_model"], "chatbot.start.chat")
        wizard = (
            self.env["chatbot.start.chat"].with_user(self.user).with_context(**action["context"]).create({})
        )
        self.assertEqual(set(wizard.sender_ids.ids), {self.dialog.sender_id.id, other.id})
        with self.assertRaisesRegex(UserError, "Choose where to write"):
            wizard.action_start()
        wizard.sender_id = other
        wizard.action_start()
        self.assertEqual(
            other.dialog_ids.filtered(lambda d: d.state == "active").operator_id.user_id, self.user
        )

    def test_several_contacts_open_a_prefilled_broadcast(self):
        other = self.env["res.partner"].create({"name": "Petro"})
        action = (self.partner | other).with_user(self.user).action_chatbot_message()
        self.assertEqual(action["res_model"], "chatbot.broadcast")
        self.assertEqual(action["context"]["default_bot_id"], self.bot.id)
        self.assertEqual(
            action["context"]["default_recipient_domain"],
            repr([("partner_id", "in", (self.partner | other).ids)]),
        )
