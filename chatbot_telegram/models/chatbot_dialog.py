import logging

from odoo import fields, models

from odoo.addons.chatbot_base.tools.connector import ConnectorError, OutboundMessage

from ..tools.bot_api import CAPTION_LIMIT, TOPIC_NAME_LIMIT, escape_html

_logger = logging.getLogger(__name__)


class ChatbotDialog(models.Model):
    """A dialog's side in the operators' Telegram group: its forum topic, the relay of the customer's
    messages into the group."""

    _inherit = "chatbot.dialog"

    telegram_topic_id = fields.Char(
        "Group topic",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The forum topic of this dialog in the operators' group of its Telegram channel.",
    )

    def write(self, vals):
        """The dialog's topic follows the dialog: renamed when the customer is identified (another partner),
        closed and reopened with it. A failure is shown on the channel and never blocks the change.

        The calls are made within this transaction: if Odoo replays it they are made again, which is
        harmless (a topic already closed, open or so named is a success for BotApi)."""
        if not {"state", "partner_id"} & vals.keys():
            return super().write(vals)
        before = {dialog: (dialog.state, dialog.partner_id) for dialog in self if dialog.telegram_topic_id}
        result = super().write(vals)
        for dialog, (state, partner) in before.items():
            dialog._telegram_sync_topic(state, partner)
        return result

    def _chatbot_receive(self, event):
        # Which customer message came with files must be known when it is created (the handlers that relay
        # it run before _chatbot_receive returns), even when the files could not be downloaded.
        files_of = event.message_id if event.files else ""
        dialog = self.with_context(chatbot_telegram_files_of=files_of) if files_of else self
        return super(ChatbotDialog, dialog)._chatbot_receive(event)

    # ------------------------------------------------------------------------------------------
    # The dialog's topic
    # ------------------------------------------------------------------------------------------

    def _telegram_topic_name(self):
        """ "<dialog code> · <customer>", within Telegram's limit for a topic name."""
        self.ensure_one()
        who = self.partner_id.name or self.sender_id.name
        return (f"{self.code} · {who}" if who else self.code)[:TOPIC_NAME_LIMIT]

    def _telegram_ensure_topic(self):
        """The dialog's topic in the forum group, created on first use; "" when it cannot be created (the
        message then goes to the group's General topic, with the customer's name)."""
        self.ensure_one()
        if self.telegram_topic_id:
            return self.telegram_topic_id
        # a second worker relaying this dialog at the same moment must not create a second topic
        self.flush_recordset(["telegram_topic_id"])
        self.env.cr.execute(
            "SELECT telegram_topic_id FROM chatbot_dialog WHERE id = %s FOR UPDATE", [self.id]
        )
        row = self.env.cr.fetchone()
        if row and row[0]:
            self.invalidate_recordset(["telegram_topic_id"])
            return row[0]
        channel = self.channel_id
        name = self._telegram_topic_name()
        try:
            topic = channel._telegram_group_api_call(
                lambda api, chat_id: api.create_forum_topic(chat_id, name)
            )
        except ConnectorError as error:
            channel._telegram_group_error("createForumTopic", error)
            return ""
        self.telegram_topic_id = topic
        return topic

    def _telegram_sync_topic(self, old_state, old_partner):
        """Rename, close or reopen the dialog's topic after its partner or its state changed."""
        self.ensure_one()
        channel = self.channel_id
        topic = self.telegram_topic_id
        if channel.provider != "telegram" or not channel.telegram_group_chat_id or not topic:
            return
        calls = []
        if self.partner_id != old_partner:
            name = self._telegram_topic_name()
            calls.append(("editForumTopic", lambda api, chat_id: api.edit_forum_topic(chat_id, topic, name)))
        if old_state != "closed" and self.state == "closed":
            calls.append(("closeForumTopic", lambda api, chat_id: api.close_forum_topic(chat_id, topic)))
        elif old_state == "closed" and self.state != "closed":
            calls.append(("reopenForumTopic", lambda api, chat_id: api.reopen_forum_topic(chat_id, topic)))
        for what, call in calls:
            try:
                channel._telegram_group_api_call(call)
            except ConnectorError as error:
                channel._telegram_group_error(what, error)

    # ------------------------------------------------------------------------------------------
    # Relaying the customer's messages
    # ------------------------------------------------------------------------------------------

    def _chatbot_relay_to_group(self, message):
        return self._telegram_relay_to_group(message) or super()._chatbot_relay_to_group(message)

    def _telegram_relay_to_group(self, message):
        """Post the customer's `message` (a chatbot.dialog.message of this dialog) into the operators' group
        of the dialog's channel: into the dialog's topic in a forum group (created on first use), with the
        customer's name in front elsewhere, so operators know who wrote.

        Text goes through the outbound queue. A message that came with files is copied (copyMessage, called
        right here: the queue's messages cannot express a copy) so that operators get the media as the
        customer sent them, even a file too big for the bot to download; when the copy is impossible (an
        earlier relay of the dialog still waits in the queue, which the copy would overtake) or fails, the
        downloaded files go through the queue instead.

        Remembers on the message the id its relay got in the group (at once for a copy, once sent for queued
        text), so that an operator's reply to it finds this dialog. Returns the message, or an empty
        recordset when the channel has no operators' group. Telegram's errors are shown on the channel, never
        raised: the customer's message matters more than the group's copy of it."""
        self.ensure_one()
        channel = self.channel_id
        if channel.provider != "telegram" or not channel.telegram_group_chat_id:
            return self.env["chatbot.dialog.message"]
        if message.dialog_id != self or message.direction != "in":
            raise ValueError("only a customer's message of this dialog is relayed to the operators' group")
        if message.telegram_group_message_id or message.telegram_group_outbound_id:
            return message  # relayed before
        topic = self._telegram_ensure_topic() if channel.telegram_group_is_forum else ""
        named = not topic  # outside a topic, operators need to be told who wrote
        text = self._telegram_group_text(message, named)
        caption = text if named else ""  # in a topic, the copy keeps the customer's own caption
        if (message.telegram_has_files or message.attachment_ids) and self._telegram_can_copy(
            message, caption
        ):
            copy_id = self._telegram_copy_to_group(message, topic, caption)
            if copy_id:
                message.telegram_group_message_id = copy_id
                return message
        if not message.attachment_ids and not (message.body or message.button_data):
            _logger.debug("chatbot.dialog.message %s: nothing to relay", message.id)
            return message
        message.telegram_group_outbound_id = self.env["chatbot.outbound"]._chatbot_enqueue(
            channel,
            OutboundMessage(
                chat_id=channel.telegram_group_chat_id,
                text=text,
                attachment_ids=message.attachment_ids.ids,
                thread_id=topic,
            ),
            dialog=self,
        )
        return message

    def _telegram_group_text(self, message, named):
        """The text of a relayed message: its body, after the customer's name when `named`."""
        text = message.body or ""
        if not text and message.button_data:
            text = self.env._("Pressed the button %(data)s", data=message.button_data)
        if not named:
            return text
        name = self.partner_id.name or self.sender_id.name
        return f"{name}:\n{text}" if text else f"{name}:"

    def _telegram_can_copy(self, message, caption):
        """Whether `message` can be copied into the group now: it names its Telegram message, its caption
        fits, and no earlier relay of this dialog still waits in the queue (the copy would overtake it)."""
        if not message.external_id or len(caption) > CAPTION_LIMIT:
            return False
        waiting = self.env["chatbot.outbound"].search_count(
            [
                ("dialog_id", "=", self.id),
                ("chat_id", "=", self.channel_id.telegram_group_chat_id),
                ("state", "in", ("queued", "sending")),
            ],
            limit=1,
        )
        return not waiting

    def _telegram_copy_to_group(self, message, topic, caption):
        """copyMessage of the customer's Telegram message into the group; the copy's id, or "" on failure.
        A `caption` replaces the original one (to name the customer outside a topic)."""
        sender = self.sender_id
        params = {
            "from_chat_id": int(sender.chat_id or sender.external_id),
            "message_id": int(message.external_id),
        }
        if topic:
            params["message_thread_id"] = int(topic)
        if caption:
            params.update(caption=escape_html(caption), parse_mode="HTML")
        channel = self.channel_id
        try:
            return channel._telegram_group_api_call(
                lambda api, chat_id: str(
                    api.call("copyMessage", {"chat_id": int(chat_id), **params})["message_id"]
                )
            )
        except ConnectorError as error:
            channel._telegram_group_error("copyMessage", error)
            return ""
