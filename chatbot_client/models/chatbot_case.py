from odoo import api, fields, models


class ChatbotDialogCaseMixin(models.AbstractModel):
    """A lead or a ticket made from bot dialogs: its dialogs, a smart button to them."""

    _name = "chatbot.dialog.case.mixin"
    _description = "Made from bot dialogs"

    chatbot_dialog_count = fields.Integer("Bot dialogs", compute="_compute_chatbot_dialog_count")

    def _chatbot_dialog_field(self):
        raise NotImplementedError

    @api.depends_context("uid")
    def _compute_chatbot_dialog_count(self):
        field = self._chatbot_dialog_field()
        # sudo: the count of the record's dialogs, shown to whoever reads the record
        counts = dict(
            self.env["chatbot.dialog"].sudo()._read_group([(field, "in", self.ids)], [field], ["__count"])
        )
        for record in self:
            record.chatbot_dialog_count = counts.get(record, 0)

    def action_chatbot_dialogs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Bot dialogs"),
            "res_model": "chatbot.dialog",
            "view_mode": "list,form",
            "domain": [(self._chatbot_dialog_field(), "=", self.id)],
        }


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "chatbot.dialog.case.mixin"]

    def _chatbot_dialog_field(self):
        return "lead_id"


class ProjectTask(models.Model):
    _name = "project.task"
    _inherit = ["project.task", "chatbot.dialog.case.mixin"]

    def _chatbot_dialog_field(self):
        return "task_id"
