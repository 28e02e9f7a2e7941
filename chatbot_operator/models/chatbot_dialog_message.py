from odoo import fields, models


class ChatbotDialogMessage(models.Model):
    _inherit = "chatbot.dialog.message"

    mail_message_id = fields.Many2one(
        "mail.message", "In the conversation", readonly=True, index="btree_not_null", ondelete="set null"
    )
