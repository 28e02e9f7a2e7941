from odoo import fields, models


class ChatbotDialogMessage(models.Model):
    """One message of a dialog, in either direction. (Not `chatbot.message`: im_livechat owns that name.)"""

    _name = "chatbot.dialog.message"
    _description = "Dialog message"
    _order = "dialog_id, id"

    dialog_id = fields.Many2one("chatbot.dialog", required=True, ondelete="cascade", index=True)
    bot_id = fields.Many2one(related="dialog_id.bot_id", store=True, index=True)
    company_id = fields.Many2one(related="dialog_id.company_id", store=True)
    direction = fields.Selection([("in", "From the customer"), ("out", "To the customer")], required=True)
    author_kind = fields.Selection(
        [("customer", "Customer"), ("bot", "Bot"), ("operator", "Operator"), ("system", "System")],
        required=True,
    )
    author_user_id = fields.Many2one("res.users", "Operator user")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    body = fields.Text()
    button_data = fields.Char("Button pressed")
    attachment_ids = fields.Many2many("ir.attachment", string="Files")
    external_id = fields.Char("Messenger message id", index="btree_not_null")
    is_edited = fields.Boolean("Edited")
    outbound_id = fields.Many2one("chatbot.outbound", "Delivery", ondelete="set null", index="btree_not_null")
    delivery_state = fields.Selection(related="outbound_id.state", string="Delivery state")
    delivery_error = fields.Text(related="outbound_id.error", string="Delivery error")
