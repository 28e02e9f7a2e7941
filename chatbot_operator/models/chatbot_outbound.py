from odoo import fields, models

# what a broadcast recipient becomes when its message's row reaches a state ('sending' changes nothing)
STATE_OF_RECIPIENT = {"queued": "queued", "sent": "sent", "failed": "failed", "cancelled": "cancelled"}


class ChatbotOutbound(models.Model):
    """Broadcast messages in the outbound queue: each row knows its recipient, whose state follows the
    row's; the queue takes the next recipients of a broadcast when it runs low."""

    _inherit = "chatbot.outbound"

    broadcast_recipient_id = fields.Many2one(
        "chatbot.broadcast.recipient",
        "Broadcast recipient",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals and vals["state"] in STATE_OF_RECIPIENT:
            linked = self.filtered("broadcast_recipient_id")
            if linked:
                linked._chatbot_update_recipients()
        return result

    def _chatbot_update_recipients(self):
        now = fields.Datetime.now()
        recipients = self.broadcast_recipient_id
        for row in self:
            state = STATE_OF_RECIPIENT[row.state]
            values = {"state": state}
            if state == "failed":
                values.update(state="blocked" if row.recipient_blocked else "failed", error=row.error)
            elif state == "sent":
                values.update(sent_date=now, error=False)
            # sudo: the recipient follows its message, whoever changed the message (the queue, a manager)
            row.broadcast_recipient_id.sudo().write(values)
        if any(row.state in ("sent", "failed", "cancelled") for row in self):
            recipients.sudo().broadcast_id.filtered(lambda b: b.state == "sending")._chatbot_finish()

    def _chatbot_refill(self, channel, limit):
        return super()._chatbot_refill(channel, limit) + self.env["chatbot.broadcast"]._chatbot_feed(
            channel, limit
        )
