import logging

from odoo import models

_logger = logging.getLogger(__name__)


class ChatbotDialog(models.Model):
    """An Odoo operator's conversation is a live chat session: the visitor's own session for a website
    visitor, a new session of the operator bot's live chat for a messenger customer. Odoo then opens it as a
    chat window by itself, counts its unread messages and lists it under "Livechat"."""

    _inherit = "chatbot.dialog"

    def _chatbot_livechat_session(self):
        """The visitor's live chat session, for a dialog of a website live chat."""
        self.ensure_one()
        if self.channel_id.provider != "livechat" or not (self.sender_id.chat_id or "").isdigit():
            return self.env["discuss.channel"]
        # sudo: the session of the dialog's visitor
        return self.env["discuss.channel"].sudo().browse(int(self.sender_id.chat_id)).exists()

    def _chatbot_receive(self, event):
        session = self._chatbot_livechat_session()
        if session and session.chatbot_dialog_id != self:
            # the session belongs to this dialog from the visitor's first message on
            session.chatbot_dialog_id = self
        return super()._chatbot_receive(event)

    def _chatbot_open_conversation(self, operator, previous=None):
        session = self._chatbot_livechat_session()
        if session:
            return self._chatbot_join_session(session, operator, previous)
        return super()._chatbot_open_conversation(operator, previous)

    def _chatbot_conversation_values(self, operator):
        values = super()._chatbot_conversation_values(operator)
        livechat = self.operator_bot_id.sudo().livechat_channel_id
        if livechat:
            values.update(
                channel_type="livechat",
                livechat_channel_id=livechat.id,
                livechat_operator_id=operator.user_id.partner_id.id,
                livechat_active=True,
            )
        return values

    def _chatbot_conversation_opened(self, channel, operator):
        result = super()._chatbot_conversation_opened(channel, operator)
        if channel.channel_type == "livechat":
            channel.livechat_operator_id = operator.user_id.partner_id
            self._chatbot_pop_up(channel, operator)
        return result

    def _chatbot_pop_up(self, channel, operator):
        """Open the conversation as a chat window in the operator's web client (they are online: routing
        offers dialogs to online Odoo users only)."""
        partner = operator.user_id.partner_id
        channel._broadcast(partner.ids)
        member = channel.channel_member_ids.filtered(lambda m: m.partner_id == partner)
        if member:
            member._channel_fold("open", 1)

    def _chatbot_join_session(self, session, operator, previous=None):
        """The operator takes the visitor's own live chat session."""
        operator_partner = operator.user_id.partner_id
        if previous and previous.user_id and previous.user_id.partner_id != operator_partner:
            session.channel_member_ids.filtered(
                lambda m: m.partner_id == previous.user_id.partner_id
            ).unlink()
        session.write({"livechat_operator_id": operator_partner.id, "chatbot_dialog_id": self.id})
        session._add_members(partners=operator_partner, post_joined_message=True)
        self._chatbot_pop_up(session, operator)
        self.discuss_channel_id = session
        for message in self._chatbot_history().filtered(lambda m: not m.mail_message_id):
            self._chatbot_link_session_message(message, session)
        return session

    def _chatbot_link_session_message(self, message, session):
        """The session already shows the dialog's messages (the visitor's, the bot's): link them."""
        external_id = message.external_id or ""
        if external_id.startswith("m") and external_id[1:].isdigit():
            message.mail_message_id = int(external_id[1:])
        elif message.outbound_id.provider_message_id and message.outbound_id.provider_message_id.isdigit():
            message.mail_message_id = int(message.outbound_id.provider_message_id)

    def _chatbot_deliver(self, message, outbound_message):
        session = self._chatbot_livechat_session()
        if not session:
            return super()._chatbot_deliver(message, outbound_message)
        # The visitor waits in the widget for the bot's answer to come back with their own post, as with
        # Odoo's chatbot, and the session is a table of this database: the row is sent at once, in this
        # transaction, through the queue's own steps (a replayed request rolls it back with the rest).
        outbound_message.chat_id = str(session.id)
        row = self.env["chatbot.outbound"]._chatbot_enqueue(
            self.channel_id, outbound_message, dialog=self, sender=self.sender_id, wake=False
        )
        message.outbound_id = row
        if row._chatbot_send_now(self.channel_id._chatbot_connector()) == "sent":
            message.mail_message_id = int(row.provider_message_id)

    def _chatbot_post_in_conversation(self, message):
        if self._chatbot_livechat_session():
            return  # the visitor's session shows it already
        return super()._chatbot_post_in_conversation(message)

    def action_close(self):
        sessions = (
            self.filtered(lambda d: d.state != "closed")
            .sudo()
            .discuss_channel_id.filtered(lambda c: c.channel_type == "livechat" and c.livechat_active)
        )
        result = super().action_close()
        # the session ends with the dialog: the visitor is offered the rating, the operator sees it ended
        sessions.livechat_active = False
        return result
