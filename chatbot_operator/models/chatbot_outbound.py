from odoo import fields, models

# the states of a row that its broadcast recipient follows ('sending' changes nothing for them)
RECIPIENT_FOLLOWS = {"queued", "sent", "failed", "cancelled"}
TOTALS = [
    "total_count",
    "queued_count",
    "sent_count",
    "failed_count",
    "blocked_count",
    "optout_count",
    "cancelled_count",
    "progress",
]


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
        if vals.get("state") in RECIPIENT_FOLLOWS:
            linked = self.filtered("broadcast_recipient_id")
            if linked:
                linked._chatbot_update_recipients()
        return result

    def _chatbot_update_recipients(self):
        """The recipients of these rows take their state (a refused message: "blocked" when the recipient
        blocked the bot, else "failed" with the reason); a broadcast with nobody left to reach is done.
        One statement, on the queue's hot path (one per round of messages sent)."""
        self.flush_recordset(["state", "error", "recipient_blocked"])
        self.env["chatbot.broadcast.recipient"].flush_model()
        self.env["chatbot.broadcast"].flush_model(["state"])
        self.env.cr.execute(
            """
            WITH updated AS (
                UPDATE chatbot_broadcast_recipient r
                   SET state = CASE o.state WHEN 'failed' THEN
                                   CASE WHEN o.recipient_blocked THEN 'blocked' ELSE 'failed' END
                                   WHEN 'sending' THEN 'queued' ELSE o.state END,
                       error = CASE WHEN o.state = 'failed' THEN o.error END,
                       sent_date = CASE WHEN o.state = 'sent' THEN %(now)s ELSE r.sent_date END,
                       write_date = %(now)s
                  FROM chatbot_outbound o
                 WHERE o.id = ANY(%(ids)s) AND r.id = o.broadcast_recipient_id
             RETURNING r.id, r.broadcast_id, r.state
            )
            SELECT b.id FROM chatbot_broadcast b
             WHERE b.id IN (SELECT broadcast_id FROM updated) AND b.state = 'sending'
               AND NOT EXISTS (SELECT 1 FROM updated u WHERE u.broadcast_id = b.id AND u.state = 'queued')
               AND NOT EXISTS (SELECT 1 FROM chatbot_broadcast_recipient r
                                WHERE r.broadcast_id = b.id AND r.state IN ('pending', 'queued')
                                  AND r.id NOT IN (SELECT id FROM updated))
            """,
            {"ids": self.ids, "now": fields.Datetime.now()},
        )
        finished = [row[0] for row in self.env.cr.fetchall()]
        self.env["chatbot.broadcast.recipient"].invalidate_model(
            ["state", "error", "sent_date", "write_date"]
        )
        self.env["chatbot.broadcast"].invalidate_model(TOTALS)
        if finished:
            # sudo: the broadcast ends with its last message, whoever changed that message
            self.env["chatbot.broadcast"].sudo().browse(finished).write(
                {"state": "done", "end_date": fields.Datetime.now()}
            )

    def _chatbot_refill(self, channel, limit):
        return super()._chatbot_refill(channel, limit) + self.env["chatbot.broadcast"]._chatbot_feed(
            channel, limit
        )
