from odoo import api, fields, models


class ResUsers(models.Model):
    """An operator's status follows their sessions (seed 002): Inactive at the first login, Inactive after
    the last logout and restored at the next login."""

    _inherit = "res.users"

    @api.model
    def _update_last_login(self):
        """Called at each successful login, in the user's environment."""
        # sudo: the user's own login log (kept, one row at least, by Odoo's garbage collection)
        first = not self.env.user.sudo().log_ids
        result = super()._update_last_login()
        # sudo: only the user's own operator records change
        self.env["chatbot.operator"].sudo()._chatbot_on_login(self.env.user, first=first)
        return result

    chatbot_restricted_bot_ids = fields.Many2many(
        "chatbot.bot",
        compute="_compute_chatbot_restrictions",
        help="Bots where this user is an operator who serves only their own clients (read by record rules).",
    )
    chatbot_restricted_salesperson_ids = fields.Many2many(
        "res.users",
        compute="_compute_chatbot_restrictions",
        help="The salespersons whose clients this user serves in those bots.",
    )

    def _compute_chatbot_restrictions(self):
        # sudo: a user's own operator settings, read to build their record rules
        operators = (
            self.env["chatbot.operator"]
            .sudo()
            .search([("user_id", "in", self.ids), ("only_my_clients", "=", True)])
        )
        for user in self:
            mine = operators.filtered(lambda o, user=user: o.user_id == user)
            user.chatbot_restricted_bot_ids = mine.bot_id
            user.chatbot_restricted_salesperson_ids = mine.salesperson_id
