"""A small synchronous client of the Telegram Bot API, modelled on Odoo's ``sms/tools/sms_api.py``.

One ``requests.Session``, an explicit timeout on every call, and every failure mapped to the exceptions of
``chatbot_base.tools.connector`` so the outbound queue reacts the same way whatever the messenger:

* HTTP 429 (or any answer carrying ``parameters.retry_after``) -> :class:`RetryLater`;
* 400 with ``parameters.migrate_to_chat_id`` (a group became a supergroup) -> :class:`ChatMigrated`;
* 403 (blocked by the user, user deactivated, bot kicked) -> :class:`RecipientBlocked`;
* 401 (wrong or revoked token), other 4xx -> :class:`ConnectorError`, permanent;
* 5xx, connection errors, timeouts, an answer that is not the Bot API's JSON -> :class:`TransientError`.

Scope of a 429: ``"chat"`` when the call targeted a private chat (a positive ``chat_id``), ``"channel"``
otherwise. For a private chat the limit hit is almost always Telegram's one message per second per chat,
and the other customers of the bot must not wait for it (the outbound queue paces the 30/s overall limit
itself). In a group the limit hit is the 20 messages/minute one, and every relay of the channel goes into
its operators' group, so the whole channel pauses; a call without a chat (getUpdates, getFile...) can only
be limited bot-wide.

The bot token is a password: it appears in every URL, so it is never put in an exception message, a repr
or a log line (requests' own errors quote the URL: they are redacted, and re-raised without chaining so a
traceback cannot show the original). Logging is at DEBUG, without payloads.

python-telegram-bot's ``Bot`` is not used (asyncio only, see TELEGRAM.md): only its limits and keyboard
types.
"""

import html
import json
import logging
import time
import urllib.parse

import requests
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import (
    FileSizeLimit,
    ForumTopicLimit,
    InlineKeyboardButtonLimit,
    MediaGroupLimit,
    MessageLimit,
)

from .connector_types import connector as _connector

ChatMigrated = _connector.ChatMigrated
ConnectorError = _connector.ConnectorError
RecipientBlocked = _connector.RecipientBlocked
RetryLater = _connector.RetryLater
TransientError = _connector.TransientError

_logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org"
TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)
CALLBACK_DATA_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
PHOTO_UPLOAD_LIMIT = int(FileSizeLimit.PHOTOSIZE_UPLOAD)
MEDIA_GROUP_MAX = int(MediaGroupLimit.MAX_MEDIA_LENGTH)
TOPIC_NAME_LIMIT = int(ForumTopicLimit.MAX_NAME_LENGTH)
DOWNLOAD_LIMIT = 20 * 1024 * 1024
# sendPhoto re-encodes images: a GIF would lose its animation and SVG is refused, so both go as documents.
NOT_PHOTO_MIMETYPES = frozenset({"image/gif", "image/svg+xml"})
_SEPARATORS = ("\n\n", "\n", " ")


def split_text(text, limit=TEXT_LIMIT):
    """Split ``text`` into parts of at most ``limit`` characters, cutting at the last paragraph break, else
    line break, else space of each window (when it lies in the window's second half; else at any of them;
    else in the middle of a word). Parts that are only whitespace are dropped (Telegram refuses them)."""
    parts = []
    rest = text or ""
    while len(rest) > limit:
        cut, skip = _cut_position(rest, limit)
        parts.append(rest[:cut])
        rest = rest[cut + skip :]
    parts.append(rest)
    return [part for part in parts if part.strip()]


def _cut_position(text, limit):
    """(index, separator length) of the best cut of ``text`` at or before ``limit``."""
    found = [(text.rfind(sep, 0, limit + len(sep)), len(sep)) for sep in _SEPARATORS]
    for index, length in found:
        if index >= limit // 2:
            return index, length
    for index, length in found:
        if index > 0:
            return index, length
    return limit, 0


def escape_html(text):
    """Plain text from Odoo made safe for ``parse_mode=HTML``: only ``<``, ``>`` and ``&`` are special."""
    return html.escape(text, quote=False)


def retry_scope(chat_id):
    """The scope of a 429 for a call to ``chat_id``: "chat" for a private chat, else "channel" (see the
    module docstring for why)."""
    try:
        return "chat" if int(chat_id) > 0 else "channel"
    except (TypeError, ValueError):
        return "channel"


def is_photo(mimetype, data):
    """Whether an attachment goes as a photo (compressed, shown inline) rather than as a document."""
    mimetype = (mimetype or "").lower()
    return (
        mimetype.startswith("image/")
        and mimetype not in NOT_PHOTO_MIMETYPES
        and len(data or b"") <= PHOTO_UPLOAD_LIMIT
    )


