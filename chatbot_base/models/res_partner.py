from odoo import fields, models


class ResPartner(models.Model):
    """A customer's history with the bots (Creatio's timeline): their messenger accounts and every dialog,
    across bots and channels, from the contact."""

    _inherit = "res.partner"

    chatbot_sender_ids = fields.One2many(
        "chatbot.sender",
        "partner_id",
        "Messenger accounts",
        groups="chatbot_base.chatbot_base_group_user",
        help="Where this contact wrote to the company's bots.",
    )
    chatbot_dialog_count = fields.Integer(
        "Bot dialogs", compute="_compute_chatbot_dialog_count", groups="chatbot_base.chatbot_base_group_user"
    )

    def _compute_chatbot_dialog_count(self):
        # the contact's dialogs and those of its people (a company's employees who wrote)
        Dialog = self.env["chatbot.dialog"]
        for partner in self:
            partner.chatbot_dialog_count = (
                Dialog.search_count([("partner_id", "child_of", partner.id)]) if partner.id else 0
            )

    def action_chatbot_dialogs(self):
        """Every dialog of the contact (and of its people), closed ones included, newest first: each opens
        with its transcript."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("chatbot_base.chatbot_dialog_action")
        action.update(
            name=self.env._("Dialogs of %(name)s", name=self.display_name),
            domain=[("partner_id", "child_of", self.id)],
            context={"default_partner_id": self.id},
        )
        return action
