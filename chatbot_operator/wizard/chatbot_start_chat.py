from odoo import api, fields, models
from odoo.exceptions import UserError


class ChatbotStartChat(models.TransientModel):
    """*Message via bot* for a contact who wrote to several chats: the user picks where to write (seed 002,
    "initiate a chat")."""

    _name = "chatbot.start.chat"
    _description = "Message a contact via a bot"

    partner_id = fields.Many2one("res.partner", "Contact", required=True, readonly=True, ondelete="cascade")
    sender_ids = fields.Many2many("chatbot.sender", compute="_compute_sender_ids", string="Reachable in")
    sender_id = fields.Many2one(
        "chatbot.sender",
        "Write in",
        domain="[('id', 'in', sender_ids)]",
        help="The chats where the contact wrote to a bot and can be written to.",
    )

    @api.depends("partner_id")
    def _compute_sender_ids(self):
        for wizard in self:
            wizard.sender_ids = wizard.partner_id._chatbot_reachable_senders()

    def action_start(self):
        self.ensure_one()
        if not self.sender_id:
            raise UserError(self.env._("Choose where to write to %(name)s.", name=self.partner_id.name))
        return self.sender_id._chatbot_start_chat()
