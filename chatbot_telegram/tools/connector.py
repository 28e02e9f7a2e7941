"""Telegram's side of the connector interface: the only code of the suite that speaks the Bot API (with
tools/bot_api.py, its HTTP client)."""

import logging
import threading
from contextlib import contextmanager

from odoo.addons.chatbot_base.tools.connector import (
    ChatMigrated,
    Connector,
    ConnectorError,
    MalformedEvent,
    OutboundMessage,
    RateLimits,
    RetryLater,
    TransientError,
)

from .bot_api import CAPTION_LIMIT, DOWNLOAD_LIMIT, TEXT_LIMIT, TOPIC_NAME_LIMIT, BotApi
from .parse import parse_update, update_key

_logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
GROUP_TIMEOUT = 5  # seconds: the administrator's check of the operators' group waits for it
# what the queue's rows of each kind call; a refusal of these is shown on the channel (the operators' group)
TOPIC_CALLS = {
    "topic_create": "createForumTopic",
    "topic_rename": "editForumTopic",
    "topic_close": "closeForumTopic",
    "topic_reopen": "reopenForumTopic",
}

# seconds of work on an update after which the customer sees "typing..."
TYPING_AFTER = 0.5


class TelegramConnector(Connector):
    """Telegram's side of the connector interface: updates parsed with python-telegram-bot's types,
    the Bot API called through a small synchronous client (tools/bot_api.py)."""

    provider = "telegram"
    label = "Telegram"
    kinds = frozenset({"send", "edit", "copy", "answer", *TOPIC_CALLS})
    text_limit = TEXT_LIMIT
    caption_limit = CAPTION_LIMIT

    def api(self, timeout=10):
        """The Bot API client of the channel. One per connector and timeout: a connector lives for one run of
        one worker's thread (a queue run), so its HTTP connection is kept alive from one message to the next
        instead of a new TCP connection per message."""
        clients = self.__dict__.setdefault("_api_clients", {})
        if timeout in clients:
            return clients[timeout]
        # sudo: the token is readable by system administrators only; the connector needs it to work
        channel_sudo = self.channel.sudo()
        if not channel_sudo.telegram_token:
            raise ConnectorError(self.env._("Channel %(name)s has no bot token.", name=self.channel.name))
        clients[timeout] = BotApi(
            channel_sudo.telegram_token, channel_sudo.telegram_api_url or DEFAULT_API_URL, timeout=timeout
        )
        return clients[timeout]

    def event_key(self, payload):
        return update_key(payload)

    def parse(self, payload):
        """The update's events, their files downloaded. A file the parser could not read stays in its message
        as a note (the text, caption and other files go on); an update that cannot be read at all raises
        MalformedEvent: it fails at once, never retried."""
        try:
            events = parse_update(payload, bot_username=self.channel.telegram_bot_username)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            # the parser's messages never quote the payload
            raise MalformedEvent(str(error) or type(error).__name__) from None
        files = []
        for file in (file for event in events for file in event.files):
            if file.error:  # a file the parser could not read: nothing to download
                file.error = self.env._(
                    "A file the customer sent (Telegram %(kind)s) could not be read: it was left out.",
                    kind=file.name,
                )
            else:
                files.append(file)
        if files:
            api = self.api(timeout=30)
            for file in files:
                self._download(api, file)
        return events

    def _download(self, api, file):
        """Fill file.data, or file.error when Telegram cannot give it (too big, gone). A transient
        failure raises: the update is retried with back-off rather than stored without its file."""
        if file.size and file.size > DOWNLOAD_LIMIT:
            file.error = self.env._(
                "The customer sent %(name)s (%(size)s MB): bots cannot download files over 20 MB.",
                name=file.name,
                size=round(file.size / 1048576, 1),
            )
            return
        try:
            info = api.get_file(file.file_ref)
            file.data = api.download_file(info["file_path"])
        except TransientError:
            raise
        except ConnectorError as error:
            file.error = self.env._(
                "The file %(name)s could not be downloaded: %(error)s", name=file.name, error=error
            )

    def profile_photo(self, profile):
        try:
            return self.api().get_user_profile_photo(int(profile.external_id))
        except (ConnectorError, ValueError) as error:
            _logger.debug("channel %s: no profile photo: %s", self.channel.id, error)
            return None

    def send(self, message):
        if self.channel.state != "connected":
            raise ConnectorError(self.env._("Channel %(name)s is not connected.", name=self.channel.name))
        try:
            if message.kind == "answer":
                return self._answer(message)
            if message.kind in TOPIC_CALLS:
                return self._topic(message)
            if message.kind == "copy":
                return self._copy(message)
            return self.api().send(message, self._attachments(message))
        except RetryLater as error:
            # A 429 holds the whole bot in practice (TELEGRAM.md), whichever chat triggered it.
            raise RetryLater(str(error), error.retry_after, scope="channel") from None
        except ChatMigrated as error:
            # the operators' group became a supergroup: the queue sends there again, the channel relays there
            self.channel._telegram_group_migrated(message.chat_id, error.new_chat_id)
            raise
        except TransientError:
            raise
        except ConnectorError as error:
            if self.is_group_chat(message.chat_id) and message.chat_id == self.channel.telegram_group_chat_id:
                # the customers' messages matter more than the group's copy: the administrators see why
                self.channel._telegram_group_error(error)
            raise

    def _attachments(self, message):
        # sudo: the files of a message queued by a user who may send it
        return [
            (attachment.name, attachment.mimetype, attachment.raw)
            for attachment in self.env["ir.attachment"].sudo().browse(message.attachment_ids).exists()
        ]

    def _answer(self, message):
        try:
            self.api(timeout=5).answer_callback_query(message.callback_id)
        except (TransientError, RetryLater):
            raise
        except ConnectorError as error:
            # too late (Telegram forgets a button's press after a while): the spinner is gone already
            _logger.debug("channel %s: answerCallbackQuery: %s", self.channel.id, error)
        return ""

    def _topic(self, message):
        api = self.api()
        if message.kind == "topic_create":
            return api.create_forum_topic(message.chat_id, message.text)
        if not message.thread_id:
            raise ConnectorError(self.env._("The dialog's topic was never created."))
        if message.kind == "topic_rename":
            api.edit_forum_topic(message.chat_id, message.thread_id, message.text)
        elif message.kind == "topic_close":
            api.close_forum_topic(message.chat_id, message.thread_id)
        else:
            api.reopen_forum_topic(message.chat_id, message.thread_id)
        return message.thread_id

    def _copy(self, message):
        """copyMessage: the customer's media reach the group as sent, even a file too big for the bot to
        download. In a topic the copy keeps the customer's caption; elsewhere `text` (which names the
        customer) replaces it. Refused (the message is gone, the caption too long), the files the bot
        downloaded are sent with `text` instead."""
        try:
            return self.api().copy_message(
                message.chat_id,
                message.copy_from_chat_id,
                message.copy_message_id,
                message_thread_id=message.thread_id or None,
                caption="" if message.thread_id else message.text,
            )
        except (TransientError, RetryLater, ChatMigrated):
            raise
        except ConnectorError as error:
            attachments = self._attachments(message)
            if not attachments and not message.text:
                raise
            _logger.info("channel %s: copyMessage refused (%s), the files are sent", self.channel.id, error)
            files = OutboundMessage(chat_id=message.chat_id, text=message.text, thread_id=message.thread_id)
            return self.api().send(files, attachments)

    def paced(self, message):
        return message.kind != "answer"

    # --- the operators' group (a capability of this connector: relayed messages, a topic per dialog)

    def topic_name(self, code, who):
        """ "<dialog code> · <customer>", within Telegram's limit for a topic name."""
        return (f"{code} · {who}" if who else code)[:TOPIC_NAME_LIMIT]

    def group_relay(
        self, group_chat_id, text, named_text, files=(), copy_of=None, thread_id="", thread_from=0
    ):
        """The OutboundMessage relaying a customer's message into the operators' group: a copy of their
        Telegram message `copy_of` = (chat id, message id) when it came with files, else the text and
        `files`. In a topic (thread_id, or the topic row thread_from) the text is `text`; outside one, or when
        the topic could not be made, `named_text`, which names the customer."""
        in_topic = bool(thread_id or thread_from)
        values = {
            "chat_id": group_chat_id,
            "text": text if in_topic else named_text,
            "fallback_text": named_text,
            "attachment_ids": list(files),
            "thread_id": thread_id,
            "thread_from": thread_from,
        }
        if copy_of and (in_topic or len(named_text) <= CAPTION_LIMIT):
            values.update(kind="copy", copy_from_chat_id=str(copy_of[0]), copy_message_id=str(copy_of[1]))
        return OutboundMessage(**values)

    @contextmanager
    def working(self, chat_key):
        """ "typing..." in the customer's chat when the work on their update takes more than TYPING_AFTER
        seconds (a file to download, a slow handler); nothing for quick answers, which arrive first. Sent
        from a timer thread, outside the transaction: it is ephemeral, and a replayed one is harmless."""
        # sudo: the token is readable by system administrators only; read here, the thread has no ORM
        channel_sudo = self.channel.sudo()
        token = channel_sudo.telegram_token
        if not chat_key or str(chat_key).startswith("-") or not token:
            yield
            return
        api_url = channel_sudo.telegram_api_url or DEFAULT_API_URL
        channel_id = self.channel.id

        def typing():
            try:
                BotApi(token, api_url, timeout=5).send_chat_action(chat_key, "typing")
            except Exception as error:  # noqa: BLE001 - a hint for the customer must never break anything
                _logger.debug("channel %s: sendChatAction: %s", channel_id, error)

        timer = threading.Timer(TYPING_AFTER, typing)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def acknowledgement(self, event):
        """Every pressed button is answered, or the customer's Telegram keeps spinning."""
        if event.kind == "button" and event.callback_id:
            return OutboundMessage(chat_id=event.chat_id, kind="answer", callback_id=event.callback_id)
        return None

    def rate_limits(self):
        channel = self.channel
        per_second = 1000.0 if channel.telegram_paid_broadcast else channel.telegram_rate_limit or 30.0
        return RateLimits(per_second=per_second, per_chat_per_second=1.0, per_group_per_minute=20.0)

    def is_group_chat(self, chat_id):
        return str(chat_id).startswith("-")
