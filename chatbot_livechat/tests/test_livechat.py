from odoo.tests import tagged

from odoo.addons.chatbot_base.tests.common import set_online
from odoo.addons.chatbot_base.tools.connector import Button

from .common import LivechatCase


@tagged("chatbot", "post_install", "-at_install")
class TestLivechat(LivechatCase):
    def test_an_operator_bot_comes_with_its_live_chat(self):
        self.assertTrue(self.livechat)
        self.assertEqual(self.web_channel.name, "Odoo live-chat")
        self.assertEqual(self.web_channel.provider, "livechat")
        self.assertEqual(self.web_channel.bot_id, self.bot, "listed in the bot's Channels tab")
        self.assertEqual(self.livechat.user_ids, self.users, "who joins the bot operates its live chat")
        self.bot.with_user(self.users[1]).action_leave()
        self.assertEqual(self.livechat.user_ids, self.users[0])
        self.assertTrue(
            self.livechat.get_livechat_info()["available"], "the bot answers even with nobody online"
        )

    def test_a_messenger_customer_pops_up_as_a_live_chat_session(self):
        self.receive(1, chat=501, text="/start", user={"id": 501, "name": "Olena"})
        dialog = self.dialog_of(501)
        self.assertEqual(dialog.state, "active")
        session = dialog.discuss_channel_id
        self.assertEqual(
            session.channel_type, "livechat", "a live chat session: a chat window, the Livechat list"
        )
        self.assertEqual(session.livechat_channel_id, self.livechat)
        self.assertEqual(session.livechat_operator_id, dialog.operator_id.user_id.partner_id)
        member = session.channel_member_ids.filtered(
            lambda m: m.partner_id == dialog.operator_id.user_id.partner_id
        )
        self.assertEqual(member.fold_state, "open", "it opens as a chat window")
        self.assertIn(dialog.partner_id, session.channel_member_ids.partner_id)
        self.receive(2, chat=501, text="Where is my parcel?", user={"id": 501, "name": "Olena"})
        self.assertIn("Where is my parcel?", session.message_ids.mapped("body")[0])
        session.with_user(dialog.operator_id.user_id).message_post(
            body="Checking it now", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(dialog.message_ids.sorted("id")[-1].body, "Checking it now")
        self.assertTrue(dialog.message_ids.sorted("id")[-1].outbound_id, "sent to Telegram through the queue")
        dialog._chatbot_end("operator")
        self.assertFalse(session.livechat_active, "the session ends with the dialog")

    def test_operators_offline_in_odoo_get_no_dialogs(self):
        self.env["bus.presence"].search([("user_id", "in", self.users.ids)]).status = "offline"
        self.receive(1, chat=501, text="/start")
        dialog = self.dialog_of(501)
        self.assertEqual(dialog.state, "waiting", "Active but offline: not offered")
        self.assertEqual(dialog.message_ids.mapped("body")[-1], "Sorry, no operator available")
        operators = self.bot.operator_ids.sorted("id")
        self.assertEqual(set(operators.mapped("availability")), {"offline"}, "their state says why")
        set_online(self.users[1])
        self.bot._chatbot_dispatch_queue()
        self.assertEqual(dialog.operator_id.user_id, self.users[1])
        operators.invalidate_recordset(["availability"])
        online = operators.filtered(lambda o: o.user_id == self.users[1])
        self.assertEqual(online.availability, "full", "online, and at the bot's one parallel chat")

    def test_coming_online_wakes_the_queue(self):
        self.env["bus.presence"].search([("user_id", "=", self.users[0].id)]).status = "offline"
        cron = self.env.ref("chatbot_operator.ir_cron_chatbot_operator_queue")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.env["bus.presence"]._update_presence(0, "user_id", self.users[0].id)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.env["bus.presence"]._update_presence(0, "user_id", self.users[0].id)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers + 1,
            "once, when it changes",
        )

    def test_website_visitor_enters_the_bot_and_gets_an_operator(self):
        session, guest = self.open_session("Visitor 7")
        self.assertEqual(session.livechat_operator_id, self.bot.partner_id, "the bot opens the session")
        dialog = self.visitor_says(session, guest, "Hello, I need help")
        self.assertTrue(dialog, "the visitor's message went to the bot")
        self.assertEqual(dialog.sender_id.external_id, f"guest-{guest.id}")
        self.assertEqual(dialog.state, "active", "the first message starts the bot: routed at once")
        operator_partner = dialog.operator_id.user_id.partner_id
        self.assertEqual(dialog.discuss_channel_id, session, "the operator joins the visitor's own session")
        self.assertEqual(session.livechat_operator_id, operator_partner)
        self.assertIn(operator_partner, session.channel_member_ids.partner_id)
        self.send_web()
        texts = self.session_texts(session)
        self.assertEqual(texts[0], "Hello, I need help")
        self.assertIn(f"{dialog.operator_id.name} connected to chat. Please start messaging!", texts)
        # the operator answers in the session: the visitor has it, the dialog records it, nothing is resent
        session.with_user(dialog.operator_id.user_id).message_post(
            body="Hi! How can I help?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        last = dialog.message_ids.sorted("id")[-1]
        self.assertEqual(
            (last.body, last.author_kind, bool(last.outbound_id)), ("Hi! How can I help?", "operator", False)
        )
        self.assertEqual(self.session_texts(session).count("Hi! How can I help?"), 1)
        dialog = self.visitor_says(session, guest, "My order 42")
        self.assertEqual(dialog.message_ids.sorted("id")[-1].body, "My order 42")
        self.assertEqual(self.session_texts(session).count("My order 42"), 1, "not posted a second time")
        session._close_livechat_session()
        self.assertEqual(dialog.state, "closed", "the visitor left")
        self.assertEqual(dialog.close_reason, "customer")
        self.assertFalse(dialog.operator_id.active_dialog_count)

    def test_a_transferred_visitor_stays_in_their_session_with_the_child_dialog(self):
        session, guest = self.open_session("Visitor 8")
        dialog = self.visitor_says(session, guest, "Hello, I need help")
        first = dialog.operator_id
        target = self.operators - first
        child = dialog.with_user(first.user_id).action_transfer(target, note="Wants a refund")
        # seed 002: the dialog ends, its child carries on in the visitor's own session, still open
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "transfer"))
        self.assertEqual(
            (child.state, child.operator_id, child.discuss_channel_id), ("active", target, session)
        )
        self.assertTrue(session.livechat_active, "the visitor's chat goes on")
        self.assertEqual(session.chatbot_dialog_id, child)
        self.assertEqual(session.livechat_operator_id, target.user_id.partner_id)
        self.assertNotIn(first.user_id.partner_id, session.channel_member_ids.partner_id)
        self.assertEqual(self.visitor_says(session, guest, "Still here"), child)
        self.assertEqual(child.message_ids.filtered(lambda m: m.direction == "in").body, "Still here")
        session.with_user(target.user_id).message_post(
            body="I take it from here", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertIn("I take it from here", child.message_ids.mapped("body"))
        session._close_livechat_session()
        self.assertEqual((child.state, child.close_reason), ("closed", "customer"))

    def test_a_visitors_live_chat_rating_is_the_dialogs(self):
        session, guest = self.open_session("Visitor 9")
        dialog = self.visitor_says(session, guest, "Hello")
        session._close_livechat_session()
        # what Odoo's /im_livechat/feedback does when the visitor rates the session
        self.env["rating.rating"].sudo().create(
            {
                "res_model_id": self.env["ir.model"]._get_id("discuss.channel"),
                "res_id": session.id,
                "rating": 3,
                "feedback": "Slow answers",
                "consumed": True,
            }
        )
        self.assertEqual(
            (dialog.rating, dialog.rating_value, dialog.rating_comment), ("3", 3, "Slow answers")
        )

    def test_one_load_count_for_both_channels(self):
        # max_parallel_chats is 1: two Telegram customers and a visitor share the two operators
        self.receive(1, chat=501, text="/start")
        session, guest = self.open_session()
        visitor = self.visitor_says(session, guest, "Hello")
        self.receive(2, chat=502, text="/start")
        telegram = self.dialog_of(501) | self.dialog_of(502)
        self.assertEqual(sorted((telegram | visitor).mapped("state")), ["active", "active", "waiting"])
        self.assertEqual(self.operators.mapped("active_dialog_count"), [1, 1])
        self.assertEqual((telegram | visitor).filtered(lambda d: d.state == "waiting"), self.dialog_of(502))
        visitor.action_end()
        self.assertEqual(
            self.dialog_of(502).state, "active", "the visitor's operator takes the next customer"
        )

    def test_logged_in_visitor_is_their_own_contact(self):
        portal = self.env["res.users"].create(
            {
                "name": "Portal Petro",
                "login": "portal_petro",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        vals = self.livechat._get_livechat_discuss_channel_vals("Visitor", user_id=portal.id)
        session = self.env["discuss.channel"].create(vals)
        session.with_user(portal).sudo().message_post(
            body="I am logged in", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        row = self.env["chatbot.inbound"].search(
            [("channel_id", "=", self.web_channel.id)], order="id desc", limit=1
        )
        row._process_one()
        dialog = self.env["chatbot.dialog"].search([("channel_id", "=", self.web_channel.id)], limit=1)
        self.assertEqual(dialog.partner_id, portal.partner_id, "no second contact for a known customer")
        self.assertEqual(dialog.sender_id.partner_id, portal.partner_id)

    def test_a_message_to_a_visitor_who_left_fails_with_the_reason_and_blocks_nobody(self):
        session, guest = self.open_session()
        dialog = self.visitor_says(session, guest, "hi")
        session.livechat_active = False
        sent = dialog._chatbot_send("Still there?")
        self.assertEqual(
            (sent.outbound_id.state, sent.outbound_id.error, sent.mail_message_id.id),
            ("failed", "The visitor left the live chat.", False),
        )
        self.assertFalse(dialog.sender_id.is_blocked, "the visitor may come back in a new session")

    def test_bot_buttons_ride_on_the_message(self):
        session, guest = self.open_session()
        dialog = self.visitor_says(session, guest, "hi")
        dialog._chatbot_send(
            "Pick one", buttons=[[Button("Buy", data="a:1")], [Button("Site", url="https://e.com")]]
        )
        message = session.message_ids.sorted("id")[-1]
        self.assertEqual(message.author_id, self.bot.partner_id, "posted at once, by the bot")
        self.assertEqual(
            message.chatbot_buttons,
            [
                {"label": "Buy", "data": "a:1", "url": ""},
                {"label": "Site", "data": "", "url": "https://e.com"},
            ],
        )
        sent = dialog.message_ids.sorted("id")[-1]
        self.assertEqual(
            (sent.outbound_id.state, sent.outbound_id.provider_message_id, sent.mail_message_id),
            ("sent", str(message.id), message),
            "sent in the visitor's request, through the queue's own steps",
        )
