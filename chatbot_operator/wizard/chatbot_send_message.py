from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.chatbot_base.tools.actions import notification


class ChatbotSendMessage(models.TransientModel):
    """ "Send message" on a sender (seed §1.1.8): write to a customer from the back office."""

    _name = "chatbot.send.message"
    _description = "Send a message to a sender"

    sender_id = fields.Many2one("chatbot.sender", required=True, readonly=True, ondelete="cascade")
    provider = fields.Selection(related="sender_id.provider")
    is_blocked = fields.Boolean(related="sender_id.is_blocked")
    text = fields.Text(required=True)
    attachment_ids = fields.Many2many("ir.attachment", string="Files")

    @api.constrains("text")
    def _check_text(self):
        for wizard in self:
            if not (wizard.text or "").strip():
                raise UserError(self.env._("Write the message first."))

    def action_send(self):
        """Queue the message in the sender's open dialog (a new one if none is open); it shows in the
        dialog and, when an operator handles it, in its conversation."""
        self.ensure_one()
        # sudo: users of the Bots app write to customers without write access to dialogs; the message is
        # sent in the user's name
        sender = self.sender_id.sudo()
        Dialog = self.env["chatbot.dialog"].sudo()
        dialog = Dialog.search(
            [("sender_id", "=", sender.id), ("bot_id", "=", sender.bot_id.id), ("state", "!=", "closed")],
            limit=1,
        ) or Dialog.create(
            {"bot_id": sender.bot_id.id, "sender_id": sender.id, "partner_id": sender.partner_id.id}
        )
        attachments = self.attachment_ids.sudo()
        attachments.write({"res_model": "chatbot.dialog", "res_id": dialog.id})
        dialog._chatbot_send(
            self.text.strip(), author_kind="operator", attachments=attachments, author_user=self.env.user
        )
        return notification(self.env._("Message to %(name)s queued.", name=sender.name), close=True)
