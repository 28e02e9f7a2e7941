from odoo import fields, models

RECIPIENT_STATES = [
    ("pending", "To send"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("blocked", "Blocked"),
    ("optout", "Opted out"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("pending", "queued")


class ChatbotBroadcastRecipient(models.Model):
    """One person a broadcast goes to: created once per broadcast and sender (or contact, for an SMS to
    someone who never wrote to the bot) when the broadcast starts, then linked to the one message that
    reaches them. Its state follows that message."""

    _name = "chatbot.broadcast.recipient"
    _description = "Broadcast recipient"
    _order = "id"
    _rec_name = "partner_id"

    broadcast_id = fields.Many2one("chatbot.broadcast", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="broadcast_id.company_id", store=True)
    sender_id = fields.Many2one("chatbot.sender", index="btree_not_null", ondelete="set null", readonly=True)
    partner_id = fields.Many2one("res.partner", "Contact", ondelete="set null", readonly=True)
    via = fields.Selection(
        [("messenger", "Messenger"), ("sms", "SMS")], required=True, default="messenger", readonly=True
    )
    state = fields.Selection(RECIPIENT_STATES, required=True, default="pending", readonly=True)
    outbound_id = fields.Many2one(
        "chatbot.outbound", "Message", index="btree_not_null", ondelete="set null", readonly=True
    )
    sms_id = fields.Many2one(
        "sms.sms",
        "SMS",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        groups="base.group_system",  # as sms.sms itself
    )
    error = fields.Text("Reason", readonly=True)
    sent_date = fields.Datetime("Sent on", readonly=True)

    _sql_constraints = [
        (
            "sender_unique",
            "UNIQUE(broadcast_id, sender_id)",
            "A broadcast goes to a sender once.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS chatbot_broadcast_recipient_state_idx "
            "ON chatbot_broadcast_recipient (broadcast_id, state, id)"
        )
        # a contact who never wrote to the bot (no sender) gets the SMS once per broadcast
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS chatbot_broadcast_recipient_partner_unique "
            "ON chatbot_broadcast_recipient (broadcast_id, partner_id) WHERE sender_id IS NULL"
        )
