import logging

from odoo import models

from odoo.addons.chatbot_base.tools.connector import OutboundMessage, RecipientBlocked

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
        for message in self.message_ids.filtered(lambda m: not m.mail_message_id):
            self._chatbot_link_session_message(message, session)
        return session

    def _chatbot_link_session_message(self, message, session):
        """The session already shows the dialog's messages (the visitor's, the bot's): link them."""
        external_id = message.external_id or ""
        if external_id.startswith("m") and external_id[1:].isdigit():
            message.mail_message_id = int(external_id[1:])
        elif message.outbound_id.provider_message_id and message.outbound_id.provider_message_id.isdigit():
            message.mail_message_id = int(message.outbound_id.provider_message_id)

    def _chatbot_send(self, text="", author_kind="bot", **kwargs):
        session = self._chatbot_livechat_session()
        if not session or self.env.context.get("chatbot_already_delivered"):
            return super()._chatbot_send(text, author_kind=author_kind, **kwargs)
        # the visitor's session is a table of this database: posted now, in this transaction, not queued
        message = super(ChatbotDialog, self.with_context(chatbot_already_delivered=True))._chatbot_send(
            text, author_kind=author_kind, **kwargs
        )
        outbound = OutboundMessage(
            chat_id=str(session.id),
            text=text or "",
            buttons=kwargs.get("buttons") or [],
            attachment_ids=message.attachment_ids.ids,
        )
        try:
            message.mail_message_id = self.channel_id._chatbot_connector().post(session, outbound)
        except RecipientBlocked as error:
            # the visitor left: the dialog keeps the message, as it keeps one to a person who blocked the bot
            _logger.info("chatbot.dialog %s: not posted in the live chat: %s", self.id, error)
        return message

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
