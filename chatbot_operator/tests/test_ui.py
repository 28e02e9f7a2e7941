from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import fake_messenger, set_online

from .test_i18n import install_languages


class OperatorTourCase(HttpCase):
    """A consultation bot on chatbot_base's fake messenger (the Telegram road is tested end to end in tests/)
    and the tours' operator, Iryna."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = cls.enterClassContext(fake_messenger())
        cls.bot = cls.env["chatbot.bot"].create(
            {"name": "Tour consultations", "bot_type": "operator", "wait_start_message": False}
        )
        cls.channel = cls.env["chatbot.channel"].create(
            {"name": "Messenger", "bot_id": cls.bot.id, "provider": "fake"}
        )
        cls.operator_user = new_test_user(
            cls.env,
            "tour_operator",
            name="Iryna Operator",
            groups="base.group_user,chatbot_base.chatbot_base_group_user",
        )


@tagged("chatbot", "post_install", "-at_install")
class TestOperatorTour(OperatorTourCase):
    """An operator joins in the browser, a customer writes from a messenger, the dialog appears in the
    operator's Discuss, the operator answers there, and the messenger receives the answer."""

    def test_operator_answers_a_messenger_customer_from_discuss(self):
        # shared with every internal user, as a team's canned responses are
        self.env["mail.canned.response"].create(
            {
                "source": "onit",
                "substitution": "Thank you for waiting, we are on it.",
                "group_ids": [(4, self.env.ref("base.group_user").id)],
            }
        )
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action",
            "chatbot_operator_join_tour",
            login="tour_operator",
        )
        self.assertTrue(self.bot.with_user(self.operator_user).is_joined)
        set_online(self.operator_user)  # the tour's browser tab is gone: the operator is still at work

        row_id = self.channel._chatbot_store_inbound(
            {
                "id": "u1",
                "chat": 4242,
                "user": {"id": 4242, "name": "Olena"},
                "text": "Hello from a messenger",
            }
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)

        self.start_tour("/odoo/discuss", "chatbot_operator_answer_tour", login="tour_operator")
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        texts = [message.text for message in self.fake.sent if message.chat_id == "4242"]
        self.assertIn("How can I help you, Olena?", texts)
        self.assertIn("Thank you for waiting, we are on it.", texts, "the canned response's text")
        self.assertIn("Iryna Operator connected to chat. Please start messaging!", texts)
        # the commands typed in the conversation ran; neither reached the customer
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "operator"))
        self.assertEqual(texts[-1], "Consultation completed")
        self.assertFalse([text for text in texts if text.startswith("/")], texts)

    def test_a_new_operator_is_inactive_at_first_login_and_keeps_their_choice_after(self):
        # seed 002: an administrator made them an operator before they ever came
        newcomer = new_test_user(
            self.env, "tour_newcomer", groups="base.group_user,chatbot_base.chatbot_base_group_user"
        )
        operator = self.env["chatbot.operator"].create({"bot_id": self.bot.id, "user_id": newcomer.id})
        self.assertEqual(operator.status, "active")
        self.authenticate("tour_newcomer", "tour_newcomer")
        operator.invalidate_recordset()
        self.assertEqual(operator.status, "inactive", "nobody gets dialogs before they are ready")
        status = self.env["chatbot.operator"].with_user(newcomer).chatbot_set_my_status("active")
        self.assertEqual(status["status"], "active")
        self.authenticate("tour_newcomer", "tour_newcomer")
        operator.invalidate_recordset()
        self.assertEqual(operator.status, "active", "the next login keeps what they chose")

    def test_operator_transfers_from_the_conversation_header(self):
        self.bot.with_user(self.operator_user).action_join()
        colleague, away = (
            new_test_user(
                self.env, login, name=name, groups="base.group_user,chatbot_base.chatbot_base_group_user"
            )
            for login, name in (("tour_colleague", "Petro Colleague"), ("tour_away", "Oksana Away"))
        )
        for user in (colleague, away):
            self.bot.with_user(user).action_join()
        operators = {o.user_id: o for o in self.bot.operator_ids}
        operators[away].status = "inactive"
        operators[colleague].status = "inactive"  # the customer goes to the tour's operator first
        set_online(self.operator_user | colleague | away)
        row_id = self.channel._chatbot_store_inbound(
            {
                "id": "u2",
                "chat": 4343,
                "user": {"id": 4343, "name": "Taras"},
                "text": "I need the sales department",
            }
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)
        operators[colleague].status = "active"

        self.start_tour("/odoo/discuss", "chatbot_operator_transfer_tour", login="tour_operator")
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "transfer"))
        self.assertEqual(
            (dialog.child_ids.operator_id.user_id, dialog.child_ids.transfer_count), (colleague, 1)
        )
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        texts = [message.text for message in self.fake.sent if message.chat_id == "4343"]
        self.assertIn("We are passing you to another consultant. Please wait a moment.", texts)
        self.assertFalse([text for text in texts if "refund" in text], "the note stays with the operators")

    def test_operator_accepts_an_offered_dialog_from_new_chats(self):
        self.bot.with_user(self.operator_user).action_join()
        self.bot.accept_mode = True
        set_online(self.operator_user)
        row_id = self.channel._chatbot_store_inbound(
            {"id": "u3", "chat": 4444, "user": {"id": 4444, "name": "Mykola"}, "text": "Hello?"}
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual((dialog.state, dialog.offer_operator_id.user_id), ("waiting", self.operator_user))

        self.start_tour(
            "/odoo/action-chatbot_operator.chatbot_dialog_action_new_chats",
            "chatbot_operator_accept_tour",
            login="tour_operator",
        )
        self.assertEqual((dialog.state, dialog.operator_id.user_id), ("active", self.operator_user))
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        texts = [message.text for message in self.fake.sent if message.chat_id == "4444"]
        self.assertIn("Iryna Operator connected to chat. Please start messaging!", texts)


@tagged("chatbot", "post_install", "-at_install")
class TestUkrainianOperatorTour(OperatorTourCase):
    """An operator whose Odoo speaks Ukrainian joins, goes Active, answers a Ukrainian customer and types
    /close: the web client (menus, buttons, the headset, the conversation's actions, written in Python,
    XML and JavaScript) and the customer's texts are Ukrainian."""

    def test_a_ukrainian_operator_works_in_ukrainian(self):
        install_languages(self.env, "uk_UA")
        self.operator_user.lang = "uk_UA"
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action",
            "chatbot_operator_ukrainian_tour",
            login="tour_operator",
        )
        operator = self.bot.operator_ids.filtered(lambda o: o.user_id == self.operator_user)
        self.assertEqual(operator.status, "active")
        set_online(self.operator_user)
        row_id = self.channel._chatbot_store_inbound(
            {"id": "u4", "chat": 4545, "user": {"id": 4545, "name": "Оксана", "lang": "uk"}, "text": "Привіт"}
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)

        self.start_tour("/odoo/discuss", "chatbot_operator_ukrainian_answer_tour", login="tour_operator")
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "operator"))
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        texts = [message.text for message in self.fake.sent if message.chat_id == "4545"]
        completed = self.bot.with_context(lang="uk_UA")._chatbot_text("text_completed")
        self.assertEqual(texts[-1], completed)
        self.assertNotEqual(completed, "Consultation completed")
        self.assertIn("Добрий день, Оксано!", texts)
