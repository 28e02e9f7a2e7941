from odoo import api, fields, models


class ChatbotOperator(models.Model):
    """A person who answers customers for a bot: an Odoo user, or a messenger user (a sender) approved by
    an administrator. chatbot_operator adds statuses, moderation and routing."""

    _name = "chatbot.operator"
    _description = "Bot operator"
    _order = "bot_id, id"

    bot_id = fields.Many2one("chatbot.bot", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="bot_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    user_id = fields.Many2one("res.users", ondelete="cascade", index="btree_not_null")
    sender_id = fields.Many2one(
        "chatbot.sender", "Messenger account", ondelete="cascade", index="btree_not_null"
    )
    name = fields.Char(compute="_compute_name", store=True)
    messenger = fields.Char(compute="_compute_name", store=True, help="Where the operator answers from.")

    _sql_constraints = [
        (
            "one_identity",
            "CHECK((user_id IS NULL) != (sender_id IS NULL))",
            "An operator is either an Odoo user or a messenger account.",
        ),
        ("user_unique", "UNIQUE(bot_id, user_id)", "This user already is an operator of this bot."),
        ("sender_unique", "UNIQUE(bot_id, sender_id)", "This person already is an operator of this bot."),
    ]

    @api.depends("user_id.name", "sender_id.name", "sender_id.provider")
    def _compute_name(self):
        for operator in self:
            if operator.user_id:
                operator.name = operator.user_id.name
                operator.messenger = "Odoo"
            else:
                operator.name = operator.sender_id.name
                operator.messenger = operator.sender_id.channel_id.display_name or operator.sender_id.provider
