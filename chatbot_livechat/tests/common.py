from odoo.tests import new_test_user

from odoo.addons.chatbot_base.tests.common import ChatbotCase, set_online


class LivechatCase(ChatbotCase):
    """An operator bot with two Odoo operators, its website live chat, and the fake messenger's channel
    attached to the same bot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bot.write({"name": "Consultations", "bot_type": "operator", "max_parallel_chats": 1})
        cls.users = cls.env["res.users"].concat(
            *(
                new_test_user(
                    cls.env,
                    f"live_op{i}",
                    name=f"Live Operator {i}",
                    groups="base.group_user,chatbot_base.chatbot_base_group_user",
                )
                for i in (1, 2)
            )
        )
        set_online(cls.users)
        for user in cls.users:
            cls.bot.with_user(user).action_join()
        cls.operators = cls.env["chatbot.operator"].search([("bot_id", "=", cls.bot.id)], order="id")
        cls.livechat = cls.bot.livechat_channel_id
        cls.web_channel = cls.env["chatbot.channel"].search([("livechat_channel_id", "=", cls.livechat.id)])

    def open_session(self, name="Visitor 7"):
        """A website visitor opens the live chat (what /im_livechat/get_session does) and is a guest."""
        vals = self.livechat._get_livechat_discuss_channel_vals(name)
        session = self.env["discuss.channel"].create(vals)
        guest = self.env["mail.guest"].create({"name": name})
        session._add_members(guests=guest, post_joined_message=False)
        return session, guest

    def visitor_says(self, session, guest, text):
        """The guest posts in their session; the bot's queue processes it."""
        public = self.env.ref("base.public_user")
        session.with_user(public).sudo().with_context(guest=guest).message_post(
            body=text, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        pending = self.env["chatbot.inbound"].search(
            [("channel_id", "=", self.web_channel.id), ("state", "=", "pending")], order="id"
        )
        for row in pending:
            row._process_one()
        return self.env["chatbot.dialog"].search(
            [("channel_id", "=", self.web_channel.id), ("sender_id.chat_id", "=", str(session.id))], limit=1
        )

    def send_web(self):
        self.Outbound._send_channel(self.web_channel, time_budget=5)

    def session_texts(self, session):
        return [
            m.body.striptags() if hasattr(m.body, "striptags") else m.body
            for m in session.message_ids.sorted("id")
            if m.message_type == "comment"
        ]
