from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestBroadcastStepButton(ClientCase):
    def test_a_broadcast_button_starts_a_step_of_the_flow(self):
        steps = self.flow(
            {"step_type": "message", "text": "Welcome!"},
            {
                "step_type": "input",
                "text": "Your phone number?",
                "input_type": "phone",
                "is_entry_point": True,
            },
            {"step_type": "end", "text": "Bye!"},
        )
        self.say("/start", chat=1001)
        broadcast = (
            self.env["chatbot.broadcast"]
            .with_user(self.bot_manager)
            .create(
                {
                    "name": "Call back",
                    "bot_id": self.bot.id,
                    "body": "Want a call back?",
                    "button_ids": [(0, 0, {"label": "Yes", "button_type": "step", "step_id": steps[1].id})],
                }
            )
        )
        broadcast.action_send()
        self.env["chatbot.broadcast"]._cron_send(time_budget=5)
        self.Outbound._send_channel(self.channel, time_budget=5)
        message = next(m for m in self.fake.sent if m.text == "Want a call back?")
        button = message.buttons[0][0]
        self.assertEqual((button.label, button.data), ("Yes", f"st:{steps[1].id}"))
        dialog = self.say(chat=1001, kind="button", button=button.data)
        self.assertEqual(dialog.step_id, steps[1], "pressing it starts the flow at that step")
        self.assertEqual(self.bot_texts(dialog)[-1], "Your phone number?")

    def test_only_entry_steps_of_the_bot_can_be_started(self):
        steps = self.flow({"step_type": "message", "text": "Hi"}, {"step_type": "end"})
        values = {"name": "x", "bot_id": self.bot.id, "body": "x"}
        Broadcast = self.env["chatbot.broadcast"].with_user(self.bot_manager)
        with self.assertRaisesRegex(ValidationError, "Can start a flow"):
            Broadcast.create(
                {
                    **values,
                    "button_ids": [(0, 0, {"label": "Go", "button_type": "step", "step_id": steps[0].id})],
                }
            )
        with self.assertRaisesRegex(ValidationError, "needs the step"):
            Broadcast.create({**values, "button_ids": [(0, 0, {"label": "Go", "button_type": "step"})]})
