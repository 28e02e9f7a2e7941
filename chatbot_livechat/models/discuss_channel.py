from odoo import models
from odoo.tools import html2plaintext

from odoo.addons.mail.tools.discuss import Store


class DiscussChannel(models.Model):
    """Website live chat sessions of a bot: the visitor's messages go to the bot's inbound queue like any
    messenger's; the session closes with the dialog and the dialog with the session."""

    _inherit = "discuss.channel"

    def _to_store(self, store: Store):
        result = super()._to_store(store)
        # the web client shows a bot's answers as soon as the visitor's post returns (they are written in it)
        for channel in self.filtered(lambda c: c.channel_type == "livechat"):
            if channel.livechat_channel_id._chatbot_channel():
                store.add(channel, {"chatbotBotSession": True})
        return result

    def _get_message_create_valid_field_names(self):
        # a bot's message carries its answer buttons (chatbot_livechat's connector posts them)
        return super()._get_message_create_valid_field_names() | {"chatbot_buttons"}

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        # chatbot_no_relay: posted by the suite itself (see chatbot_operator's discuss.channel)
        if self.channel_type == "livechat" and not self.env.context.get("chatbot_no_relay"):
            channel = self.livechat_channel_id._chatbot_channel()
            if channel and self._chatbot_livechat_is_visitor(message, channel):
                self._chatbot_livechat_store(channel, message)
        return result

    def _chatbot_livechat_is_visitor(self, message, channel):
        """Whether `message` is the visitor's (not the bot's, not an operator's)."""
        if message.message_type != "comment":
            return False
        if message.author_guest_id:
            return True
        author = message.author_id
        if not author or author in (self.livechat_operator_id, channel.bot_id.sudo().partner_id):
            return False
        # sudo: res.users - whether the author is an employee (an operator) or a customer
        users = author.sudo().user_ids
        if not users or all(user.share for user in users):
            return True
        # an employee chatting on the website as a visitor: not one of the session's operators
        dialog = self.sudo().chatbot_dialog_id
        return (
            bool(dialog) and dialog.partner_id == author and dialog.operator_id.user_id.partner_id != author
        )

    def _chatbot_livechat_store(self, channel, message):
        """The visitor's message as an update of the bot's live chat channel (processed by the inbound queue,
        like a Telegram update)."""
        author = message.author_id if not message.author_guest_id else None
        guest = message.author_guest_id
        if author:
            user = {
                "id": f"partner-{author.id}",
                "name": author.name,
                "lang": author.lang,
                "email": author.email,
            }
        else:
            user = {"id": f"guest-{guest.id}", "name": self.anonymous_name or guest.name, "lang": guest.lang}
        # sudo: the visitor has no rights on the bot's queue; their message is stored as an update of it
        first = not self.sudo().chatbot_dialog_id or self.sudo().chatbot_dialog_id.state == "closed"
        row_id = channel.sudo()._chatbot_store_inbound(
            {
                "id": f"m{message.id}",
                "chat": str(self.id),
                "user": user,
                "text": html2plaintext(message.body or "").strip(),
                "first": first,
            }
        )
        if row_id:
            # processed in the visitor's request, as Odoo's own chatbot does: the bot's answer is in the
            # session when the visitor's message is (a failure stays in the queue, retried by its cron)
            self.env["chatbot.inbound"].sudo().browse(row_id)._process_one()

    def _chatbot_is_customer_session(self, dialog):
        # the operator wrote in the visitor's own session: the visitor has it; the dialog records it
        if dialog.channel_id.provider == "livechat" and dialog.sender_id.chat_id == str(self.id):
            return True
        return super()._chatbot_is_customer_session(dialog)

    def _close_livechat_session(self, **kwargs):
        dialogs = self.sudo().chatbot_dialog_id.filtered(lambda d: d.state != "closed")
        result = super()._close_livechat_session(**kwargs)
        # the visitor left (or the operator closed the session): the dialog ends with it
        for dialog in dialogs:
            dialog._chatbot_end("customer")
        return result
