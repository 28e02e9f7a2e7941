from odoo.tests import HttpCase, tagged

from .common import role_users


@tagged("chatbot", "post_install", "-at_install")
class TestUi(HttpCase):
    """The Bots kanban and what each role may open, in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.ua")
        cls.admin, cls.manager, cls.user = role_users(cls.env, "tour")
        # a client bot: other addons give operator bots channels of their own (their live chat)
        bot = cls.env["chatbot.bot"].create({"name": "Tour bot", "bot_type": "client", "sequence": 0})
        provider = cls.env["chatbot.channel"]._selection_provider()[0][0]
        channel = cls.env["chatbot.channel"].create(
            {"name": "Tour channel", "bot_id": bot.id, "provider": provider}
        )
        sender = cls.env["chatbot.sender"].create(
            {"name": "Tour customer", "channel_id": channel.id, "external_id": "777"}
        )
        cls.env["chatbot.dialog"].create({"bot_id": bot.id, "sender_id": sender.id})
        cls.env["chatbot.operator"].create({"bot_id": bot.id, "user_id": cls.manager.id})

    def test_admin_opens_the_bot_with_its_settings(self):
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action", "chatbot_base_admin_tour", login="tour_admin"
        )

    def test_manager_opens_the_bot_without_settings(self):
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action", "chatbot_base_manager_tour", login="tour_manager"
        )

    def test_user_gets_the_dialogs_not_the_bot(self):
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action", "chatbot_base_user_tour", login="tour_user"
        )
