from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.chatbot_base.tools.connector import Button

# Button data of the opt-out button a broadcast can carry: the same as the customer's /stop.
OPTOUT_DATA = "bc:stop"
# Telegram: callback_data 1-64 bytes; a button's label is kept short enough for a phone's screen.
LABEL_LIMIT = 64


class ChatbotBroadcastButton(models.Model):
    """An inline button under a broadcast's message (the seed's "Telegram button"): a link, or the opt-out;
    chatbot_client adds "start a step of the client flow"."""

    _name = "chatbot.broadcast.button"
    _description = "Broadcast button"
    _order = "sequence, id"

    broadcast_id = fields.Many2one("chatbot.broadcast", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    label = fields.Char(required=True, translate=True)
    button_type = fields.Selection(
        [("url", "Open a link"), ("optout", "Stop broadcasts")],
        "Action",
        required=True,
        default="url",
        help="Open a link: the customer's messenger opens the address. Stop broadcasts: the customer gets no "
        "more broadcasts from this bot (the same as the /stop command).",
    )
    url = fields.Char("Link")

    @api.constrains("label", "button_type", "url")
    def _check_button(self):
        for button in self:
            label = (button.label or "").strip()
            if not label:
                raise ValidationError(self.env._("A broadcast button needs a label."))
            if len(label) > LABEL_LIMIT:
                raise ValidationError(
                    self.env._(
                        "The button label %(label)s is longer than %(limit)s characters.",
                        label=label,
                        limit=LABEL_LIMIT,
                    )
                )
            if button.button_type == "url" and not (button.url or "").strip().startswith(
                ("https://", "http://", "tg://")
            ):
                raise ValidationError(
                    self.env._(
                        "The button %(label)s needs a link starting with https://, http:// or tg://.",
                        label=label,
                    )
                )

    def _chatbot_button(self):
        """The messenger button this line stands for."""
        self.ensure_one()
        if self.button_type == "url":
            return Button(self.label, url=self.url.strip())
        if self.button_type == "optout":
            return Button(self.label, data=OPTOUT_DATA)
        raise ValidationError(
            self.env._("The button %(label)s has no action the messenger can carry.", label=self.label)
        )
