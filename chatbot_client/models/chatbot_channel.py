from odoo import api, models

from ..tools.connector import BROWSER, BrowserConnector


class ChatbotChannel(models.Model):
    _inherit = "chatbot.channel"

    @api.model
    def _chatbot_connector_classes(self):
        return {**super()._chatbot_connector_classes(), BROWSER: BrowserConnector}
