from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext

from odoo.addons.mail.tools.discuss import Store


class DiscussChannel(models.Model):
    """The Discuss conversation of a dialog: what its operator writes there goes to the customer."""

    _inherit = "discuss.channel"

    chatbot_dialog_id = fields.Many2one(
        "chatbot.dialog", "Bot dialog", index="btree_not_null", ondelete="set null", readonly=True
    )

    def _to_store(self, store: Store):
        result = super()._to_store(store)
        # the web client shows the dialog's actions (End, Transfer, the dialog) in its conversations
        for channel in self.filtered("chatbot_dialog_id"):
            store.add(channel, channel._chatbot_dialog_store_values())
        return result

    def _chatbot_dialog_store_values(self):
        # sudo: the state of the conversation's own dialog, for its members
        dialog = self.sudo().chatbot_dialog_id
        return {
            "chatbotDialogId": dialog.id,
            "chatbotDialogOpen": dialog.state not in (False, "closed"),
            "chatbotSimilarCount": dialog.similar_partner_count,
        }

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
        text = html2plaintext(message.body or "").strip()
        if text.startswith("/") and self._chatbot_run_typed_command(dialog.with_user(author_user), text):
            return  # a command the web client did not catch (another client, a script): never sent as text
        if dialog.state == "closed":
            raise UserError(
                self.env._(
                    'The dialog %(code)s is closed: the customer would not get this. Use "Live chat" on the '
                    "dialog to talk to them again.",
                    code=dialog.code,
                )
            )
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

    def _chatbot_run_typed_command(self, dialog, text):
        """Run `text`, "/command args", when it is an operator command; returns whether it was one."""
        command, _space, args = text[1:].partition(" ")
        try:
            reply = dialog._chatbot_operator_command(command, args)
        except (UserError, AccessError) as error:
            reply = str(error)
        if reply is None:
            return False
        self.env.user._bus_send_transient_message(self, reply)
        return True

    def _chatbot_is_customer_session(self, dialog):
        """Whether this conversation is the customer's own (a website visitor's live chat session): what
        the operator writes here reaches them without the messenger (chatbot_livechat)."""
        return False

    def chatbot_dialog_state(self):
        """Whether the conversation's dialog is still open, for the web client after an action on it."""
        self.ensure_one()
        self.check_access("read")
        return self._chatbot_dialog_store_values()

    def _chatbot_refresh_dialog_state(self):
        """The members learn the state of their conversation's dialog (its composer and actions follow it):
        only these values, whoever closed it (a processing user who is no member, a cron)."""
        for channel in self.sudo():
            channel._bus_send_store(channel, channel._chatbot_dialog_store_values())

    def chatbot_execute_command(self, command, body=""):
        """An operator command typed in a dialog's conversation (`body`: the whole text typed, "/command
        args"); the web client sends the dialog's commands here. Returns what the operator is told."""
        return self._chatbot_execute_operator_command(command, (body or "").partition(" ")[2].strip())

    def execute_command_chatbot(self, body="", **kwargs):
        """A dialog command typed where there is no dialog (an addon's command of the suite registered for a
        conversation type): the operator is told, as Odoo's own commands tell."""
        command = (body or "").lstrip("/").partition(" ")[0]
        self.env.user._bus_send_transient_message(
            self, self.env._("/%(command)s acts on bot dialogs only.", command=command)
        )

    def _chatbot_execute_operator_command(self, command, args):
        """Run an operator's command on the conversation's dialog; returns the outcome for the operator."""
        self.ensure_one()
        dialog = self.chatbot_dialog_id
        if not dialog:
            return self.env._("/%(command)s acts on bot dialogs only.", command=command)
        try:
            reply = dialog._chatbot_operator_command(command, args)
        except (UserError, AccessError) as error:
            reply = str(error)
        self._chatbot_refresh_dialog_state()
        return reply or ""