def reply_markup(message):
    """The ``reply_markup`` of an OutboundMessage as a dict, or None; raises ConnectorError for a button
    Telegram would refuse (checked before any call, so nothing is sent half-way)."""
    if message.buttons and message.keyboard:
        raise ConnectorError(
            "Telegram: a message carries either inline buttons or a reply keyboard, not both"
        )
    if message.buttons:
        rows = [[_inline_button(button) for button in row] for row in message.buttons if row]
        return InlineKeyboardMarkup(rows).to_dict() if rows else None
    if message.keyboard:
        rows = [
            [
                KeyboardButton(button.label, request_contact=True if button.request_phone else None)
                for button in row
            ]
            for row in message.keyboard
            if row
        ]
        # one_time: the keyboard folds away once used (the customer can reopen it); resize: no giant buttons
        return (
            ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True).to_dict()
            if rows
            else None
        )
    if message.remove_keyboard:
        return ReplyKeyboardRemove().to_dict()
    return None


def _inline_button(button):
    if button.url:
        return InlineKeyboardButton(button.label, url=button.url)
    if not button.data:
        raise ConnectorError(f"Telegram: the button {button.label!r} has neither data nor a URL")
    size = len(button.data.encode("utf-8"))
    if size > CALLBACK_DATA_LIMIT:
        raise ConnectorError(
            f"Telegram: the data of the button {button.label!r} is {size} bytes long, above Telegram's "
            f"limit of {CALLBACK_DATA_LIMIT} bytes"
        )
    return InlineKeyboardButton(button.label, callback_data=button.data)


