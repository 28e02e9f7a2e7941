from odoo.tests import new_test_user

from odoo.addons.chatbot_base.tests.common import ChatbotCase, set_online


class OperatorCase(ChatbotCase):
    """A consultation bot with a fake messenger channel and three Odoo operators."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bot.write({"bot_type": "operator", "max_parallel_chats": 2, "wait_start_message": True})
        cls.users = [
            new_test_user(
                cls.env,
                f"op{i}",
                name=f"Operator {i}",
                groups="base.group_user,chatbot_base.chatbot_base_group_user",
            )
            for i in range(1, 4)
        ]
        set_online(cls.env["res.users"].concat(*cls.users))
        cls.operators = cls.env["chatbot.operator"]
        for user in cls.users:
            cls.bot.with_user(user).action_join()
        cls.operators = cls.env["chatbot.operator"].search([("bot_id", "=", cls.bot.id)], order="id")

    def start(self, chat, update_id=None, text="/start"):
        """A customer presses Start; returns their dialog."""
        self.receive(update_id or chat * 100, chat=chat, text=text)
        return self.dialog_of(chat)

    def say(self, chat, text, update_id):
        self.receive(update_id, chat=chat, text=text)
        return self.dialog_of(chat)

    def texts_to(self, dialog):
        """What the bot queued for the dialog's customer, oldest first, through its transfers."""
        return (
            dialog._chatbot_current()
            ._chatbot_history()
            .filtered(lambda m: m.direction == "out")
            .mapped("body")
        )

    def send_all(self):
        self.Outbound._send_channel(self.channel, time_budget=5)
        return [m.text for m in self.fake.sent]
