from odoo import fields, models


class ChatbotOperator(models.Model):
    """With the live chat, an Odoo operator gets dialogs only while online in the web client (Odoo's
    presence): an Active operator who is not logged in gets none, and their state says so."""

    _inherit = "chatbot.operator"

    availability = fields.Selection(selection_add=[("offline", "Active, offline: gets no dialogs")])

    def _compute_availability(self):
        super()._compute_availability()
        waiting = self.filtered(lambda o: o.availability == "available" and o.user_id)
        if not waiting:
            return
        # sudo: whether the operators are online (Odoo's presence), one query for all of them
        online = (
            self.env["bus.presence"]
            .sudo()
            .search([("user_id", "in", waiting.user_id.ids), ("status", "=", "online")])
            .user_id
        )
        for operator in waiting.filtered(lambda o: o.user_id not in online):
            operator.availability = "offline"
