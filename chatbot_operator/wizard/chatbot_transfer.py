from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.chatbot_base.tools.actions import notification


class ChatbotTransfer(models.TransientModel):
    """Transfer a dialog (seed 002): to an operator of this or another consultation bot, chosen from the list
    of every operator with their state, or to a queue (another consultation bot: another department), with a
    note for whoever takes it."""

    _name = "chatbot.transfer"
    _description = "Transfer a dialog"

    dialog_id = fields.Many2one("chatbot.dialog", required=True, readonly=True, ondelete="cascade")
    target = fields.Selection(
        [("operator", "An operator"), ("queue", "A queue")], "Transfer to", default="operator", required=True
    )
    candidate_ids = fields.Many2many(
        "chatbot.operator", string="Operators", compute="_compute_candidate_ids", readonly=True
    )
    choosable_ids = fields.Many2many("chatbot.operator", compute="_compute_candidate_ids", readonly=True)
    operator_id = fields.Many2one(
        "chatbot.operator",
        domain="[('id', 'in', choosable_ids)]",
        help="An Active or an Inactive operator; not one whose chat limit is reached.",
    )
    operator_bot_id = fields.Many2one(
        "chatbot.bot",
        "Queue",
        domain="[('bot_type', '=', 'operator')]",
        help="The consultation bot whose queue gets the dialog.",
    )
    note = fields.Text("Note for the receiver")

    @api.depends("dialog_id")
    def _compute_candidate_ids(self):
        for wizard in self:
            # sudo: a User sees the operators of every consultation bot of their companies to choose one
            dialog = wizard.dialog_id.sudo()
            wizard.candidate_ids = (
                self.env["chatbot.operator"]
                .sudo()
                .search(
                    [
                        ("bot_id.bot_type", "=", "operator"),
                        ("bot_id.company_id", "in", [dialog.company_id.id, False]),
                        ("id", "!=", dialog.operator_id.id),
                    ],
                    order="bot_id, status, active_dialog_count, id",
                )
            )
            wizard.choosable_ids = wizard.candidate_ids.filtered(lambda o: o.availability != "full")

    def action_transfer(self):
        self.ensure_one()
        if self.target == "operator":
            if not self.operator_id:
                raise UserError(self.env._("Choose the operator who takes the dialog."))
            self.dialog_id.action_transfer(self.operator_id, note=self.note)
            whom = self.operator_id.name
        else:
            if not self.operator_bot_id:
                raise UserError(self.env._("Choose the queue (the consultation bot) that gets the dialog."))
            self.dialog_id.action_transfer_to_queue(self.operator_bot_id, note=self.note)
            whom = self.operator_bot_id.name
        return notification(
            self.env._("Dialog %(code)s handed to %(whom)s.", code=self.dialog_id.code, whom=whom), close=True
        )
