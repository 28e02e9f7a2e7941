from odoo import models


class ChatbotChannel(models.Model):
    """Messages of approved messenger operators are not customer messages: they answer their dialog."""

    _inherit = "chatbot.channel"

    def _chatbot_process_sender_event(self, sender, event):
        if sender.is_operator:
            operator = sender.operator_ids.filtered(
                lambda o: o.active and o.bot_id == sender._chatbot_operator_bot()
            )
            if operator:
                return operator[:1]._chatbot_on_operator_event(event)
        # a rating of an ended consultation, or its comment, belongs to that dialog, not to a new one
        if self.env["chatbot.dialog"]._chatbot_rating_event(sender, event):
            return self.env["chatbot.dialog"]
        return super()._chatbot_process_sender_event(sender, event)