def _batches(items):
    """Media groups of at most 10 items: as few as possible, of balanced sizes (11 -> 6 + 5) so that no
    file is left alone (a group of one is refused; a lone file of its kind goes as a single message)."""
    if not items:
        return []
    count = -(-len(items) // MEDIA_GROUP_MAX)
    size = -(-len(items) // count)
    return [items[start : start + size] for start in range(0, len(items), size)]


def _form_fields(params):
    """Parameters of a multipart call: complex values JSON-encoded, booleans as Telegram spells them."""
    fields = {}
    for key, value in params.items():
        if isinstance(value, dict | list | tuple):
            fields[key] = json.dumps(value)
        elif isinstance(value, bool):
            fields[key] = "true" if value else "false"
        else:
            fields[key] = str(value)
    return fields


def _chat_ref(chat_id):
    """A chat id as Telegram takes it: an integer, or an ``@username`` string."""
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return chat_id


class BotApi:
    """A synchronous Bot API client for one bot token.

    ``base_url`` is configurable for a self-hosted Bot API server (which lifts the file size limits).
    One instance holds one ``requests.Session``: keep one per worker thread rather than sharing it.
    """

    def __init__(self, token, base_url=DEFAULT_BASE_URL, timeout=10, session=None):
        self._token = token or ""
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.session = session if session is not None else requests.Session()

    def __repr__(self):
        return f"<BotApi {self.base_url} bot {self.bot_id or '?'}>"

    @property
    def bot_id(self):
        """The bot's numeric id: the token's public part (getMe tells it to anyone), never the secret."""
        head, sep, _secret = self._token.partition(":")
        return head if sep and head.isdigit() else ""

    # --- transport

    def call(self, method, params=None, files=None, timeout=None):
        """POST ``method`` with ``params`` (JSON, or multipart with ``files`` = {field: (name, bytes,
        mimetype)}; None values are left out) and return Telegram's ``result``; raise a ConnectorError
        (or a subclass: RetryLater, RecipientBlocked, ChatMigrated, TransientError) on failure."""
        params = {key: value for key, value in (params or {}).items() if value is not None}
        timeout = self.timeout if timeout is None else timeout
        url = f"{self.base_url}/bot{self._token}/{method}"
        kwargs = {"data": _form_fields(params), "files": files} if files else {"json": params}
        started = time.monotonic()
        response = self._guarded(method, timeout, lambda: self.session.post(url, timeout=timeout, **kwargs))
        _logger.debug(
            "Telegram %s: HTTP %s in %.0f ms",
            method,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._result(method, response, params.get("chat_id"))

    def _guarded(self, what, timeout, function):
        """Run ``function`` (a request) and map requests' errors, with the token redacted. The new error is
        raised outside the ``except`` block so that it carries no ``__context__`` quoting the URL."""
        error = None
        try:
            return function()
        except requests.Timeout:
            error = TransientError(f"Telegram {what}: no answer within {timeout} s")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            error = TransientError(f"Telegram {what}: {self._redact(str(exc))}")
        except requests.RequestException as exc:
            error = ConnectorError(f"Telegram {what}: {self._redact(str(exc))}")
        _logger.debug("Telegram %s: %s", what, error.__class__.__name__)
        raise error

    def _redact(self, text):
        if not self._token:
            return text
        for variant in {self._token, urllib.parse.quote(self._token, safe="")}:
            text = text.replace(variant, "<token>")
        return text

    def _result(self, method, response, chat_id):
        status = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "ok" not in envelope:
            if not 400 <= status < 500:
                raise TransientError(
                    f"Telegram {method}: HTTP {status} with an answer that is not the Bot API's"
                )
            # a 4xx from a proxy in front of the API still means what its status says
            envelope = {"ok": False, "error_code": status, "description": f"HTTP {status} {response.reason}"}
        if envelope.get("ok") is True:
            return envelope.get("result")
        self._raise_error(method, status, envelope, chat_id, response.headers.get("Retry-After"))

    def _raise_error(self, method, status, envelope, chat_id, retry_header):
        code = envelope.get("error_code") if isinstance(envelope.get("error_code"), int) else status
        description = self._redact(str(envelope.get("description") or f"HTTP {status}"))
        parameters = envelope.get("parameters") if isinstance(envelope.get("parameters"), dict) else {}
        message = f"Telegram {method}: {description}"
        _logger.debug("Telegram %s: error %s", method, code)
        if code == 429 or parameters.get("retry_after") is not None:
            retry_after = parameters.get("retry_after") or retry_header or 1
            try:
                retry_after = float(retry_after)
            except (TypeError, ValueError):
                retry_after = 1.0
            raise RetryLater(message, retry_after, retry_scope(chat_id))
        if parameters.get("migrate_to_chat_id"):
            raise ChatMigrated(message, parameters["migrate_to_chat_id"])
        if code == 401:
            raise ConnectorError(
                f"Telegram {method}: the bot token is wrong or was revoked ({description}); "
                "copy it again from @BotFather"
            )
        if code == 403:
            raise RecipientBlocked(message)
        if code == 404:
            raise ConnectorError(f"{message} (unknown method, or a malformed bot token)")
        if code >= 500:
            raise TransientError(message)
        raise ConnectorError(message)

    # --- bot and updates

    def get_me(self):
        """The bot's own user (id, username...): the cheapest check that the token works."""
        return self.call("getMe")

    def set_webhook(self, url, secret_token, allowed_updates, max_connections, drop_pending_updates=False):
        """Point Telegram at ``url``; ``allowed_updates`` is always sent (omitted, the old filter stays)."""
        return self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": list(allowed_updates),
                "max_connections": int(max_connections),
                "drop_pending_updates": bool(drop_pending_updates),
            },
        )

    def delete_webhook(self, drop_pending_updates=False):
        """Remove the webhook (needed before getUpdates works)."""
        return self.call("deleteWebhook", {"drop_pending_updates": bool(drop_pending_updates)})

    def get_webhook_info(self):
        """url, pending_update_count, last_error_date, last_error_message: the webhook's health."""
        return self.call("getWebhookInfo")

    def get_updates(self, offset, timeout, allowed_updates, limit=100):
        """Long-poll for updates: Telegram holds the call up to ``timeout`` seconds, so the HTTP timeout
        is that plus the client's own."""
        params = {
            "offset": offset,
            "timeout": int(timeout),
            "allowed_updates": list(allowed_updates),
            "limit": int(limit),
        }
        return self.call("getUpdates", params, timeout=int(timeout) + self.timeout)

    # --- files

    def get_file(self, file_id):
        """getFile: file_id, file_size and the file_path to download (valid at least one hour)."""
        return self.call("getFile", {"file_id": file_id})

    def download_file(self, file_path, max_bytes=DOWNLOAD_LIMIT):
        """The bytes of a file returned by get_file, streamed; a ConnectorError above ``max_bytes``."""
        url = f"{self.base_url}/file/bot{self._token}/{file_path.lstrip('/')}"
        started = time.monotonic()
        data = self._guarded("file download", self.timeout, lambda: self._stream(url, max_bytes))
        _logger.debug(
            "Telegram file download: %s bytes in %.0f ms", len(data), (time.monotonic() - started) * 1000
        )
        return data

    def _stream(self, url, max_bytes):
        too_big = f"Telegram file download: the file is larger than the limit of {max_bytes} bytes"
        with self.session.get(url, stream=True, timeout=self.timeout) as response:
            status = response.status_code
            if status >= 500:
                raise TransientError(f"Telegram file download: HTTP {status}")
            if status != 200:
                raise ConnectorError(
                    f"Telegram file download: HTTP {status} (file not found or link expired)"
                )
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise ConnectorError(
                    f"Telegram file download: the file is {int(length)} bytes, "
                    f"above the limit of {max_bytes} bytes"
                )
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ConnectorError(too_big)
                chunks.append(chunk)
        return b"".join(chunks)

    def get_user_profile_photo(self, user_id):
        """The bytes of the largest size of the user's current profile photo, or None without one."""
        result = self.call("getUserProfilePhotos", {"user_id": int(user_id), "limit": 1}) or {}
        photos = result.get("photos") or []
        if not photos or not photos[0]:
            return None
        largest = max(
            photos[0],
            key=lambda size: (size.get("width", 0) * size.get("height", 0), size.get("file_size", 0)),
        )
        file_path = (self.get_file(largest["file_id"]) or {}).get("file_path")
        return self.download_file(file_path) if file_path else None

    # --- chat actions and topics

    def answer_callback_query(self, callback_query_id, text=None):
        """Stop the spinner of a pressed inline button (optionally with a short notice)."""
        return self.call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})

    def send_chat_action(self, chat_id, action="typing", message_thread_id=None):
        """Show "typing..." (or another action) for about five seconds."""
        params = {"chat_id": _chat_ref(chat_id), "action": action}
        if message_thread_id:
            params["message_thread_id"] = int(message_thread_id)
        return self.call("sendChatAction", params)

    def create_forum_topic(self, chat_id, name):
        """Create a topic in a forum supergroup; return its message_thread_id (str)."""
        result = self.call(
            "createForumTopic", {"chat_id": _chat_ref(chat_id), "name": name[:TOPIC_NAME_LIMIT]}
        )
        return str(result["message_thread_id"])

    def edit_forum_topic(self, chat_id, message_thread_id, name):
        """Rename a topic; False when it already had that name (TOPIC_NOT_MODIFIED is not an error here)."""
        params = {
            "chat_id": _chat_ref(chat_id),
            "message_thread_id": int(message_thread_id),
            "name": name[:TOPIC_NAME_LIMIT],
        }
        return self._topic_call("editForumTopic", params)

    def close_forum_topic(self, chat_id, message_thread_id):
        """Close a topic; False when it was already closed."""
        return self._topic_call(
            "closeForumTopic", {"chat_id": _chat_ref(chat_id), "message_thread_id": int(message_thread_id)}
        )

    def reopen_forum_topic(self, chat_id, message_thread_id):
        """Reopen a topic; False when it was already open."""
        return self._topic_call(
            "reopenForumTopic", {"chat_id": _chat_ref(chat_id), "message_thread_id": int(message_thread_id)}
        )

    def _topic_call(self, method, params):
        # The topic follows the conversation's state: being there already is success, not a failure.
        try:
            return bool(self.call(method, params))
        except ConnectorError as exc:
            if type(exc) is ConnectorError and "TOPIC_NOT_MODIFIED" in str(exc):
                return False
            raise

    def copy_message(self, chat_id, from_chat_id, message_id, message_thread_id=None, caption=""):
        """Relay a message (media included, no download) to another chat, `caption` (plain text) replacing
        its caption when given; return the copy's id (str)."""
        params = {
            "chat_id": _chat_ref(chat_id),
            "from_chat_id": _chat_ref(from_chat_id),
            "message_id": int(message_id),
        }
        if message_thread_id:
            params["message_thread_id"] = int(message_thread_id)
        if caption:
            params.update(caption=escape_html(caption), parse_mode="HTML")
        return str(self.call("copyMessage", params)["message_id"])

    # --- sending

    def send(self, message, attachments=()):
        """Send one OutboundMessage; ``attachments`` are its files as ``(filename, mimetype, bytes)``.

        Return the Telegram message_id (str) of the last message sent. Text goes as HTML-escaped plain text,
        split above 4096 characters (the keyboard on the last part). One file: sendPhoto (images up to 10
        MB) or sendDocument, the text as its caption when it fits in 1024 characters, else as a message
        before it. Several files: images in media groups, other files in others (Telegram refuses mixed
        albums), 2-10 per group; a keyboard cannot ride on a group, so it goes on a separate message.
        Everything is checked before the first call."""
        markup = reply_markup(message)
        if message.edit_message_id:
            return self._edit(message, markup, attachments)
        steps = self._plan(message.text or "", list(attachments), markup)
        common = {"chat_id": _chat_ref(message.chat_id)}
        if message.thread_id:
            common["message_thread_id"] = int(message.thread_id)
        last_id = ""
        for index, (method, params, files) in enumerate(steps):
            params = {**common, **params}
            if index == 0 and message.reply_to_message_id:
                # the original may have been deleted meanwhile: send anyway rather than fail
                params["reply_parameters"] = {
                    "message_id": int(message.reply_to_message_id),
                    "allow_sending_without_reply": True,
                }
            result = self.call(method, params, files)
            sent = result[-1] if isinstance(result, list) and result else result
            if not isinstance(sent, dict) or "message_id" not in sent:
                raise ConnectorError(f"Telegram {method}: the answer names no message")
            last_id = str(sent["message_id"])
        return last_id

    def _edit(self, message, markup, attachments):
        if attachments or (markup is not None and "inline_keyboard" not in markup):
            raise ConnectorError("Telegram: editing a message changes only its text and inline buttons")
        text = message.text or ""
        if not text.strip():
            raise ConnectorError("Telegram: an edited message needs a text")
        if len(text) > TEXT_LIMIT:
            raise ConnectorError(f"Telegram: an edited text cannot exceed {TEXT_LIMIT} characters")
        params = {
            "chat_id": _chat_ref(message.chat_id),
            "message_id": int(message.edit_message_id),
            "text": escape_html(text),
            "parse_mode": "HTML",
            "reply_markup": markup,
        }
        try:
            self.call("editMessageText", params)
        except ConnectorError as exc:
            # the message already shows this content: the edit has nothing left to do
            if type(exc) is not ConnectorError or "message is not modified" not in str(exc):
                raise
        return str(message.edit_message_id)

    def _plan(self, text, attachments, markup):
        """The calls that send a message, as (method, params, files), the markup on the right one."""
        files = [
            (name or "file", mimetype or "application/octet-stream", data)
            for name, mimetype, data in attachments
        ]
        if not files:
            steps = self._text_steps(text)
            if not steps:
                raise ConnectorError("Telegram: nothing to send (no text and no file)")
        elif len(files) == 1:
            caption = text if len(text) <= CAPTION_LIMIT else ""
            steps = [] if caption else self._text_steps(text)
            steps.append(self._file_step(files[0], caption))
        else:
            batches = _batches([f for f in files if is_photo(f[1], f[2])])
            batches += _batches([f for f in files if not is_photo(f[1], f[2])])
            if markup is not None:
                steps = [self._batch_step(batch, "") for batch in batches]
                if text.strip():
                    steps += self._text_steps(text)
                elif len(batches[-1]) > 1:
                    # no text to carry the keyboard: the last file goes alone, with it
                    last_batch = batches[-1]
                    steps[-1:] = [self._batch_step(last_batch[:-1], ""), self._file_step(last_batch[-1], "")]
            elif len(text) <= CAPTION_LIMIT:
                steps = [
                    self._batch_step(batch, text if index == 0 else "") for index, batch in enumerate(batches)
                ]
            else:
                steps = self._text_steps(text) + [self._batch_step(batch, "") for batch in batches]
        if markup is not None:
            steps[-1][1]["reply_markup"] = markup
        return steps

    @staticmethod
    def _text_steps(text):
        return [
            ("sendMessage", {"text": escape_html(part), "parse_mode": "HTML"}, None)
            for part in split_text(text)
        ]

    @staticmethod
    def _file_step(file, caption):
        name, mimetype, data = file
        kind = "photo" if is_photo(mimetype, data) else "document"
        params = {"caption": escape_html(caption), "parse_mode": "HTML"} if caption.strip() else {}
        return ("sendPhoto" if kind == "photo" else "sendDocument", params, {kind: (name, data, mimetype)})

    def _batch_step(self, batch, caption):
        if len(batch) == 1:
            return self._file_step(batch[0], caption)
        media, upload = [], {}
        for index, (name, mimetype, data) in enumerate(batch):
            item = {
                "type": "photo" if is_photo(mimetype, data) else "document",
                "media": f"attach://file{index}",
            }
            if index == 0 and caption.strip():
                item.update(caption=escape_html(caption), parse_mode="HTML")
            media.append(item)
            upload[f"file{index}"] = (name, data, mimetype)
        return ("sendMediaGroup", {"media": media}, upload)
