from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from odoo.addons.chatbot_base.tools.connector import Button
from odoo.addons.chatbot_base.tools.i18n import unless_edited

_lt = LazyTranslate(__name__)

# Button data of the opt-out button a broadcast can carry: the same as the customer's /stop.
OPTOUT_DATA = "bc:stop"
# The opt-out button's label until someone writes another; each customer reads it in their language.
OPTOUT_LABEL = _lt("Unsubscribe")
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

    @api.onchange("button_type")
    def _onchange_button_type(self):
        if self.button_type == "optout" and not self.label:
            self.label = self.env._(OPTOUT_LABEL)

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
            return Button(unless_edited(self.env, OPTOUT_LABEL, self.label), data=OPTOUT_DATA)
        raise ValidationError(
            self.env._("The button %(label)s has no action the messenger can carry.", label=self.label)
        )
