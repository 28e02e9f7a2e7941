from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestAccess(OperatorCase):
    def test_settings_are_for_administrators(self):
        self.assertEqual(self.bot.with_user(self.bot_admin).text_completed, "Consultation completed")
        self.bot.with_user(self.bot_admin).write({"text_completed": "Bye!", "max_parallel_chats": 3})
        for user in (self.bot_manager, self.bot_user):
            with self.assertRaises(AccessError):
                self.bot.with_user(user).read(["text_completed"])
            with self.assertRaises(AccessError):
                self.bot.with_user(user).write({"max_parallel_chats": 9})

    def test_texts_are_translatable(self):
        self.env["res.lang"]._activate_lang("uk_UA")
        self.bot.with_context(lang="uk_UA").text_completed = "Консультацію завершено"
        self.assertEqual(self.bot.with_context(lang="en_US").text_completed, "Consultation completed")
        self.assertEqual(
            self.bot.with_context(lang="uk_UA")._chatbot_text("text_completed"), "Консультацію завершено"
        )

    def test_users_join_themselves_only_and_cannot_edit_operators(self):
        operator = self.operators[0].with_user(self.users[1])
        with self.assertRaises(AccessError):
            operator.write({"status": "inactive"})
        with self.assertRaises(AccessError):
            self.env["chatbot.operator"].with_user(self.users[1]).create(
                {"bot_id": self.bot.id, "user_id": self.users[0].id}
            )

    def test_users_see_dialogs_and_senders_but_answer_only_theirs(self):
        dialog = self.start(1001)
        other = (set(self.users) - {dialog.operator_id.user_id}).pop()
        self.assertTrue(self.env["chatbot.dialog"].with_user(other).search([("id", "=", dialog.id)]))
        self.assertTrue(
            self.env["chatbot.sender"].with_user(other).search([("id", "=", dialog.sender_id.id)])
        )
        with self.assertRaises(AccessError):
            dialog.with_user(other).action_transfer(self.operators.filtered(lambda o: o.user_id == other))
        child = dialog.with_user(dialog.operator_id.user_id).action_transfer(
            self.operators.filtered(lambda o: o.user_id == other)
        )
        self.assertEqual(child.operator_id.user_id, other)

    def test_routing_a_new_dialog_costs_the_same_whatever_the_number_of_dialogs(self):
        self.bot.max_parallel_chats = 1000
        self.start(1001)  # warm the caches: the first conversation creates its sequences
        senders = self.env["chatbot.sender"].create(
            [
                {"name": f"Customer {i}", "channel_id": self.channel.id, "external_id": f"x{i}"}
                for i in range(300)
            ]
        )
        counts = []
        for chat in (2001, 2002):
            self.receive(chat * 10, chat=chat, text="hi")
            dialog = self.dialog_of(chat)
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            dialog._chatbot_request_operator()
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
            if chat == 2002:
                break
            # before the second: 300 more dialogs, a third of them active
            self.env["chatbot.dialog"].create(
                [
                    {
                        "bot_id": self.bot.id,
                        "sender_id": senders[i].id,
                        "state": "closed" if i % 3 else "active",
                        "operator_id": self.operators[i % 3].id,
                    }
                    for i in range(300)
                ]
            )
            self.operators._chatbot_update_load()
        self.assertLessEqual(counts[1], counts[0], "300 more dialogs cost no query more")
        # pinned at what it costs now: the routing query, the load, the Discuss conversation with its two
        # members, the customer's message and the two greetings posted there and queued for Telegram; with
        # chatbot_livechat the conversation is a live chat session that pops up (its member states, the bus)
        livechat = self.env["ir.module.module"]._get("chatbot_livechat").state == "installed"
        self.assertLessEqual(counts[0], 115 if livechat else 88)
