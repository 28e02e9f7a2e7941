import logging

from odoo import api, fields, models

from odoo.addons.chatbot_base.tools.connector import Button, OutboundMessage

# the data of the buttons of a dialog's topic in the operators' group: "<prefix><action>:<dialog id>"
GROUP_ACTION_PREFIX = "grp:"

_logger = logging.getLogger(__name__)


class ChatbotDialog(models.Model):
    """A dialog's side in the operators' Telegram group: its forum topic, the relay of the customer's
    messages into the group. Every call to the group is a row of the outbound queue, in the group chat's
    order: a topic is created before the messages that go into it, renamed and closed after them."""

    _inherit = "chatbot.dialog"

    telegram_topic_outbound_id = fields.Many2one(
        "chatbot.outbound",
        "Topic creation",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
        help="The queued creation of this dialog's forum topic in the operators' group.",
    )
    telegram_topic_id = fields.Char(
        "Group topic",
        compute="_compute_telegram_topic_id",
        store=True,
        readonly=False,
        copy=False,
        index="btree_not_null",
        help="The forum topic of this dialog in the operators' group of its Telegram channel.",
    )

    @api.depends("telegram_topic_outbound_id.provider_message_id")
    def _compute_telegram_topic_id(self):
        for dialog in self:
            # the topic's id is known once the queue created it
            dialog.telegram_topic_id = dialog.telegram_topic_outbound_id.provider_message_id or False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("telegram_topic_outbound_id"):
                # no topic yet: given, the stored compute does not read the new row back
                vals.setdefault("telegram_topic_id", False)
        return super().create(vals_list)

    def write(self, vals):
        """The dialog's topic follows the dialog: renamed when the customer is identified (another partner),
        closed and reopened with it, by rows of the outbound queue queued behind the dialog's relays."""
        if not {"state", "partner_id"} & vals.keys():
            return super().write(vals)
        before = {
            dialog: (dialog.state, dialog.partner_id) for dialog in self if dialog._telegram_topic_thread()
        }
        result = super().write(vals)
        for dialog, (state, partner) in before.items():
            dialog._telegram_sync_topic(state, partner)
        return result

    def _chatbot_child_values(self):
        values = super()._chatbot_child_values()
        # the child of a transferred dialog goes on in its forum topic
        values.update(
            telegram_topic_outbound_id=self.telegram_topic_outbound_id.id,
            telegram_topic_id=self.telegram_topic_id,
        )
        return values

    def _chatbot_inbound_message_values(self, event):
        # a customer's Telegram message that came with files is copied into the group as it is, even when
        # the files could not be downloaded
        values = super()._chatbot_inbound_message_values(event)
        if event.files:
            values["telegram_has_files"] = True
        return values

    # ------------------------------------------------------------------------------------------
    # The dialog's topic
    # ------------------------------------------------------------------------------------------

    def _telegram_topic_thread(self):
        """(thread_id, thread_from) of the dialog's topic: its id once created, else the queued row that
        creates it; ("", 0) when it has none, or its creation failed."""
        self.ensure_one()
        if self.telegram_topic_id:
            return self.telegram_topic_id, 0
        row = self.telegram_topic_outbound_id
        if row and row.state in ("queued", "sending"):
            return "", row.id
        return "", 0

    def _telegram_ensure_topic(self):
        """(thread_id, thread_from) of the dialog's topic in the forum group, its creation queued on first use
        (and again after a failed one). A failed creation leaves the messages in the group's General topic,
        with the customer's name."""
        self.ensure_one()
        thread = self._telegram_topic_thread()
        if any(thread):
            return thread
        # a second worker relaying this dialog at the same moment must not create a second topic
        self.flush_recordset(["telegram_topic_outbound_id"])
        self.env.cr.execute("SELECT id FROM chatbot_dialog WHERE id = %s FOR UPDATE", [self.id])
        self.invalidate_recordset(["telegram_topic_outbound_id", "telegram_topic_id"])
        thread = self._telegram_topic_thread()
        if any(thread):
            return thread
        channel = self.channel_id
        connector = channel._chatbot_connector()
        row = self.env["chatbot.outbound"]._chatbot_enqueue(
            channel,
            self._telegram_topic_message(
                "topic_create", "", 0, connector.topic_name(self.code, self._telegram_who())
            ),
            dialog=self,
        )
        self.telegram_topic_outbound_id = row
        # the topic opens with the dialog's actions: buttons, or the commands typed in it
        self.env["chatbot.outbound"]._chatbot_enqueue(
            channel,
            OutboundMessage(
                chat_id=channel.telegram_group_chat_id,
                text=self.env._(
                    "Dialog %(code)s. Write here to answer; Take makes it yours, /end closes it, /transfer "
                    "and a name hands it to an operator.",
                    code=self.code,
                ),
                thread_from=row.id,
                buttons=[
                    [
                        Button(label=self.env._("Take"), data=f"{GROUP_ACTION_PREFIX}take:{self.id}"),
                        Button(label=self.env._("Transfer"), data=f"{GROUP_ACTION_PREFIX}transfer:{self.id}"),
                        Button(
                            label=self.env._("End the dialog"), data=f"{GROUP_ACTION_PREFIX}end:{self.id}"
                        ),
                    ]
                ],
            ),
            dialog=self,
        )
        return "", row.id

    def _telegram_who(self):
        return self.partner_id.name or self.sender_id.name

    def _telegram_topic_message(self, kind, thread_id, thread_from, name=""):
        return OutboundMessage(
            chat_id=self.channel_id.telegram_group_chat_id,
            kind=kind,
            text=name,
            thread_id=thread_id,
            thread_from=thread_from,
        )

    def _telegram_sync_topic(self, old_state, old_partner):
        """Queue the renaming, closing or reopening of the dialog's topic after its partner or state
        changed."""
        self.ensure_one()
        channel = self.channel_id
        if channel.provider != "telegram" or not channel.telegram_group_chat_id:
            return
        thread_id, thread_from = self._telegram_topic_thread()
        kinds = []
        if self.partner_id != old_partner:
            kinds.append("topic_rename")
        if old_state != "closed" and self.state == "closed" and self.close_reason != "transfer":
            # a transferred dialog's topic is not closed: its child dialog carries on in it
            kinds.append("topic_close")
        elif old_state == "closed" and self.state != "closed":
            kinds.append("topic_reopen")
        name = channel._chatbot_connector().topic_name(self.code, self._telegram_who())
        for kind in kinds:
            self.env["chatbot.outbound"]._chatbot_enqueue(
                channel,
                self._telegram_topic_message(
                    kind, thread_id, thread_from, name if kind == "topic_rename" else ""
                ),
                dialog=self,
            )

    # ------------------------------------------------------------------------------------------
    # Relaying the customer's messages
    # ------------------------------------------------------------------------------------------

    def _chatbot_relay_to_group(self, message):
        return self._telegram_relay_to_group(message) or super()._chatbot_relay_to_group(message)

    def _telegram_relay_to_group(self, message):
        """Queue the relay of the customer's `message` (a chatbot.dialog.message of this dialog) into the
        operators' group of the dialog's channel: into the dialog's topic in a forum group (its creation
        queued first, on first use), with the customer's name in front elsewhere, so operators know who
        wrote. A message that came with files is copied (the connector's copy: operators get the media as the
        customer sent them, even a file too big for the bot to download).

        The message remembers its relay, so that an operator's reply to it in the group finds this dialog.
        Returns the message, or an empty recordset when the channel has no operators' group."""
        self.ensure_one()
        channel = self.channel_id
        if channel.provider != "telegram" or not channel.telegram_group_chat_id:
            return self.env["chatbot.dialog.message"]
        if message.dialog_id != self or message.direction != "in":
            raise ValueError("only a customer's message of this dialog is relayed to the operators' group")
        if message.telegram_group_outbound_id:
            return message  # relayed before
        if not (message.telegram_has_files or message.attachment_ids or message.body or message.button_data):
            _logger.debug("chatbot.dialog.message %s: nothing to relay", message.id)
            return message
        thread_id, thread_from = self._telegram_ensure_topic() if channel.telegram_group_is_forum else ("", 0)
        sender = self.sender_id
        copy_of = None
        if (message.telegram_has_files or message.attachment_ids) and message.external_id:
            copy_of = (sender.chat_id or sender.external_id, message.external_id)
        relay = channel._chatbot_connector().group_relay(
            channel.telegram_group_chat_id,
            self._telegram_group_text(message, named=False),
            self._telegram_group_text(message, named=True),
            files=message.attachment_ids.ids,
            copy_of=copy_of,
            thread_id=thread_id,
            thread_from=thread_from,
        )
        message.telegram_group_outbound_id = self.env["chatbot.outbound"]._chatbot_enqueue(
            channel, relay, dialog=self
        )
        return message

    def _telegram_group_text(self, message, named):
        """The text of a relayed message: its body, after the customer's name when `named`."""
        text = message.body or ""
        if not text and message.button_data:
            text = self.env._("Pressed the button %(data)s", data=message.button_data)
        if not named:
            return text
        name = self._telegram_who()
        return f"{name}:\n{text}" if text else f"{name}:"
