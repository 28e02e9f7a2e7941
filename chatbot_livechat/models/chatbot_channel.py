from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.connector import LIVECHAT, LivechatConnector


class ChatbotChannel(models.Model):
    """A bot's "Odoo live-chat" channel: the website visitors of one live chat channel talk to the bot."""

    _inherit = "chatbot.channel"

    livechat_channel_id = fields.Many2one(
        "im_livechat.channel",
        "Live chat",
        ondelete="cascade",
        index="btree_not_null",
        help="The website live chat whose visitors talk to this bot.",
    )

    _sql_constraints = [
        (
            "livechat_channel_unique",
            "UNIQUE(livechat_channel_id)",
            "A website live chat talks to one bot only.",
        )
    ]

    @api.model
    def _chatbot_connector_classes(self):
        return {**super()._chatbot_connector_classes(), LIVECHAT: LivechatConnector}

    @api.constrains("provider", "livechat_channel_id")
    def _check_livechat_channel(self):
        for channel in self.filtered(lambda c: c.provider == LIVECHAT and not c.livechat_channel_id):
            raise ValidationError(
                self.env._("Choose the website live chat of the channel %(name)s.", name=channel.name)
            )
