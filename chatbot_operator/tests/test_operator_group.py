from odoo.tests import tagged

from odoo.addons.chatbot_telegram.tests.common import TOKEN, TelegramCase, with_update_id
from odoo.addons.chatbot_telegram.tests.fake_telegram import default_user

GROUP = -1003000000001
FORUM = -1003000000002


@tagged("chatbot", "post_install", "-at_install")
class TestOperatorsGroup(TelegramCase):
    """Seed §1.1: operators who are not Odoo users sit in a Telegram group added to the bot; every customer
    message goes there, and their answers there go to the customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bot.write({"bot_type": "operator", "wait_start_message": True})
        cls.fake.add_chat(GROUP, type="supergroup", title="Support")
        cls.fake.add_chat(FORUM, type="supergroup", title="Support (forum)", is_forum=True)

    def setUp(self):
        super().setUp()
        self.connect()

    def receive(self, update):
        self.channel._chatbot_store_inbound(with_update_id(update))
        self.process_inbound()
        self.send_outbound()
        return update

    def test_customer_messages_go_to_the_group_and_answers_come_back(self):
        self.channel.telegram_group_chat_id = str(GROUP)
        self.receive(self.fake.make_message_update(9301, "Is the blue kettle in stock?"))
        self.receive(self.fake.make_message_update(9301, "/start"))
        dialog = self.dialog_of(9301)
        self.assertEqual((dialog.state, dialog.served_by_group), ("active", True))
        relayed = [m["text"] for m in self.fake.sent_messages(chat_id=GROUP, token=TOKEN)]
        self.assertTrue(any("Is the blue kettle in stock?" in t for t in relayed), relayed)
        self.receive(self.fake.make_message_update(9301, "The 1.7 litre one"))
        relayed = self.fake.sent_messages(chat_id=GROUP, token=TOKEN)
        self.assertIn("The 1.7 litre one", relayed[-1]["text"])
        # an operator replies to the relayed message in the group: the customer gets the answer
        self.receive(
            self.fake.make_message_update(
                GROUP,
                "Yes, 4 left",
                user=default_user(7101, first_name="Olena"),
                reply_to_message=relayed[-1],
            )
        )
        texts = [m["text"] for m in self.fake.sent_messages(chat_id=9301, token=TOKEN)]
        self.assertEqual(texts[-1], "Yes, 4 left")
        self.assertIn("If you would like to end your consultation Press: /end", texts)
        self.assertFalse(dialog.operator_id, "the group serves it, not one operator")

    def test_forum_group_gets_a_topic_per_dialog_closed_with_it(self):
        self.channel.telegram_group_chat_id = str(FORUM)
        self.channel.action_telegram_check_group()
        self.receive(self.fake.make_message_update(9302, "/start"))
        dialog = self.dialog_of(9302)
        self.assertTrue(dialog.telegram_topic_id)
        self.receive(self.fake.make_message_update(9302, "/end"))
        self.assertEqual(dialog.state, "closed")
        self.assertEqual(
            [m["text"] for m in self.fake.sent_messages(chat_id=9302, token=TOKEN)][-1],
            "Consultation completed",
        )
