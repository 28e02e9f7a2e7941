from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import set_online

from .test_ui import OperatorTourCase

USER_GROUPS = "base.group_user,chatbot_base.chatbot_base_group_user"


@tagged("chatbot", "post_install", "-at_install")
class TestOperatorActionsTour(OperatorTourCase):
    """The buttons of an operator and of a Bots administrator, clicked in the browser: End in a dialog's
    conversation header, Decline under New chats, Approve as operator on a sender's form. Each test checks
    what the people involved notice afterwards: the records' state and what the messenger received."""

    def receive(self, update_id, chat, name, text):
        """A messenger user writes to the bot; returns their dialog."""
        row_id = self.channel._chatbot_store_inbound(
            {"id": update_id, "chat": chat, "user": {"id": chat, "name": name}, "text": text}
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        return self.env["chatbot.dialog"].search(
            [("bot_id", "=", self.bot.id), ("sender_id.external_id", "=", str(chat))],
            order="id desc",
            limit=1,
        )

    def texts_to(self, chat):
        """What the messenger delivered to `chat`, once the outbound queue ran."""
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        return [message.text for message in self.fake.sent if message.chat_id == str(chat)]

    def test_operator_ends_the_dialog_from_the_conversation_header(self):
        self.bot.with_user(self.operator_user).action_join()
        set_online(self.operator_user)
        dialog = self.receive("e1", 4545, "Halyna", "Please call me back")
        self.assertEqual((dialog.state, dialog.operator_id.user_id), ("active", self.operator_user))
        self.assertTrue(dialog.discuss_channel_id)

        self.start_tour("/odoo/discuss", "chatbot_operator_end_tour", login="tour_operator")
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "operator"))
        texts = self.texts_to(4545)
        self.assertEqual(texts[-1], "Consultation completed", texts)
        self.assertEqual(texts.count("Consultation completed"), 1, "one click, one completion text")
        self.assertEqual(dialog.operator_id.active_dialog_count, 0, "the operator is free for the next one")

    def test_operator_declines_an_offered_dialog_from_new_chats(self):
        colleague = new_test_user(self.env, "tour_colleague", name="Petro Colleague", groups=USER_GROUPS)
        for user in (self.operator_user, colleague):
            self.bot.with_user(user).action_join()
        operators = {o.user_id: o for o in self.bot.operator_ids}
        operators[colleague].status = "inactive"  # the customer is offered to the tour's operator first
        self.bot.accept_mode = True
        set_online(self.operator_user | colleague)
        dialog = self.receive("d1", 4646, "Stepan", "Anyone there?")
        self.assertEqual((dialog.state, dialog.offer_operator_id), ("waiting", operators[self.operator_user]))
        operators[colleague].status = "active"
        self.assertEqual(
            dialog.offer_operator_id, operators[self.operator_user], "an offer waits for its answer"
        )

        self.start_tour(
            "/odoo/action-chatbot_operator.chatbot_dialog_action_new_chats",
            "chatbot_operator_decline_tour",
            login="tour_operator",
        )
        self.assertEqual(dialog.offer_operator_id, operators[colleague], "offered to the other operator")
        self.assertEqual(dialog.declined_operator_ids, operators[self.operator_user])
        self.assertEqual((dialog.state, dialog.operator_id.id), ("waiting", False), "still waiting for a yes")
        self.assertEqual(operators[self.operator_user].active_dialog_count, 0, "the offer left their load")
        texts = self.texts_to(4646)
        self.assertFalse([text for text in texts if "connected to chat" in text], texts)

    def test_bots_administrator_approves_a_messenger_user_as_operator(self):
        bots_admin = new_test_user(
            self.env,
            "tour_bots_admin",
            name="Olha Admin",
            groups="base.group_user,chatbot_base.chatbot_base_group_admin",
        )
        bots_manager = new_test_user(
            self.env,
            "tour_bots_manager",
            name="Maksym Manager",
            groups="base.group_user,chatbot_base.chatbot_base_group_manager",
        )
        dialog = self.receive("a1", 4747, "Bohdan", "I would like to answer customers too")
        sender = dialog.sender_id
        self.assertTrue(sender.can_be_operator)
        Operator = self.env["chatbot.operator"].with_context(active_test=False)

        # a Bots manager neither sees the button nor can run it over RPC
        def sender_form(user):
            return self.env["chatbot.sender"].with_user(user).get_views([(False, "form")])["views"]["form"]

        self.assertIn('name="action_chatbot_approve"', sender_form(bots_admin)["arch"])
        self.assertNotIn('name="action_chatbot_approve"', sender_form(bots_manager)["arch"])
        with self.assertRaises(AccessError):
            sender.with_user(bots_manager).action_chatbot_approve()
        self.assertFalse(Operator.search([("sender_id", "=", sender.id)]))
        self.assertNotIn("You Approved", self.texts_to(4747))

        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action",
            "chatbot_operator_approve_tour",
            login="tour_bots_admin",
        )
        operator = Operator.search([("sender_id", "=", sender.id)])
        self.assertEqual((operator.bot_id, operator.active), (self.bot, True))
        self.assertEqual(sender.operator_request_state, "approved")
        self.assertTrue(sender.is_operator)
        self.assertEqual(self.texts_to(4747)[-1], "You Approved")
