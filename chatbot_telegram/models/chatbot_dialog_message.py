from odoo import api, fields, models


class ChatbotDialogMessage(models.Model):
    """A customer's message as relayed into the operators' Telegram group."""

    _inherit = "chatbot.dialog.message"

    telegram_has_files = fields.Boolean(
        "Came with files",
        readonly=True,
        copy=False,
        help="The customer's Telegram message carried files (even ones too big to download): it is copied "
        "into the operators' group as it is.",
    )
    telegram_group_outbound_id = fields.Many2one(
        "chatbot.outbound",
        "Relay to the operators' group",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
    )
    telegram_group_message_id = fields.Char(
        "Message id in the operators' group",
        compute="_compute_telegram_group_message_id",
        store=True,
        copy=False,
        index="btree_not_null",
        help="An operator's reply to this message in the group answers its dialog.",
    )

    @api.depends("telegram_group_outbound_id.provider_message_id")
    def _compute_telegram_group_message_id(self):
        for message in self:
            # the group's id of the relayed message is known once the queue sent it
            relay = message.telegram_group_outbound_id
            message.telegram_group_message_id = relay.provider_message_id or False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("telegram_group_outbound_id"):
                # nothing relayed yet: given, the stored compute does not read the new row back
                vals.setdefault("telegram_group_message_id", False)
        return super().create(vals_list)
