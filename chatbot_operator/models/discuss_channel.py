from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext


class DiscussChannel(models.Model):
    """The Discuss conversation of a dialog: what its operator writes there goes to the customer."""

    _inherit = "discuss.channel"

    chatbot_dialog_id = fields.Many2one(
        "chatbot.dialog", "Bot dialog", index="btree_not_null", ondelete="set null", readonly=True
    )

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        # chatbot_no_relay: a message the suite posts itself (the customer's, the bot's); a context key
        # because Odoo's message_post, which calls this hook, takes no parameter of ours
        if (
            self.chatbot_dialog_id
            and not self.env.context.get("chatbot_no_relay")
            and message.message_type == "comment"
        ):
            self._chatbot_relay_operator_message(message)
        return result

    def _chatbot_relay_operator_message(self, message):
        """An operator's message in the conversation goes to the customer through the outbound queue. Only
        internal users' comments (customer messages are posted by the processing user with the customer as
        author, and flagged): no echo."""
        dialog = self.chatbot_dialog_id.sudo()
        author_user = message.author_id.user_ids[:1]
        if not author_user or author_user.share or message.author_id == dialog.partner_id:
            return
        dialog.with_user(author_user)._chatbot_check_operator_rights()
        if dialog.state == "closed":
            raise UserError(
                self.env._(
                    'The dialog %(code)s is closed: the customer would not get this. Use "Live chat" on the '
                    "dialog to talk to them again.",
                    code=dialog.code,
                )
            )
        text = html2plaintext(message.body or "").strip()
        attachments = message.attachment_ids
        if not text and not attachments:
            return
        operator = (
            dialog.operator_id if dialog.operator_id.user_id == author_user else self.env["chatbot.operator"]
        )
        sent = dialog._chatbot_on_operator_message(
            text,
            operator=operator or None,
            attachments=attachments.sudo(),
            delivered=self._chatbot_is_customer_session(dialog),
            from_conversation=True,
        )
        sent.mail_message_id = message
        if not operator:
            sent.author_user_id = author_user

    def _chatbot_is_customer_session(self, dialog):
        """Whether this conversation is the customer's own (a website visitor's live chat session): what
        the operator writes here reaches them without the messenger (chatbot_livechat)."""
        return False

    def execute_command_close(self, **kwargs):
        """/close in a dialog's conversation: end the dialog, the customer gets the completion text."""
        self.ensure_one()
        if not self.chatbot_dialog_id:
            self.env.user._bus_send_transient_message(self, self.env._("/close ends bot dialogs only."))
            return
        self.chatbot_dialog_id.action_end()

    def execute_command_transfer(self, body="", **kwargs):
        """/transfer <name> in a dialog's conversation: hand the dialog to that operator of the bot (with no
        name: the list of operators who have room)."""
        self.ensure_one()
        dialog = self.chatbot_dialog_id
        if not dialog:
            self.env.user._bus_send_transient_message(
                self, self.env._("/transfer hands on bot dialogs only.")
            )
            return
        name = (body or "").partition(" ")[2].strip()
        operators = (
            self.env["chatbot.operator"]
            .sudo()
            .search(
                [
                    ("bot_id", "=", dialog.sudo().operator_bot_id.id),
                    ("id", "!=", dialog.sudo().operator_id.id),
                ]
            )
        )
        chosen = operators.filtered(lambda o: name and name.lower() in (o.name or "").lower())
        if len(chosen) != 1:
            listing = ", ".join(
                f"{o.name} ({o.active_dialog_count}, {dict(o._fields['status'].selection)[o.status]})"
                for o in operators
            ) or self.env._("none")
            self.env.user._bus_send_transient_message(
                self,
                Markup("%s<br/>%s")
                % (
                    self.env._("Write /transfer and an operator's name.")
                    if not chosen
                    else self.env._("Several operators match: be more precise."),
                    self.env._("Operators: %(list)s", list=listing),
                ),
            )
            return
        dialog.action_transfer(chosen)
