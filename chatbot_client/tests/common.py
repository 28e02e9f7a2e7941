from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.chatbot_base.tests.common import ChatbotCase, set_online


class ClientCase(ChatbotCase):
    """A client bot (the fake messenger's channel) handing over to an operator bot with two Odoo operators,
    and helpers to build flows and to play the customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator_bot = cls.env["chatbot.bot"].create(
            {"name": "Consultations", "bot_type": "operator", "max_parallel_chats": 2}
        )
        cls.bot.write(
            {"name": "Kyiv shop", "operator_bot_id": cls.operator_bot.id, "wait_start_message": True}
        )
        cls.salesperson = new_test_user(
            cls.env, "seller", name="Sofia Seller", groups="base.group_user,sales_team.group_sale_salesman"
        )
        cls.users = [
            new_test_user(
                cls.env,
                f"client_op{i}",
                name=f"Operator {i}",
                groups="base.group_user,chatbot_base.chatbot_base_group_user",
            )
            for i in (1, 2)
        ]
        set_online(cls.env["res.users"].concat(*cls.users))
        for user in cls.users:
            cls.operator_bot.with_user(user).action_join()
        cls.operators = cls.env["chatbot.operator"].search([("bot_id", "=", cls.operator_bot.id)], order="id")
        cls.team = cls.env["crm.team"].create({"name": "Telegram sales"})
        cls.source = cls.env["utm.source"].create({"name": "Telegram bot"})

    def flow(self, *steps):
        """Create steps in order from dicts; an "answers" key lists (label, next step index or None).
        "next" is a step index. Returns the steps."""
        created = []
        for index, values in enumerate(steps):
            values = dict(values)
            values.pop("answers", None)
            values.pop("next", None)
            created.append(
                self.env["chatbot.step"].create(
                    {"bot_id": self.bot.id, "sequence": (index + 1) * 10, **values}
                )
            )
        for step, values in zip(created, steps, strict=True):
            if "next" in values:
                step.next_step_id = created[values["next"]]
            if "answers" in values:
                step.answer_ids = [
                    Command.create(
                        {
                            "name": label,
                            "sequence": n,
                            "next_step_id": created[target].id if target is not None else False,
                        }
                    )
                    for n, (label, target) in enumerate(values["answers"])
                ]
        return self.env["chatbot.step"].concat(*created)

    def say(self, text="", chat=1001, **values):
        self._update = getattr(self, "_update", 0) + 1
        self.receive(self._update, chat=chat, text=text, **values)
        return self.dialog_of(chat)

    def press(self, answer, chat=1001):
        return self.say(chat=chat, kind="button", button=f"a:{answer.id}")

    def bot_texts(self, dialog):
        return dialog.message_ids.filtered(lambda m: m.direction == "out").sorted("id").mapped("body")

    def last_out(self, dialog):
        message = dialog.message_ids.filtered(lambda m: m.direction == "out").sorted("id")[-1:]
        return message.outbound_id.payload
