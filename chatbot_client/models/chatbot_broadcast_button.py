from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.chatbot_base.tools.connector import Button

from .chatbot_dialog import START_PREFIX


class ChatbotBroadcastButton(models.Model):
    """A broadcast button can start a step of the client bot's flow when the customer presses it."""

    _inherit = "chatbot.broadcast.button"

    button_type = fields.Selection(selection_add=[("step", "Start a step")], ondelete={"step": "cascade"})
    bot_id = fields.Many2one(related="broadcast_id.bot_id")
    step_id = fields.Many2one(
        "chatbot.step",
        ondelete="cascade",
        domain="[('bot_id', '=', bot_id), ('is_entry_point', '=', True)]",
        help="The step of the client flow the customer gets to when they press the button (only the steps "
        'marked "Can start a flow").',
    )

    @api.constrains("button_type", "step_id")
    def _check_step(self):
        for button in self.filtered(lambda b: b.button_type == "step"):
            step = button.step_id
            if not step:
                raise ValidationError(
                    self.env._("The button %(label)s needs the step it starts.", label=button.label)
                )
            if step.bot_id != button.broadcast_id.bot_id or not step.is_entry_point:
                raise ValidationError(
                    self.env._(
                        'The button %(label)s starts a step of %(bot)s marked "Can start a flow".',
                        label=button.label,
                        bot=button.broadcast_id.bot_id.name,
                    )
                )

    def _chatbot_button(self):
        if self.button_type == "step":
            self.ensure_one()
            return Button(self.label, data=f"{START_PREFIX}{self.step_id.id}")
        return super()._chatbot_button()
