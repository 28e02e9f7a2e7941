from odoo import models


class ChatbotChannel(models.Model):
    """Messages of approved messenger operators are not customer messages: they answer their dialog."""

    _inherit = "chatbot.channel"

    def _chatbot_process_event(self, event):
        if event.sender is not None and not event.is_group and event.kind not in ("blocked", "unblocked"):
            operator = self._chatbot_messenger_operator(event.sender.external_id)
            if operator:
                return operator._chatbot_on_operator_event(event)
        return super()._chatbot_process_event(event)

    def _chatbot_messenger_operator(self, external_id):
        """The active operator who writes from this messenger account to this channel (one indexed query)."""
        self.ensure_one()
        self.env.cr.execute(
            """SELECT o.id FROM chatbot_operator o JOIN chatbot_sender s ON s.id = o.sender_id
                WHERE s.channel_id = %s AND s.external_id = %s AND o.active LIMIT 1""",
            [self.id, str(external_id)],
        )
        row = self.env.cr.fetchone()
        return self.env["chatbot.operator"].browse(row[0] if row else [])
