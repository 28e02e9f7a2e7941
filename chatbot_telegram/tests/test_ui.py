from odoo.tests import HttpCase, new_test_user, tagged


@tagged("chatbot", "post_install", "-at_install")
class TestChannelFormRights(HttpCase):
    """Where a Telegram bot's token and updates go, in the channel form as each role sees it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env, "tg_tour_bots_admin", groups="base.group_user,chatbot_base.chatbot_base_group_admin"
        )
        new_test_user(
            cls.env,
            "tg_tour_sysadmin",
            groups="base.group_user,base.group_system,chatbot_base.chatbot_base_group_admin",
        )
        bot = cls.env["chatbot.bot"].create({"name": "Tour Telegram bot", "bot_type": "client"})
        cls.channel = cls.env["chatbot.channel"].create(
            {
                "name": "Tour Telegram channel",
                "bot_id": bot.id,
                "provider": "telegram",
                "telegram_token": "123:tour-token",
                "telegram_api_url": "https://bots-api.example.org",
                "telegram_public_url": "https://erp.example.org",
            }
        )

    def url(self):
        return f"/odoo/action-chatbot_base.chatbot_channel_action/{self.channel.id}"

    def test_a_bots_administrator_sees_the_addresses_read_only(self):
        self.start_tour(self.url(), "chatbot_telegram_bots_admin_channel_tour", login="tg_tour_bots_admin")
        self.assertEqual(self.channel.telegram_api_url, "https://bots-api.example.org")

    def test_a_system_administrator_changes_them(self):
        self.start_tour(self.url(), "chatbot_telegram_sysadmin_channel_tour", login="tg_tour_sysadmin")
        self.assertEqual(self.channel.telegram_api_url, "https://self-hosted.example.org")
