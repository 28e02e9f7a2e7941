import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.chatbot_base.tools.connector import (
    ChatMigrated,
    ConnectorError,
    OutboundMessage,
    RecipientBlocked,
    TransientError,
)

from ..tools.connector import GROUP_TIMEOUT
from .chatbot_dialog import GROUP_ACTION_PREFIX

_logger = logging.getLogger(__name__)

GROUP_CHAT_ID_RE = re.compile(r"-\d{1,20}")
GROUP_TYPES = ("group", "supergroup")


class ChatbotChannel(models.Model):
    """The operators' group of a Telegram channel: a group chat where the bot relays customers' messages (a
    forum topic per dialog when the group is a forum) and where operators answer them."""

    _inherit = "chatbot.channel"  # pylint: disable=consider-merging-classes-inherited

    telegram_group_chat_id = fields.Char(
        "Operators' group",
        copy=False,
        help="The chat id of the Telegram group where customers' messages are relayed for operators, e.g. "
        "-1001234567890. Add the bot to the group first; in a forum group (one topic per dialog) make it an "
        "administrator allowed to manage topics.",
    )
    telegram_group_title = fields.Char("Group title", readonly=True, copy=False)
    telegram_group_is_forum = fields.Boolean(
        "Forum group",
        readonly=True,
        copy=False,
        help="Read from Telegram: in a forum group every dialog gets its own topic.",
    )

    @api.constrains("telegram_group_chat_id")
    def _check_telegram_group_chat_id(self):
        for channel in self:
            chat_id = channel.telegram_group_chat_id
            if chat_id and not GROUP_CHAT_ID_RE.fullmatch(chat_id):
                raise UserError(
                    self.env._(
                        "The operators' group is a Telegram chat id: a negative number such as "
                        "-1001234567890, not %(value)s.",
                        value=chat_id,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels.filtered("telegram_group_chat_id")._telegram_refresh_group()
        return channels

    def write(self, vals):
        """A new operators' group is read from Telegram at once (forum or not), unless the writer says whether
        it is a forum; the topics of the former group mean nothing in the new one, so dialogs forget them and
        get new topics when relayed again."""
        if "telegram_group_chat_id" not in vals:
            return super().write(vals)
        before = {channel: channel.telegram_group_chat_id for channel in self}
        result = super().write(vals)
        changed = self.filtered(lambda channel: channel.telegram_group_chat_id != before[channel])
        if changed:
            dialogs = self.env["chatbot.dialog"].search(
                [("channel_id", "in", changed.ids), ("telegram_topic_id", "!=", False)]
            )
            dialogs.write({"telegram_topic_id": False, "telegram_topic_outbound_id": False})
            if "telegram_group_is_forum" not in vals:
                changed._telegram_refresh_group()
        return result

    # ------------------------------------------------------------------------------------------
    # Reading the group
    # ------------------------------------------------------------------------------------------

    def action_telegram_check_group(self):
        """Read the operators' group from Telegram (getChat): its title and whether it is a forum."""
        self._telegram_check_rights()
        for channel in self:
            if not channel.telegram_group_chat_id:
                raise UserError(
                    self.env._(
                        "Give the chat id of the operators' group of %(name)s first.", name=channel.name
                    )
                )
            try:
                channel._telegram_read_group()
            except TransientError as error:
                raise UserError(self.env._("Telegram cannot be reached: %(error)s", error=error)) from error
            except ConnectorError as error:
                if isinstance(error, RecipientBlocked) or "chat not found" in str(error):
                    username = channel.telegram_bot_username
                    raise UserError(
                        self.env._(
                            "The bot %(bot)s is not a member of the group %(chat)s. Add it to the group "
                            "(as an administrator allowed to manage topics, for a forum), then check again.",
                            bot="@" + username if username else "",
                            chat=channel.telegram_group_chat_id,
                        )
                    ) from error
                raise UserError(self.env._("Telegram refused: %(error)s", error=error)) from error
        return True

    def _telegram_read_group(self):
        """getChat on the operators' group; store its title and whether it is a forum. Raises ConnectorError,
        or UserError when the chat is not a group."""
        self.ensure_one()
        chat = self._telegram_group_api_call(
            lambda api, chat_id: api.call("getChat", {"chat_id": int(chat_id)})
        )
        if chat.get("type") not in GROUP_TYPES:
            raise UserError(
                self.env._(
                    "%(chat)s is not a group chat: operators answer customers in a group or a supergroup.",
                    chat=self.telegram_group_chat_id,
                )
            )
        self.write(
            {"telegram_group_is_forum": bool(chat.get("is_forum")), "telegram_group_title": chat.get("title")}
        )
        return chat

    def _telegram_refresh_group(self):
        """Read each channel's group, never failing: a group the bot cannot read yet is reported in the
        channel's status, and the administrator checks it again once the bot is in it."""
        for channel in self.filtered(lambda c: c.provider == "telegram"):
            if not channel.telegram_group_chat_id:
                channel.write({"telegram_group_is_forum": False, "telegram_group_title": False})
                continue
            try:
                channel._telegram_read_group()
            except (ConnectorError, UserError) as error:
                channel.write({"telegram_group_is_forum": False, "telegram_group_title": False})
                channel._telegram_group_error(error)

    # ------------------------------------------------------------------------------------------
    # Calling the group
    # ------------------------------------------------------------------------------------------

    def _telegram_group_api_call(self, call):
        """``call(api, group_chat_id)``; a group that became a supergroup is remembered and called again."""
        self.ensure_one()
        api = self._chatbot_connector().api(timeout=GROUP_TIMEOUT)
        chat_id = self.telegram_group_chat_id
        try:
            return call(api, chat_id)
        except ChatMigrated as error:
            if not self._telegram_group_migrated(chat_id, error.new_chat_id):
                raise
            return call(api, self.telegram_group_chat_id)

    def _telegram_group_migrated(self, old_chat_id, new_chat_id):
        """Telegram said the group `old_chat_id` is now the supergroup `new_chat_id`: relay there from now
        on. Returns whether it was this channel's group."""
        self.ensure_one()
        if not old_chat_id or self.telegram_group_chat_id != str(old_chat_id):
            return False
        _logger.info("channel %s: the operators' group became a supergroup", self.id)
        # sudo: Telegram told where the group went; whoever was sending to it records the new address.
        # A group that was just upgraded is not a forum: no need to ask Telegram.
        self.sudo().write({"telegram_group_chat_id": str(new_chat_id), "telegram_group_is_forum": False})
        return True

    def _telegram_group_error(self, error):
        """A failed call to the operators' group: logged and shown on the channel (the customer's message and
        the dialog's state matter more than the group's copy of them)."""
        self.ensure_one()
        _logger.warning("channel %s: operators' group: %s", self.id, error)
        # sudo: the problem is shown to the administrators whoever ran into it (a processor, an operator)
        self.sudo().status_message = self.env._("Operators' group: %(error)s", error=error)

    def _telegram_group_hint(self, event, text=None):
        """Queue a short hint into the group, as a reply to the operator's message `event`."""
        self.ensure_one()
        hint = text or self.env._("To answer a customer, reply to their message or write in their topic.")
        return self.env["chatbot.outbound"]._chatbot_enqueue(
            self,
            OutboundMessage(
                chat_id=event.chat_id,
                text=hint,
                thread_id=event.thread.thread_id if event.thread else "",
                reply_to_message_id=event.message_id,
            ),
        )

    # ------------------------------------------------------------------------------------------
    # Operators' messages in the group
    # ------------------------------------------------------------------------------------------

    def _chatbot_has_operator_group(self):
        if self.provider == "telegram":
            return bool(self.telegram_group_chat_id)
        return super()._chatbot_has_operator_group()

    def _chatbot_on_group_event(self, event):
        """A message in the operators' group answers the dialog of its topic, else the dialog of the relayed
        message it replies to; anything else gets a hint on how to answer."""
        self.ensure_one()
        if self.provider != "telegram":
            return super()._chatbot_on_group_event(event)
        Dialog = self.env["chatbot.dialog"]
        if not self.telegram_group_chat_id or event.chat_id != self.telegram_group_chat_id:
            _logger.debug(
                "channel %s: message in chat %s, not the operators' group, ignored", self.id, event.chat_id
            )
            return Dialog
        if event.kind == "button" and event.button_data.startswith(GROUP_ACTION_PREFIX):
            return self._telegram_group_button(event)
        if event.kind != "message":
            _logger.debug("channel %s: %s in the operators' group ignored", self.id, event.kind)
            return Dialog
        dialog = self._telegram_group_dialog(event.thread)
        if not dialog:
            self._telegram_group_hint(event)
            return Dialog
        if dialog.channel_id != self:
            # another bot relays into the same group: that bot answers its own dialogs
            _logger.debug("channel %s: group message for channel %s ignored", self.id, dialog.channel_id.id)
            return Dialog
        if event.command:
            # a command typed in the dialog's topic (or in reply to its message) acts on the dialog and is
            # never relayed; the group's members are the bot's operators
            # sudo: the group's operators act for the bot, whoever Telegram says they are
            reply = dialog.sudo()._chatbot_operator_command(event.command, event.command_args)
            if reply is None:
                reply = self.env._(
                    "/%(command)s is no command here: /end closes this dialog, /transfer and a name hands it "
                    "to an operator, the Take button makes it yours.",
                    command=event.command,
                )
            self._telegram_group_hint(event, reply)
            return dialog
        attachments = self.env["ir.attachment"].browse(dialog._chatbot_store_files(event.files))
        text = dialog._chatbot_event_text(event) or ""
        if not text.strip() and not attachments:
            self._telegram_group_hint(
                event, self.env._("This message cannot be passed on to the customer: send a text or a file.")
            )
            return dialog
        try:
            dialog._chatbot_on_operator_message(
                text, operator=self._telegram_group_operator(event.sender) or None, attachments=attachments
            )
        except UserError as error:
            # e.g. the customer blocked the bot: the operator learns it where they wrote
            self._telegram_group_hint(event, str(error))
        return dialog

    def _telegram_group_button(self, event):
        """A button of a dialog's topic: Take (the approved operator who pressed it handles the dialog), End
        the dialog, or Transfer (which lists the operators to name with /transfer). The group's members are
        the bot's operators; the outcome is told in the topic. After a transfer the buttons act on the
        dialog that carries it on."""
        _prefix, action, dialog_id = (event.button_data.split(":", 2) + ["", ""])[:3]
        dialog = (
            self.env["chatbot.dialog"].sudo().browse(int(dialog_id) if dialog_id.isdigit() else 0).exists()
        )
        if not dialog or dialog.channel_id != self:
            return self.env["chatbot.dialog"]
        dialog = dialog._chatbot_current()
        if action == "take":
            reply = dialog._chatbot_take(self._telegram_group_operator(event.sender))
        else:
            reply = dialog._chatbot_operator_command("end" if action == "end" else "transfer", "")
        if reply:
            self._telegram_group_hint(event, reply)
        return dialog

    def _telegram_group_dialog(self, thread):
        """The dialog a group message is about: (1) by its forum topic, (2) by the relayed message it replies
        to (inside a topic, Telegram names the topic's first message as the reply when there is none)."""
        Dialog = self.env["chatbot.dialog"]
        if not thread:
            return Dialog
        if thread.thread_id:
            dialog = Dialog.search(
                [
                    ("telegram_topic_id", "=", thread.thread_id),
                    ("channel_id.telegram_group_chat_id", "=", thread.chat_id),
                ],
                limit=1,
            )
            if dialog:
                return dialog._chatbot_current()
        if thread.reply_to_message_id:
            message = self.env["chatbot.dialog.message"].search(
                [
                    ("telegram_group_message_id", "=", thread.reply_to_message_id),
                    ("dialog_id.channel_id.telegram_group_chat_id", "=", thread.chat_id),
                ],
                limit=1,
                order="id desc",
            )
            return message.dialog_id._chatbot_current() if message else Dialog
        return Dialog

    def _telegram_group_operator(self, profile):
        """The bot's operator who writes from this Telegram account, if any."""
        if not profile:
            return self.env["chatbot.operator"]
        return self.env["chatbot.operator"].search(
            [
                ("bot_id", "=", self.bot_id.id),
                ("sender_id.channel_id", "=", self.id),
                ("sender_id.external_id", "=", profile.external_id),
            ],
            limit=1,
        )
