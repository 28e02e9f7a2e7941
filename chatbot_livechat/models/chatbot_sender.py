from odoo import models


class ChatbotSender(models.Model):
    """A logged-in website visitor is their own contact: the live chat's sender is linked to it."""

    _inherit = "chatbot.sender"

    def _chatbot_ensure_partner(self, photo=None):
        if not self.partner_id and self.provider == "livechat" and self.external_id.startswith("partner-"):
            # sudo: the partner of the logged-in visitor who wrote
            partner = self.env["res.partner"].sudo().browse(int(self.external_id.split("-", 1)[1])).exists()
            if partner:
                self.partner_id = partner
                return partner
        return super()._chatbot_ensure_partner(photo=photo)
