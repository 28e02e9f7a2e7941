from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import fake_messenger, set_online

# the operator works in another app (the Bots kanban): Discuss itself shows conversations in its own panel
BOTS = "/odoo/action-chatbot_base.chatbot_bot_action"


@tagged("chatbot", "post_install", "-at_install")
class TestLivechatTours(HttpCase):
    """In real browsers: a website visitor answers a client bot in the live chat widget and is handed over;
    the operator gets the pop-up and answers; the visitor sees it. A messenger's customer (chatbot_base's
    fake messenger) pops up the same way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = cls.enterClassContext(fake_messenger())
        cls.bot = cls.env["chatbot.bot"].create({"name": "Tour shop", "bot_type": "client"})
        cls.channel = cls.env["chatbot.channel"].create(
            {"name": "Messenger", "bot_id": cls.bot.id, "provider": "fake"}
        )
        cls.operator_bot = cls.env["chatbot.bot"].create(
            {"name": "Tour consultations", "bot_type": "operator", "wait_start_message": False}
        )
        cls.operator_user = new_test_user(
            cls.env,
            "live_tour_op",
            name="Iryna Operator",
            groups="base.group_user,chatbot_base.chatbot_base_group_user",
        )
        cls.operator_bot.with_user(cls.operator_user).action_join()
        cls.livechat = cls.operator_bot.livechat_channel_id
        # the Kyiv client bot answers the website first: the "Odoo live-chat" channel moves to it
        cls.bot.write(
            {"name": "Tour shop", "operator_bot_id": cls.operator_bot.id, "wait_start_message": False}
        )
        cls.env["chatbot.channel"].search([("livechat_channel_id", "=", cls.livechat.id)]).bot_id = cls.bot
        cls.env["chatbot.step"].create(
            [
                {
                    "bot_id": cls.bot.id,
                    "sequence": 1,
                    "step_type": "question",
                    "text": "How can we help?",
                    "answer_ids": [(0, 0, {"name": "Buy a sofa"}), (0, 0, {"name": "Talk to a person"})],
                },
                {
                    "bot_id": cls.bot.id,
                    "sequence": 2,
                    "step_type": "operator",
                    "text": "Calling a consultant.",
                },
            ]
        )

    def test_visitor_answers_the_bot_is_handed_over_and_gets_the_operators_answer(self):
        set_online(self.operator_user)
        self.start_tour(f"/chatbot/chat/{self.livechat.id}", "chatbot_livechat_visitor_tour")
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        self.assertEqual(dialog.flow_answers[0]["answer"], "Talk to a person")
        self.assertEqual(dialog.state, "active", "handed over to the online, Active operator")
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)
        self.start_tour(BOTS, "chatbot_livechat_operator_tour", login="live_tour_op")
        self.assertIn("Hello from Iryna", dialog.message_ids.mapped("body"))
        # the visitor, back with their guest cookie, reads their session (Discuss's public page of it)
        session = dialog.discuss_channel_id
        guest = session.channel_member_ids.guest_id
        self.assertEqual(len(guest), 1)
        self.start_tour(
            f"/discuss/channel/{session.id}",
            "chatbot_livechat_visitor_sees_answer_tour",
            cookies={guest._cookie_name: guest._format_auth_cookie()},
        )

    def test_messenger_customer_pops_up_for_the_operator(self):
        set_online(self.operator_user)
        self.bot.operator_bot_id = False
        self.channel.bot_id = self.operator_bot
        row_id = self.channel._chatbot_store_inbound(
            {"id": "u1", "chat": 4343, "user": {"id": 4343, "name": "Olena"}, "text": "Hi from a messenger"}
        )
        self.env["chatbot.inbound"].browse(row_id)._process_one()
        dialog = self.env["chatbot.dialog"].search(
            [("bot_id", "=", self.operator_bot.id)], order="id desc", limit=1
        )
        self.assertEqual(dialog.operator_id.user_id, self.operator_user)
        self.assertEqual(dialog.discuss_channel_id.channel_type, "livechat")
        self.start_tour(BOTS, "chatbot_livechat_messenger_popup_tour", login="live_tour_op")
        self.env["chatbot.outbound"]._send_channel(self.channel, time_budget=10)
        texts = [message.text for message in self.fake.sent if message.chat_id == "4343"]
        self.assertIn("Hello Olena, how can I help?", texts)

    def test_chat_page_is_public_for_bot_live_chats_only(self):
        page = self.url_open(f"/chatbot/chat/{self.livechat.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Tour shop", page.text)
        self.assertIn("livechatData", page.text, "the widget is on the page")
        other = self.env["im_livechat.channel"].create({"name": "Human-only live chat"})
        self.assertEqual(self.url_open(f"/chatbot/chat/{other.id}").status_code, 404)
