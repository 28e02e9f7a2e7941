"""A fake Telegram Bot API server for tests and local development (standard library only).

It speaks the Bot API's HTTP protocol on 127.0.0.1: ``POST|GET {base_url}/bot<token>/<method>`` with the
parameters as a JSON body, as a urlencoded form or as multipart/form-data (uploads), and answers with
Telegram's envelopes (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description":
"...", "parameters": {...}}``, HTTP status = error_code). It copies the behaviour listed in
``/work/shared/TELEGRAM.md``: text/caption/callback_data limits, HTML entity parsing (a port of TDLib's
parser, so error descriptions are Telegram's), rate limits with ``retry_after``, webhook delivery with the
secret header and resends, getUpdates long polling with offsets, files, forum topics.

In-process use (tests)::

    from fake_telegram import FakeTelegram, make_message_update

    with FakeTelegram(retry_delay=0.05) as server:          # binds 127.0.0.1 on a free port
        server.add_bot("123456:ABC-token", username="demo_bot")
        api = f"{server.base_url}/bot123456:ABC-token"     # point the code under test here
        ...                                                  # the code under test calls sendMessage
        assert server.sent_messages(chat_id=42)[0]["text"] == "Hello"
        server.push_update("123456:ABC-token", server.make_message_update(42, "/start"))
        server.fail_next("sendMessage", chat_id=42, kind="blocked")     # next send to 42: 403
        server.block_chat(43)                                            # every send to 43: 403

Command line (point a local Odoo at it)::

    python chatbot_telegram/tests/fake_telegram --port 8081 [--global-rate 30] [--token 123456:ABC]

It prints its base URL and runs until Ctrl-C. Without ``--token`` any well-formed token is accepted.
Control endpoints let a developer inject updates: ``POST /_fake/bot<token>/pushUpdate`` (body: an update),
``POST /_fake/bot<token>/pushMessage`` (body: ``{"chat_id": 42, "text": "hi"}``),
``POST /_fake/bot<token>/pushCallback`` (body: ``{"chat_id": 42, "data": "x", "message_id": 7}``),
``GET /_fake/calls``, ``GET /_fake/sent[?chat_id=42]``, ``POST /_fake/reset``.

Deliberate differences from Telegram (documented so nobody is surprised):

* webhook URLs may be plain ``http://`` on any port (``require_https=True`` enforces Telegram's rule);
* with ``strict_html=True`` (default) a bare ``&`` in HTML text is refused, as the Bot API documentation
  requires, although TDLib itself lets it through;
* with ``strict=False`` (default) references to things the fake has never seen (callback query ids,
  messages to copy/edit/reply to, file ids, chats, users) are accepted; ``strict=True`` answers them the way
  Telegram does ("query is too old ...", "message to copy not found", "chat not found", ...);
* messages report ``reply_markup`` only for inline keyboards, like Telegram; ``Call.params`` keeps what
  the client sent.
"""

# pylint: disable=except-pass,missing-return

import argparse
import copy
import http.client
import itertools
import json
import math
import mimetypes
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Call",
    "Delivery",
    "FakeTelegram",
    "HtmlParseError",
    "UploadedFile",
    "default_user",
    "make_callback_update",
    "make_contact_update",
    "make_message_update",
    "make_my_chat_member_update",
    "parse_html",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024
MEDIA_GROUP_MIN = 2
MEDIA_GROUP_MAX = 10
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
DEFAULT_USER_ID = 100001
FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

#: Methods that send messages: they count against the rate limits and are what ``fail_next(method=None)``
#: and ``block_chat`` act on.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage"})
CHAT_STATE_METHODS = SEND_METHODS | {"sendChatAction", "editMessageText"}
NOOP_METHODS = tuple(
    [
        "deleteMyCommands",
        "setMyName",
        "setMyDescription",
        "setMyShortDescription",
        "setChatMenuButton",
        "pinChatMessage",
        "unpinChatMessage",
        "leaveChat",
        "setMessageReaction",
    ]
)
API_METHODS = (
    *[
        "getMe",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "getUpdates",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "editMessageText",
        "deleteMessage",
        "answerCallbackQuery",
        "sendChatAction",
        "getFile",
        "getUserProfilePhotos",
        "getChat",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
        "setMyCommands",
        "getMyCommands",
    ],
    *NOOP_METHODS,
)
_METHOD_NAMES = {name.lower(): name for name in API_METHODS}

CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "record_audio",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
        "cancel",
    ]
)
UPDATE_TYPES_OFF_BY_DEFAULT = frozenset(["chat_member", "message_reaction", "message_reaction_count"])
MESSAGE_UPDATE_TYPES = tuple(
    ["message", "edited_message", "channel_post", "edited_channel_post", "business_message"]
)
SERVICE_MESSAGE_KEYS = frozenset(
    [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "group_chat_created",
        "supergroup_chat_created",
        "pinned_message",
    ]
)
COPYABLE_KEYS = tuple(
    [
        "text",
        "entities",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "video_note",
        "animation",
        "sticker",
        "contact",
        "location",
        "venue",
        "caption",
        "caption_entities",
    ]
)
JSON_FIELDS = frozenset(
    [
        "reply_markup",
        "media",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "menu_button",
        "reaction",
    ]
)
INT_FIELDS = frozenset(
    [
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "user_id",
        "icon_color",
        "reply_to_message_id",
        "cache_time",
    ]
)
BOOL_FIELDS = frozenset(
    [
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    ]
)
INLINE_BUTTON_ACTIONS = tuple(
    [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ]
)
SETTINGS = tuple(
    [
        "global_rate",
        "global_window",
        "chat_rate",
        "chat_window",
        "chat_burst",
        "group_rate",
        "group_window",
        "paid_rate",
        "rate_tolerance",
        "rate_limits",
        "enforce_retry_after",
        "retry_delay",
        "delivery_timeout",
        "max_delivery_attempts",
        "delivery_threads",
        "strict",
        "strict_html",
        "require_https",
        "auto_register_bots",
        "verbose",
    ]
)
_RATE_SETTINGS = frozenset(SETTINGS[:10])

_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)


# ----------------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


class _Record:
    """Attribute access plus dict-style access (``call["method"]``, ``call.get("status")``)."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class Call(_Record):
    """One API call as the fake received and answered it."""

    token: str
    method: str
    params: dict
    files: dict
    time: float
    status: int | None = None
    response: dict | None = None
    http_method: str = "POST"
    source: str = "http"
    hung: bool = False

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def as_dict(self) -> dict:
        return {
            "token": self.token,
            "method": self.method,
            "params": self.params,
            "files": {
                name: {
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                }
                for name, f in self.files.items()
            },
            "time": self.time,
            "status": self.status,
            "response": self.response,
            "http_method": self.http_method,
            "source": self.source,
            "hung": self.hung,
        }


@dataclass
class Delivery(_Record):
    """One attempt to POST an update to a webhook."""

    token: str
    update_id: int
    chat_id: Any
    attempt: int
    url: str
    status: int | None
    error: str | None
    time: float
    duration: float
    secret_token: str | None
    gave_up: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict:
        return _error(self.code, self.description, self.parameters)


@dataclass
class _Ok:
    result: Any
    description: str | None = None


@dataclass
class _Hang:
    seconds: float | None


@dataclass
class _File:
    token: str
    file_id: str
    file_unique_id: str
    content: bytes | None
    file_size: int
    file_path: str
    kind: str = "document"
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    photo_sizes: list | None = None

    def photo_size(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class _Chat:
    id: int
    info: dict
    is_forum: bool = False
    topics: dict = field(default_factory=dict)
    known: bool = True


@dataclass
class _Entry:
    update: dict
    update_id: int
    chat_key: Any
    attempts: int = 0
    next_attempt: float = 0.0
    in_flight: bool = False
    dropped: bool = False


@dataclass
class _Failure:
    method: str | None
    chat_id: Any
    kind: str
    remaining: int | None
    options: dict


@dataclass
class _Bot:
    token: str
    id: int
    username: str
    first_name: str
    next_update_id: int = 1
    pending: list = field(default_factory=list)
    webhook_url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    workers: list = field(default_factory=list)
    poll_gen: int = 0
    poll_conflict: str = ""
    global_log: deque = field(default_factory=deque)
    chat_buckets: dict = field(default_factory=dict)
    group_logs: dict = field(default_factory=dict)
    flood_until: dict = field(default_factory=dict)
    commands: list = field(default_factory=list)

    @property
    def user(self) -> dict:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


def _error(code: int, description: str, parameters: dict | None = None) -> dict:
    envelope = {"ok": False, "error_code": code, "description": description}
    if parameters:
        envelope["parameters"] = parameters
    return envelope


# ----------------------------------------------------------------------------------------------------
# HTML entities: a port of TDLib's parse_html (td/telegram/MessageEntity.cpp), same error descriptions
# ----------------------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    ]
)
_SPACE = frozenset(b" \t\r\n\0\v")
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_HEX = frozenset(b"0123456789abcdefABCDEF")


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html` with TDLib's description of the problem."""


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == 0x23:  # '#': numeric character reference
        end += 1
        if at(pos + 2) == 0x78:  # 'x'
            end += 1
            while at(end) in _HEX:
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 0x30 <= at(end) <= 0x39:
                code = code * 10 + at(end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while 0x41 <= at(end) <= 0x5A or 0x61 <= at(end) <= 0x7A:
            end += 1
        code = _NAMED_ENTITIES.get(data[pos + 1 : end], 0)
        if not code:
            return 0, pos
    if at(end) == 0x3B:  # ';'
        end += 1
    return code, end


def _is_name_char(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c in (0x2E, 0x2D)


def _close_html_entity(
    entities: list,
    tag: str,
    argument: str,
    offset: int,
    length: int,
    out: bytearray,
    out_pos: int,
) -> None:
    simple = {
        "i": "italic",
        "em": "italic",
        "b": "bold",
        "strong": "bold",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "blockquote": "blockquote",
    }
    if tag in simple:
        entities.append({"type": simple[tag], "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = argument or out[out_pos:].decode("utf-8", "replace")
        match = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if match:
            entity = {"type": "text_mention", "offset": offset, "length": length}
            entity["user"] = {
                "id": int(match.group(1)),
                "is_bot": False,
                "first_name": "",
            }
            entities.append(entity)
        elif url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("_language")
        ):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and argument
        ):
            last["language"] = argument
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["_language"] = argument
            entities.append(entity)


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` (offsets in UTF-16 code units).

    Raises :class:`HtmlParseError` with TDLib's description ("Unsupported start tag \\"p\\" at byte offset 0",
    "Can't find end tag corresponding to start tag b", ...). With ``strict_ampersand`` a ``&`` that starts
    no entity is refused too (the documented rule; TDLib itself keeps it as a literal).
    """
    data = text.encode("utf-8", "surrogatepass")
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    out = bytearray()
    entities: list[dict] = []
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    i = 0
    while i < size:
        c = data[i]
        if c == 0x26:
            code, new_pos = _decode_html_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                i = new_pos
                continue
            if strict_ampersand:
                raise HtmlParseError(f'Character "&" must be escaped as "&amp;" at byte offset {i}')
        if c != 0x3C:
            if (c & 0xC0) != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != 0x2F:  # start tag
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != 0x3E:
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) != 0x3D:
                    i += 1
                attribute = data[attr_begin:i].decode("utf-8", "replace")
                if not attribute:
                    raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) != 0x3D:
                    raise HtmlParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {begin}"
                    )
                i += 1
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (0x22, 0x27):
                    token_begin = i
                    while _is_name_char(at(i)):
                        i += 1
                    value = data[token_begin:i].decode("utf-8", "replace").lower()
                    if at(i) not in _SPACE and at(i) != 0x3E:
                        raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            code, new_pos = _decode_html_entity(data, i)
                            if code:
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                i = new_pos
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if at(i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1
        else:  # end tag
            if not nested:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
            while at(i) != 0 and at(i) in _SPACE:
                i += 1
            if at(i) != 0x3E:
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, out_pos = nested[-1]
            if end_tag and end_tag != tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
                )
            if utf16 > offset:
                _close_html_entity(entities, tag, argument, offset, utf16 - offset, out, out_pos)
            nested.pop()
            i += 1
    if nested:
        raise HtmlParseError(f"Can't find end tag corresponding to start tag {nested[-1][0]}")
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    try:
        plain = out.decode("utf-8")
    except UnicodeDecodeError:
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
            "surrogate code units"
        ) from None
    return plain, entities


# ----------------------------------------------------------------------------------------------------
# Update builders
# ----------------------------------------------------------------------------------------------------


def default_user(user_id: int = DEFAULT_USER_ID, **overrides: Any) -> dict:
    """A realistic private user: id, is_bot, first_name, last_name, username, language_code."""
    user = {
        "id": user_id,
        "is_bot": False,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": f"ada_{user_id}",
        "language_code": "en",
    }
    user.update(overrides)
    return user


def _default_bot_user() -> dict:
    return {"id": 123456, "is_bot": True, "first_name": "Demo", "username": "demo_bot"}


def _chat_info(chat_id: int, user: dict | None = None) -> dict:
    if chat_id > 0:
        user = user or default_user(chat_id)
        info = {"id": chat_id}
        for key in ("first_name", "last_name", "username"):
            if user.get(key):
                info[key] = user[key]
        info.setdefault("first_name", f"User {chat_id}")
        info["type"] = "private"
        return info
    if chat_id <= -1000000000000:
        return {"id": chat_id, "title": f"Supergroup {-chat_id}", "type": "supergroup"}
    return {"id": chat_id, "title": f"Group {-chat_id}", "type": "group"}


def _user_for(chat_id: int, user: dict | None) -> dict:
    if user is not None:
        return dict(user)
    return default_user(chat_id if chat_id > 0 else DEFAULT_USER_ID)


def make_message_update(
    chat_id: int,
    text: str | None,
    user: dict | None = None,
    *,
    message_id: int | None = None,
    chat: dict | None = None,
    **extra: Any,
) -> dict:
    """An update with a ``message`` from ``user`` (default: a private user) in ``chat_id``.

    A text starting with ``/`` gets a ``bot_command`` entity; ``extra`` keys go into the message
    (``photo=[...]``, ``reply_to_message={...}``, ``message_thread_id=5``, ``is_topic_message=True`` ...).
    Pass ``text=None`` for a message without text. ``update_id`` is assigned by ``push_update``.
    """
    user = _user_for(chat_id, user)
    message = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "from": user,
        "chat": dict(chat) if chat else _chat_info(chat_id, user),
        "date": int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
    message.update(extra)
    return {"message": message}


def make_callback_update(
    chat_id: int,
    data: str,
    message_id: int,
    user: dict | None = None,
    *,
    message: dict | None = None,
    callback_id: str | None = None,
) -> dict:
    """An update with a ``callback_query`` (a pressed inline button of the bot's message ``message_id``)."""
    user = _user_for(chat_id, user)
    if message is None:
        message = {
            "message_id": message_id,
            "from": _default_bot_user(),
            "chat": _chat_info(chat_id, user),
            "date": int(time.time()),
            "text": "...",
        }
    return {
        "callback_query": {
            "id": callback_id or f"{4382000000000000000 + next(_callback_ids)}",
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(-(abs(chat_id) * 7919 % 10**18) - 1),
            "data": data,
        }
    }


def make_my_chat_member_update(
    chat_id: int, status: str, user: dict | None = None, *, bot: dict | None = None
) -> dict:
    """An update with ``my_chat_member``: in a private chat 'kicked' = the user blocked the bot, 'member' =
    unblocked (or added to a group)."""
    user = _user_for(chat_id, user)
    bot = dict(bot) if bot else _default_bot_user()
    old_status = "member" if status == "kicked" else ("kicked" if chat_id > 0 else "left")
    new_member = {"user": bot, "status": status}
    if status == "kicked":
        new_member["until_date"] = 0
    return {
        "my_chat_member": {
            "chat": _chat_info(chat_id, user),
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": old_status},
            "new_chat_member": new_member,
        }
    }


def make_contact_update(
    chat_id: int,
    phone_number: str,
    user: dict | None = None,
    *,
    message_id: int | None = None,
    own: bool = True,
) -> dict:
    """An update with a message carrying a ``contact`` (``own``: the user shares their own number)."""
    user = _user_for(chat_id, user)
    contact = {"phone_number": phone_number, "first_name": user.get("first_name", "")}
    if user.get("last_name"):
        contact["last_name"] = user["last_name"]
    if own:
        contact["user_id"] = user["id"]
    return make_message_update(chat_id, None, user, message_id=message_id, contact=contact)


def _update_type(update: dict) -> str | None:
    for key in update:
        if key != "update_id":
            return key
    return None


def _update_chat_key(update: dict) -> Any:
    kind = _update_type(update)
    body = update.get(kind) if kind else None
    if not isinstance(body, dict):
        return None
    chat = body.get("chat")
    if chat is None and isinstance(body.get("message"), dict):
        chat = body["message"].get("chat")
    if isinstance(chat, dict) and "id" in chat:
        return chat["id"]
    user = body.get("from")
    if isinstance(user, dict) and "id" in user:
        return user["id"]
    return None


def _without_reply(message: dict) -> dict:
    message = copy.deepcopy(message)
    message.pop("reply_to_message", None)
    return message


# ----------------------------------------------------------------------------------------------------
# Request decoding
# ----------------------------------------------------------------------------------------------------


def _parse_header_params(value: str) -> tuple[str, dict]:
    main, _, rest = value.partition(";")
    params = {}
    for match in re.finditer(r'([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', rest):
        key, val = match.group(1).lower(), match.group(2).strip()
        if val.startswith('"') and val.endswith('"') and len(val) >= 2:
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        if key.endswith("*") and "''" in val:
            key = key[:-1]
            val = urllib.parse.unquote(val.split("''", 1)[1])
        params[key] = val
    return main.strip().lower(), params


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict, dict]:
    _, ct_params = _parse_header_params(content_type)
    boundary = ct_params.get("boundary")
    if not boundary:
        raise _ApiError(400, "Bad Request: can't parse multipart/form-data: no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    body = b"\r\n" + body
    for chunk in body.split(b"\r\n" + delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        _, _, chunk = chunk.partition(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        _, disposition = _parse_header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            ctype = headers.get("content-type", "application/octet-stream")
            files[name] = UploadedFile(disposition["filename"], ctype, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _normalize_params(params: dict) -> dict:
    for key, value in list(params.items()):
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
        elif key in INT_FIELDS and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            params[key] = int(value)
        elif key in BOOL_FIELDS and isinstance(value, str):
            params[key] = value.strip().lower() in ("true", "1", "yes")
    return params


def _to_int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # Telegram follows no redirect: a 3xx is a failed delivery


_WEBHOOK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


# ----------------------------------------------------------------------------------------------------
# HTTP plumbing
# ----------------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: "FakeTelegram"):
        self.fake = fake
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.18.0"
    sys_version = ""
    timeout = 120
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            sys.stderr.write(f"fake_telegram: {self.address_string()} {format % args}\n")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, verb: str) -> None:
        fake: FakeTelegram = self.server.fake
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        reply = fake._handle_http(verb, self.path, self.headers, body)
        if isinstance(reply, _Hang):
            fake._hang(reply.seconds)
            self.close_connection = True
            return
        status, content_type, payload = reply
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


def _json_reply(status: int, envelope: Any) -> tuple[int, str, bytes]:
    return (
        status,
        "application/json",
        json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
    )


# ----------------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Bot API server: see the module docstring. All state is behind one lock; thread-safe.

    Rates are "``*_rate`` messages per ``*_window`` seconds": global per bot, per chat (token bucket with
    ``chat_burst`` capacity), per group chat (negative ids). ``rate_tolerance`` (a fraction of the window,
    resp. of one token) absorbs network jitter, so a client pacing itself at exactly the limit passes while
    one 10 % faster is refused. A refused send is answered 429 with ``retry_after`` (whole seconds, >= 1);
    with ``enforce_retry_after`` every send in that scope (bot, or bot+chat) is refused until it passes.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        global_rate: float = 30,
        global_window: float = 1.0,
        chat_rate: float = 1,
        chat_window: float = 1.0,
        chat_burst: int = 3,
        group_rate: float = 20,
        group_window: float = 60.0,
        paid_rate: float = 1000,
        rate_tolerance: float = 0.05,
        rate_limits: bool = True,
        enforce_retry_after: bool = True,
        retry_delay: float = 0.2,
        delivery_timeout: float = 10.0,
        max_delivery_attempts: int = 5,
        delivery_threads: int = 4,
        strict: bool = False,
        strict_html: bool = True,
        require_https: bool = False,
        auto_register_bots: bool = False,
        verbose: bool = False,
    ):
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._bots: dict[str, _Bot] = {}
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._message_seq: dict[int, int] = {}
        self._files: dict[str, _File] = {}
        self._file_paths: dict[tuple[str, str], str] = {}
        self._file_seq = 0
        self._profile_photos: dict[tuple[str, int], list] = {}
        self._callbacks: dict[str, dict] = {}
        self._calls: list[Call] = []
        self._deliveries: list[Delivery] = []
        self._sent: list[tuple[str, dict]] = []
        self._failures: list[_Failure] = []
        self._blocked: dict[tuple[str | None, int], str | None] = {}
        self._migrated: dict[int, int] = {}
        self._media_group_seq = itertools.count(13700000000000000)
        self.global_rate = global_rate
        self.global_window = global_window
        self.chat_rate = chat_rate
        self.chat_window = chat_window
        self.chat_burst = chat_burst
        self.group_rate = group_rate
        self.group_window = group_window
        self.paid_rate = paid_rate
        self.rate_tolerance = rate_tolerance
        self.rate_limits = rate_limits
        self.enforce_retry_after = enforce_retry_after
        self.retry_delay = retry_delay
        self.delivery_timeout = delivery_timeout
        self.max_delivery_attempts = max_delivery_attempts
        self.delivery_threads = delivery_threads
        self.strict = strict
        self.strict_html = strict_html
        self.require_https = require_https
        self.auto_register_bots = auto_register_bots
        self.verbose = verbose

    # --- lifecycle

    def start(self) -> "FakeTelegram":
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeTelegram already started")
        self._stop_event.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down quickly: wakes long polls and delivery threads, releases hanging requests."""
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def api_url(self, token: str) -> str:
        return f"{self.base_url}/bot{token}"

    def file_url(self, token: str, file_path: str) -> str:
        return f"{self.base_url}/file/bot{token}/{file_path}"

    def configure(self, **settings: Any) -> None:
        """Change settings at run time (any constructor keyword but host/port). Changing a rate setting
        clears the rate-limit windows and flood waits."""
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        with self._cond:
            for key, value in settings.items():
                setattr(self, key, value)
            if _RATE_SETTINGS & set(settings):
                self._clear_rate_state()
            self._cond.notify_all()

    # --- world setup

    def add_bot(
        self,
        token: str,
        username: str = "demo_bot",
        first_name: str = "Demo",
        *,
        first_update_id: int = 1,
    ) -> dict:
        """Register a bot token (``<digits>:<secret>``); returns its getMe result."""
        match = TOKEN_RE.match(token)
        if not match:
            raise ValueError(f"not a bot token: {token!r} (expected '123456:ABC...')")
        with self._cond:
            bot = _Bot(
                token=token,
                id=int(match.group(1)),
                username=username,
                first_name=first_name,
            )
            bot.next_update_id = first_update_id
            self._bots[token] = bot
            return self._get_me(bot)

    def add_chat(
        self,
        chat_id: int,
        type: str | None = None,
        *,
        title: str | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict:
        """Register a chat (needed for forums: ``add_chat(-100123, type='supergroup', is_forum=True)``)."""
        chat_id = int(chat_id)
        info = _chat_info(chat_id)
        if type is not None:
            info["type"] = type
        if info["type"] == "private":
            info.pop("title", None)
            info["first_name"] = first_name or info.get("first_name") or f"User {chat_id}"
            if last_name:
                info["last_name"] = last_name
        else:
            for key in ("first_name", "last_name"):
                info.pop(key, None)
            info["title"] = title or info.get("title") or f"Chat {chat_id}"
        if username:
            info["username"] = username
        if is_forum:
            info["type"] = "supergroup"
            info["is_forum"] = True
        with self._cond:
            self._chats[chat_id] = _Chat(id=chat_id, info=info, is_forum=is_forum)
            return copy.deepcopy(info)

    def add_file(
        self,
        token: str,
        content: bytes,
        file_path: str | None = None,
        file_size: int | None = None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> str:
        """Register a downloadable file for ``token``; returns its file_id (``file_size`` overrides the
        reported size, e.g. to simulate a 30 MB file)."""
        with self._cond:
            self._require_bot(token)
            f = self._register_file(token, content, "document", file_name=file_name, mime_type=mime_type)
            if file_path:
                self._file_paths.pop((token, f.file_path), None)
                f.file_path = file_path
                self._file_paths[(token, file_path)] = f.file_id
            if file_size is not None:
                f.file_size = file_size
            return f.file_id

    def set_profile_photos(self, token: str, user_id: int, photos: list[bytes]) -> list[str]:
        """Give ``user_id`` profile photos (as seen by ``token``); returns the file_id of each photo's
        largest size."""
        with self._cond:
            self._require_bot(token)
            result = []
            entries = []
            for content in photos:
                sizes = self._register_photo(token, content, sizes=((160, 160), (320, 320), (640, 640)))
                entries.append(sizes)
                result.append(sizes[-1]["file_id"])
            self._profile_photos[(token, int(user_id))] = entries
            self._users.setdefault(int(user_id), default_user(int(user_id)))
            return result

    # --- records

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def calls_for(self, method: str, chat_id: Any = None, *, token: str | None = None) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), optionally to ``chat_id`` / from ``token``."""
        with self._lock:
            return [
                c
                for c in self._calls
                if c.method.lower() == method.lower()
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
                and (token is None or c.token == token)
            ]

    def sent_messages(self, chat_id: Any = None, *, token: str | None = None) -> list[dict]:
        """Messages successfully sent by bots (sendMessage/Photo/Document/MediaGroup, copyMessage), in order,
        as Telegram returned them (for copyMessage: the full copy)."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for t, m in self._sent
                if (chat_id is None or str(m["chat"]["id"]) == str(chat_id)) and (token is None or t == token)
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        """The current state of a message known to the fake (sent, pushed, edited), or None."""
        with self._lock:
            message = self._messages.get((int(chat_id), int(message_id)))
            return copy.deepcopy(message) if message else None

    def topics(self, chat_id: int) -> dict[int, dict]:
        """Forum topics of a registered chat: ``{message_thread_id: {name, icon_color, closed, ...}}``."""
        with self._lock:
            chat = self._chats.get(int(chat_id))
            return copy.deepcopy(chat.topics) if chat else {}

    def pending_updates(self, token: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e.update) for e in self._require_bot(token).pending]

    def webhook_info(self, token: str) -> dict:
        with self._lock:
            return self._webhook_info(self._require_bot(token))

    def reset(self) -> None:
        """Forget recorded calls, deliveries and sent messages; drop failure rules, blocked/migrated chats and
        rate-limit state. Bots, chats, files, known messages, webhooks and pending updates stay."""
        with self._cond:
            self._calls.clear()
            self._deliveries.clear()
            self._sent.clear()
            self._failures.clear()
            self._blocked.clear()
            self._migrated.clear()
            self._clear_rate_state()
            self._cond.notify_all()

    def wait_until(self, predicate: Any, timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every state change); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stopping:
                    return bool(predicate())
                self._cond.wait(min(remaining, 0.05))

    def wait_for_calls(
        self, method: str, count: int = 1, chat_id: Any = None, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` were answered; returns them (maybe fewer)."""
        self.wait_until(
            lambda: sum(1 for c in self.calls_for(method, chat_id) if c.status is not None) >= count,
            timeout,
        )
        return self.calls_for(method, chat_id)

    def wait_idle(self, token: str | None = None, timeout: float = 5.0) -> bool:
        """Wait until no webhook delivery is pending (for one bot or all bots with a webhook)."""

        def idle() -> bool:
            bots = [self._bots[token]] if token else list(self._bots.values())
            return all(not b.pending for b in bots if b.webhook_url)

        return self.wait_until(idle, timeout)

    # --- failures

    def fail_next(
        self,
        method: str | None = None,
        chat_id: Any = None,
        kind: str = "server_error",
        times: int | None = 1,
        *,
        retry_after: int = 5,
        migrate_to_chat_id: int | None = None,
        status: int = 500,
        seconds: float | None = None,
        description: str | None = None,
        parameters: dict | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail (``times=None``: until ``clear_failures``).

        ``method=None`` matches any sending method; ``chat_id=None`` any chat. Kinds: 'blocked' (403 bot was
        blocked by the user), 'deactivated' (403 user is deactivated), 'kicked' (403 bot was kicked from the
        group chat), 'migrate' (400 + ``parameters.migrate_to_chat_id``), 'server_error' (``status`` 500 or
        502), 'hang' (no answer; connection closed after ``seconds`` or at ``stop()``), 'retry_after'
        (429 with ``retry_after``), 'custom' (``status``, ``description``, ``parameters``)."""
        kinds = (
            "blocked",
            "deactivated",
            "kicked",
            "migrate",
            "server_error",
            "hang",
            "retry_after",
            "custom",
        )
        if kind not in kinds:
            raise ValueError(f"unknown failure kind {kind!r}; one of {', '.join(kinds)}")
        canonical = None
        if method is not None:
            canonical = _METHOD_NAMES.get(method.lower(), method)
        options = {
            "retry_after": retry_after,
            "migrate_to_chat_id": migrate_to_chat_id,
            "status": status,
            "seconds": seconds,
            "description": description,
            "parameters": parameters,
        }
        with self._cond:
            self._failures.append(_Failure(canonical, chat_id, kind, times, options))

    def clear_failures(self) -> None:
        with self._cond:
            self._failures.clear()

    def block_chat(self, chat_id: int, *, token: str | None = None, description: str | None = None) -> None:
        """Every send to ``chat_id`` (by ``token``, or by any bot) answers 403 until ``unblock_chat``."""
        with self._cond:
            self._blocked[(token, int(chat_id))] = description

    def unblock_chat(self, chat_id: int, *, token: str | None = None) -> None:
        with self._cond:
            self._blocked.pop((token, int(chat_id)), None)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """The group ``chat_id`` became the supergroup ``new_chat_id``: every call to the old id answers 400
        with ``parameters.migrate_to_chat_id`` (persistent)."""
        with self._cond:
            self._migrated[int(chat_id)] = int(new_chat_id)
            if int(new_chat_id) not in self._chats:
                self._chats[int(new_chat_id)] = _Chat(id=int(new_chat_id), info=_chat_info(int(new_chat_id)))

    # --- updates

    def push_update(self, token: str, update: dict) -> dict | None:
        """Queue an update for the bot (webhook delivery or getUpdates). Assigns ``update_id`` (increasing per
        bot) unless given. Returns the queued update, or None when the bot's allowed_updates filter it out."""
        update = copy.deepcopy(update)
        with self._cond:
            bot = self._require_bot(token)
            kind = _update_type(update)
            allowed = bot.allowed_updates
            if allowed:
                if kind not in allowed:
                    return None
            elif kind in UPDATE_TYPES_OFF_BY_DEFAULT:
                return None
            if "update_id" in update:
                update_id = int(update["update_id"])
            else:
                update_id = bot.next_update_id
            bot.next_update_id = max(bot.next_update_id, update_id + 1)
            ordered = {"update_id": update_id}
            ordered.update({k: v for k, v in update.items() if k != "update_id"})
            self._learn_from_update(token, ordered)
            bot.pending.append(
                _Entry(
                    update=ordered,
                    update_id=update_id,
                    chat_key=_update_chat_key(ordered),
                )
            )
            self._cond.notify_all()
            return copy.deepcopy(ordered)

    def push_message(
        self,
        token: str,
        chat_id: int,
        text: str | None,
        user: dict | None = None,
        **extra: Any,
    ):
        """``push_update(token, make_message_update(...))`` with a message id from this server's counter."""
        return self.push_update(token, self.make_message_update(chat_id, text, user, **extra))

    def make_message_update(
        self, chat_id: int, text: str | None, user: dict | None = None, **extra: Any
    ) -> dict:
        """Like the module's ``make_message_update`` but with the chat as registered here and a
        message id from the chat's counter; the message becomes known (copyMessage, replies)."""
        chat_id = int(chat_id)
        with self._cond:
            user = _user_for(chat_id, user)
            chat = self._chat_info_for(chat_id, user)
            message_id = extra.pop("message_id", None) or self._next_message_id(chat_id)
            update = make_message_update(chat_id, text, user, message_id=message_id, chat=chat, **extra)
            self._remember_message(update["message"])
            return update

    def make_callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        user: dict | None = None,
        *,
        token: str | None = None,
    ) -> dict:
        """A callback_query on the known message ``message_id`` (with its real reply_markup)."""
        chat_id = int(chat_id)
        with self._cond:
            user = _user_for(chat_id, user)
            message = self._messages.get((chat_id, int(message_id)))
            if message is None:
                bot = self._pick_bot(token)
                message = {
                    "message_id": int(message_id),
                    "from": bot.user if bot else _default_bot_user(),
                    "chat": self._chat_info_for(chat_id, user),
                    "date": int(time.time()),
                    "text": "...",
                }
            return make_callback_update(chat_id, data, int(message_id), user, message=message)

    def make_my_chat_member_update(
        self,
        chat_id: int,
        status: str,
        user: dict | None = None,
        *,
        token: str | None = None,
    ) -> dict:
        with self._cond:
            bot = self._pick_bot(token)
            update = make_my_chat_member_update(int(chat_id), status, user, bot=bot.user if bot else None)
            update["my_chat_member"]["chat"] = self._chat_info_for(
                int(chat_id), update["my_chat_member"]["from"]
            )
            return update

    def make_contact_update(
        self,
        chat_id: int,
        phone_number: str,
        user: dict | None = None,
        *,
        own: bool = True,
    ):
        chat_id = int(chat_id)
        with self._cond:
            update = make_contact_update(
                chat_id,
                phone_number,
                user,
                message_id=self._next_message_id(chat_id),
                own=own,
            )
            update["message"]["chat"] = self._chat_info_for(chat_id, update["message"]["from"])
            self._remember_message(update["message"])
            return update

    # ============================================================================================== internals

    def _require_bot(self, token: str) -> _Bot:
        bot = self._get_bot(token)
        if bot is None:
            raise KeyError(f"unknown bot token {token!r}; call add_bot() first")
        return bot

    def _get_bot(self, token: str) -> _Bot | None:
        bot = self._bots.get(token)
        if bot is None and self.auto_register_bots and TOKEN_RE.match(token or ""):
            self.add_bot(token, username=f"bot{token.split(':')[0]}_bot", first_name="Fake bot")
            bot = self._bots[token]
        return bot

    def _pick_bot(self, token: str | None) -> _Bot | None:
        if token:
            return self._require_bot(token)
        return next(iter(self._bots.values()), None)

    def _get_me(self, bot: _Bot) -> dict:
        return {
            "id": bot.id,
            "is_bot": True,
            "first_name": bot.first_name,
            "username": bot.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _clear_rate_state(self) -> None:
        for bot in self._bots.values():
            bot.global_log.clear()
            bot.chat_buckets.clear()
            bot.group_logs.clear()
            bot.flood_until.clear()

    def _next_message_id(self, chat_id: int) -> int:
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    def _chat_info_for(self, chat_id: int, user: dict | None = None) -> dict:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return copy.deepcopy(chat.info)
        return _chat_info(chat_id, user)

    def _remember_message(self, message: dict) -> None:
        chat = message.get("chat") or {}
        if "id" not in chat or "message_id" not in message:
            return
        chat_id, message_id = int(chat["id"]), int(message["message_id"])
        self._messages[(chat_id, message_id)] = copy.deepcopy(message)
        self._message_seq[chat_id] = max(self._message_seq.get(chat_id, 0), message_id)

    def _learn_from_update(self, token: str, update: dict) -> None:
        kind = _update_type(update)
        body = update.get(kind)
        if not isinstance(body, dict):
            return
        user = body.get("from")
        if isinstance(user, dict) and "id" in user:
            self._users[int(user["id"])] = copy.deepcopy(user)
        chat = body.get("chat")
        if isinstance(chat, dict) and "id" in chat:
            known = self._chats.get(int(chat["id"]))
            if known is None or not known.known:
                self._chats[int(chat["id"])] = _Chat(
                    id=int(chat["id"]),
                    info=copy.deepcopy(chat),
                    is_forum=bool(chat.get("is_forum")),
                )
        if kind in MESSAGE_UPDATE_TYPES:
            self._remember_message(body)
        if kind == "callback_query" and "id" in body:
            self._callbacks[str(body["id"])] = {"token": token, "answered": False}
            message = body.get("message")
            if (
                isinstance(message, dict)
                and isinstance(message.get("chat"), dict)
                and "message_id" in message
            ):
                key = (
                    _to_int(message["chat"].get("id")),
                    _to_int(message["message_id"]),
                )
                if key not in self._messages:
                    self._remember_message(message)

    # --- files

    def _new_file_ids(self, kind: str) -> tuple[str, str, int]:
        self._file_seq += 1
        prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}.get(kind, "CQACAgIAAxkBAAI")
        tail = uuid.uuid4().hex[:16]
        return (
            f"{prefix}{self._file_seq:05d}{tail}",
            f"AQAD{self._file_seq:05d}{tail[:6]}",
            self._file_seq,
        )

    def _register_file(
        self,
        token: str,
        content: bytes | None,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_id: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> _File:
        new_id, unique_id, seq = self._new_file_ids(kind)
        folder = {
            "photo": "photos",
            "video": "videos",
            "audio": "music",
            "voice": "voice",
        }.get(kind, "documents")
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1][:8]
        elif kind == "photo":
            ext = ".jpg"
        if file_name and (not mime_type or mime_type == "application/octet-stream"):
            mime_type = mimetypes.guess_type(file_name)[0] or mime_type
        f = _File(
            token=token,
            file_id=file_id or new_id,
            file_unique_id=unique_id,
            content=content,
            file_size=len(content or b""),
            file_path=f"{folder}/file_{seq}{ext}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type or "application/octet-stream",
            width=width,
            height=height,
        )
        self._files[f.file_id] = f
        self._file_paths[(token, f.file_path)] = f.file_id
        return f

    def _register_photo(self, token: str, content: bytes | None, sizes=((90, 90), (800, 600))) -> list[dict]:
        files = [self._register_file(token, content, "photo", width=w, height=h) for w, h in sizes]
        photo_sizes = [f.photo_size() for f in files]
        for f in files:
            f.photo_sizes = photo_sizes
        return copy.deepcopy(photo_sizes)

    def _input_file(
        self, bot: _Bot, value: Any, upload: UploadedFile | None, files: dict, kind: str
    ) -> _File:
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        if upload is not None:
            if not upload.content:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo":
                return self._files[self._register_photo(bot.token, upload.content)[-1]["file_id"]]
            return self._register_file(
                bot.token,
                upload.content,
                kind,
                file_name=upload.filename,
                mime_type=upload.content_type,
            )
        if value is None or value == "":
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        value = str(value)
        known = self._files.get(value)
        if known is not None and known.token == bot.token:
            return known
        if value.startswith(("http://", "https://")):
            if kind == "photo":
                return self._files[self._register_photo(bot.token, b"")[-1]["file_id"]]
            name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or None
            return self._register_file(bot.token, b"", kind, file_name=name)
        if self.strict:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._register_file(bot.token, None, kind, file_id=value)

    def _media_content(self, bot: _Bot, kind: str, f: _File) -> dict:
        if kind == "photo":
            return {"photo": copy.deepcopy(f.photo_sizes) if f.photo_sizes else [f.photo_size()]}
        body = {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.file_size,
        }
        if kind == "document":
            body = {
                "file_name": f.file_name or f.file_path.rsplit("/", 1)[-1],
                "mime_type": f.mime_type,
                **body,
            }
        elif kind == "video":
            body.update({"width": 640, "height": 360, "duration": 1})
        elif kind == "audio":
            body.update({"duration": 1})
            if f.file_name:
                body["file_name"] = f.file_name
        return {kind: body}

    # --- validation

    def _resolve_chat(self, value: Any, *, param: str = "chat_id") -> _Chat:
        if value is None or value == "":
            if param == "chat_id":
                raise _ApiError(400, "Bad Request: chat_id is empty")
            raise _ApiError(400, f'Bad Request: parameter "{param}" is required')
        if isinstance(value, str) and value.strip().startswith("@"):
            username = value.strip()[1:].lower()
            for chat in self._chats.values():
                if str(chat.info.get("username", "")).lower() == username:
                    return chat
            raise _ApiError(400, "Bad Request: chat not found")
        if isinstance(value, bool):
            raise _ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        if chat_id == 0:
            raise _ApiError(400, "Bad Request: chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict:
                raise _ApiError(400, "Bad Request: chat not found")
            chat = _Chat(
                id=chat_id,
                info=_chat_info(chat_id, self._users.get(chat_id)),
                known=False,
            )
            self._chats[chat_id] = chat
        return chat

    def _format(self, text: str, parse_mode: Any, entities: Any) -> tuple[str, list | None]:
        if parse_mode in (None, ""):
            return text, entities if isinstance(entities, list) and entities else None
        mode = str(parse_mode).lower()
        if mode == "html":
            try:
                return parse_html(text, strict_ampersand=self.strict_html)
            except HtmlParseError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text, None
        raise _ApiError(400, "Bad Request: unsupported parse_mode")

    def _caption(self, p: dict) -> dict:
        caption = p.get("caption")
        if caption is None or caption == "":
            return {}
        plain, entities = self._format(str(caption), p.get("parse_mode"), p.get("caption_entities"))
        if len(plain) > CAPTION_LIMIT:
            raise _ApiError(400, "Bad Request: message caption is too long")
        content = {"caption": plain}
        if entities:
            content["caption_entities"] = entities
        return content

    def _check_markup(self, markup: Any) -> dict | None:
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _ApiError(
                    400,
                    'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an '
                    "Array of Arrays",
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _ApiError(
                            400,
                            "Bad Request: can't parse inline keyboard button: Text must be a String",
                        )
                    if "callback_data" in button:
                        data = str(button["callback_data"]).encode("utf-8")
                        if not data or len(data) > CALLBACK_DATA_LIMIT:
                            raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    if not any(key in button for key in INLINE_BUTTON_ACTIONS):
                        raise _ApiError(
                            400,
                            "Bad Request: text buttons are unallowed in the inline keyboard",
                        )
        return markup

    def _thread_and_reply(self, chat: _Chat, p: dict) -> tuple[int | None, dict | None]:
        thread_id = _to_int(p.get("message_thread_id")) or None
        if thread_id and chat.is_forum and thread_id != 1:
            topic = chat.topics.get(thread_id)
            if topic is None:
                raise _ApiError(400, "Bad Request: message thread not found")
        reply_id, allow_missing = 0, False
        parameters = p.get("reply_parameters")
        if isinstance(parameters, dict):
            reply_id = _to_int(parameters.get("message_id"))
            allow_missing = _to_bool(parameters.get("allow_sending_without_reply"))
        elif p.get("reply_to_message_id"):
            reply_id = _to_int(p.get("reply_to_message_id"))
            allow_missing = _to_bool(p.get("allow_sending_without_reply"))
        reply_to = None
        if reply_id:
            reply_to = self._messages.get((chat.id, reply_id))
            if reply_to is None and self.strict and not allow_missing:
                raise _ApiError(400, "Bad Request: message to be replied not found")
        if reply_to is None and thread_id and chat.is_forum and thread_id in chat.topics:
            reply_to = self._messages.get((chat.id, thread_id))
        return thread_id, reply_to

    # --- rate limits

    def _window_wait(self, log: deque, limit: float, window: float, n: int, now: float) -> float:
        while log and log[0] <= now - window:
            log.popleft()
        tolerance = self.rate_tolerance * window
        recent = [t for t in log if t > now - window + tolerance]
        # a batch larger than the limit (an album) needs a free window, not an impossible one
        excess = len(recent) + min(n, max(int(limit), 1)) - int(limit)
        if excess <= 0:
            return 0.0
        return max(recent[excess - 1] + window - tolerance - now, 0.001)

    def _rate_check(self, bot: _Bot, chat_id: int, n: int, paid: bool) -> None:
        if not self.rate_limits:
            return
        now = time.monotonic()
        waits = [until - now for until in (bot.flood_until.get(None), bot.flood_until.get(chat_id)) if until]
        waits = [w for w in waits if w > 0]
        if waits:
            self._too_many(max(waits))
        limit = self.paid_rate if paid else self.global_rate
        violations: list[tuple[float, Any]] = []
        wait = self._window_wait(bot.global_log, limit, self.global_window, n, now)
        if wait:
            violations.append((wait, None))
        refill = self.chat_rate / self.chat_window
        tokens, last = bot.chat_buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * refill)
        needed = min(n, max(float(self.chat_burst), 1.0))  # an album may use the whole burst, then owes
        if tokens + self.rate_tolerance < needed:
            violations.append(((needed - self.rate_tolerance - tokens) / refill, chat_id))
        group_log = None
        if chat_id < 0:
            group_log = bot.group_logs.setdefault(chat_id, deque())
            wait = self._window_wait(group_log, self.group_rate, self.group_window, n, now)
            if wait:
                violations.append((wait, chat_id))
        if violations:
            wait, scope = max(violations, key=lambda v: v[0])
            retry_after = max(1, math.ceil(wait - 1e-6))
            if self.enforce_retry_after:
                bot.flood_until[scope] = now + retry_after
            self._too_many(retry_after)
        bot.global_log.extend([now] * n)
        bot.chat_buckets[chat_id] = (tokens - n, now)
        if group_log is not None:
            group_log.extend([now] * n)

    @staticmethod
    def _too_many(wait: float) -> None:
        retry_after = max(1, math.ceil(wait - 1e-6))
        raise _ApiError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    # --- HTTP entry

    def _handle_http(
        self, verb: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, str, bytes] | _Hang:
        parts = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parts.path)
        if path.startswith("/file/bot"):
            return self._download(path[len("/file/bot") :])
        if path.startswith("/_fake/"):
            return self._control(verb, path[len("/_fake/") :], parts.query, body)
        if not path.startswith("/bot") or "/" not in path[4:]:
            return _json_reply(404, _error(404, "Not Found"))
        token, _, method = path[4:].partition("/")
        try:
            params, files = self._decode(headers, body, parts.query)
        except _ApiError as exc:
            return _json_reply(exc.code, exc.envelope())
        reply = self._api_call(verb, token, method, params, files)
        if isinstance(reply, _Hang):
            return reply
        return _json_reply(*reply)

    def _decode(self, headers: Any, body: bytes, query: str) -> tuple[dict, dict]:
        params: dict = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        files: dict = {}
        content_type = headers.get("Content-Type", "") or ""
        mime = content_type.split(";")[0].strip().lower()
        if body:
            if mime == "application/json":
                try:
                    decoded = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise _ApiError(400, "Bad Request: can't parse JSON object") from None
                if isinstance(decoded, dict):
                    params.update(decoded)
            elif mime == "multipart/form-data":
                fields, files = _parse_multipart(body, content_type)
                params.update(fields)
            else:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return _normalize_params(params), files

    def _download(self, rest: str) -> tuple[int, str, bytes]:
        token, _, file_path = rest.partition("/")
        with self._lock:
            file_id = self._file_paths.get((token, file_path))
            f = self._files.get(file_id) if file_id else None
            if f is None or token not in self._bots:
                return _json_reply(404, _error(404, "Not Found"))
            content = f.content or b""
            mime = f.mime_type or "application/octet-stream"
        return 200, mime, content

    def _hang(self, seconds: float | None) -> None:
        self._stop_event.wait(seconds)

    def _api_call(
        self,
        verb: str,
        token: str,
        method: str,
        params: dict,
        files: dict,
        source: str = "http",
    ) -> tuple[int, dict] | _Hang:
        with self._cond:
            call = Call(
                token=token,
                method=method,
                params=params,
                files=files,
                time=time.time(),
                http_method=verb,
                source=source,
            )
            bot = self._get_bot(token)
            if bot is None:
                return self._finish(call, 401, _error(401, "Unauthorized"))
            canonical = _METHOD_NAMES.get(method.lower())
            if canonical is None:
                return self._finish(call, 404, _error(404, "Not Found"))
            call.method = canonical
            failure = self._take_failure(canonical, params)
            if failure is not None and failure.kind == "hang":
                call.hung = True
                self._calls.append(call)
                self._cond.notify_all()
                return _Hang(failure.options["seconds"])
            try:
                if failure is not None:
                    raise self._failure_error(failure, params)
                self._check_chat_state(bot, canonical, params)
                result = getattr(self, f"_api_{canonical}", self._api_noop)(bot, params, files)
            except _ApiError as exc:
                return self._finish(call, exc.code, exc.envelope())
            if isinstance(result, _Ok):
                envelope = {"ok": True, "result": result.result}
                if result.description:
                    envelope["description"] = result.description
            else:
                envelope = {"ok": True, "result": result}
            return self._finish(call, 200, envelope)

    def _finish(self, call: Call, status: int, envelope: dict) -> tuple[int, dict]:
        call.status = status
        call.response = envelope
        self._calls.append(call)
        self._cond.notify_all()
        return status, envelope

    def _take_failure(self, method: str, params: dict) -> _Failure | None:
        for failure in self._failures:
            if failure.method is None:
                if method not in SEND_METHODS:
                    continue
            elif failure.method != method:
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(params.get("chat_id")):
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _failure_error(self, failure: _Failure, params: dict) -> _ApiError:
        options = failure.options
        kind = failure.kind
        if kind == "blocked":
            return _ApiError(403, options["description"] or "Forbidden: bot was blocked by the user")
        if kind == "deactivated":
            return _ApiError(403, options["description"] or "Forbidden: user is deactivated")
        if kind == "kicked":
            return _ApiError(
                403,
                options["description"] or "Forbidden: bot was kicked from the group chat",
            )
        if kind == "migrate":
            new_id = options["migrate_to_chat_id"]
            if new_id is None:
                old = _to_int(params.get("chat_id"))
                new_id = int(f"-100{abs(old)}") if old else -1001234567890
            description = (
                options["description"] or "Bad Request: group chat was upgraded to a supergroup chat"
            )
            return _ApiError(400, description, {"migrate_to_chat_id": new_id})
        if kind == "retry_after":
            seconds = int(options["retry_after"])
            return _ApiError(
                429,
                f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        if kind == "server_error":
            status = int(options["status"] or 500)
            default = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }
            return _ApiError(
                status,
                options["description"] or default.get(status, "Internal Server Error"),
            )
        return _ApiError(
            int(options["status"]),
            options["description"] or "Bad Request",
            options["parameters"],
        )

    def _check_chat_state(self, bot: _Bot, method: str, params: dict) -> None:
        if method not in CHAT_STATE_METHODS:
            return
        chat_id = _to_int(params.get("chat_id"))
        if not chat_id:
            return
        if chat_id in self._migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        for key in ((bot.token, chat_id), (None, chat_id)):
            if key in self._blocked:
                description = self._blocked[key]
                if description is None:
                    chat_type = self._chats[chat_id].info.get("type") if chat_id in self._chats else None
                    if chat_id > 0:
                        description = "Forbidden: bot was blocked by the user"
                    elif chat_type == "supergroup" or chat_id <= -1000000000000:
                        description = "Forbidden: bot was kicked from the supergroup chat"
                    else:
                        description = "Forbidden: bot was kicked from the group chat"
                raise _ApiError(403, description)

    # --- control API

    def _control(self, verb: str, path: str, query: str, body: bytes) -> tuple[int, str, bytes]:
        args = dict(urllib.parse.parse_qsl(query))
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            return _json_reply(400, _error(400, "Bad Request: body must be JSON"))
        try:
            if path == "calls":
                return _json_reply(200, {"ok": True, "result": [c.as_dict() for c in self.calls]})
            if path == "sent":
                return _json_reply(200, {"ok": True, "result": self.sent_messages(args.get("chat_id"))})
            if path == "reset" and verb == "POST":
                self.reset()
                return _json_reply(200, {"ok": True, "result": True})
            if path.startswith("bot") and verb == "POST":
                token, _, action = path[3:].partition("/")
                with self._cond:
                    self._require_bot(token)
                if action == "pushUpdate":
                    result = self.push_update(token, payload)
                elif action == "pushMessage":
                    chat_id = int(payload["chat_id"])
                    extra = {k: v for k, v in payload.items() if k not in ("chat_id", "text", "user")}
                    result = self.push_message(
                        token,
                        chat_id,
                        payload.get("text"),
                        payload.get("user"),
                        **extra,
                    )
                elif action == "pushCallback":
                    update = self.make_callback_update(
                        int(payload["chat_id"]),
                        payload["data"],
                        int(payload["message_id"]),
                        payload.get("user"),
                    )
                    result = self.push_update(token, update)
                else:
                    return _json_reply(404, _error(404, "Not Found"))
                return _json_reply(200, {"ok": True, "result": result})
        except KeyError as exc:
            return _json_reply(400, _error(400, f"Bad Request: {exc.args[0]}"))
        except (TypeError, ValueError) as exc:
            return _json_reply(400, _error(400, f"Bad Request: {exc}"))
        return _json_reply(404, _error(404, "Not Found"))

    # --- API methods

    def _api_noop(self, bot: _Bot, p: dict, files: dict) -> Any:
        return True

    def _api_getMe(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._get_me(bot)

    def _api_setMyCommands(self, bot: _Bot, p: dict, files: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        bot.commands = copy.deepcopy(commands)
        return True

    def _api_getMyCommands(self, bot: _Bot, p: dict, files: dict) -> list:
        return copy.deepcopy(bot.commands)

    def _api_getChat(self, bot: _Bot, p: dict, files: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        return {
            **copy.deepcopy(chat.info),
            "accent_color_id": 0,
            "max_reaction_count": 11,
        }

    # -- webhook / updates

    def _webhook_info(self, bot: _Bot) -> dict:
        info: dict = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if bot.webhook_url:
            info["ip_address"] = "127.0.0.1"
        if bot.last_error_date:
            info["last_error_date"] = bot.last_error_date
            info["last_error_message"] = bot.last_error_message
        if bot.webhook_url:
            info["max_connections"] = bot.max_connections
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
        return info

    def _drop_pending(self, bot: _Bot) -> None:
        for entry in bot.pending:
            entry.dropped = True
        bot.pending = [e for e in bot.pending if e.in_flight]

    def _set_allowed_updates(self, bot: _Bot, value: Any) -> None:
        if value is None or value == "":
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _ApiError(400, "Bad Request: can't parse allowed updates JSON array")
        bot.allowed_updates = list(value)

    def _api_setWebhook(self, bot: _Bot, p: dict, files: dict) -> _Ok:
        url = str(p.get("url") or "")
        if _to_bool(p.get("drop_pending_updates")):
            self._drop_pending(bot)
        if not url:
            return self._delete_webhook(bot)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _ApiError(400, "Bad Request: invalid webhook URL specified")
        if self.require_https:
            if parts.scheme != "https":
                raise _ApiError(
                    400,
                    "Bad Request: bad webhook: HTTPS url must be provided for webhook",
                )
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise _ApiError(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
                )
        secret = p.get("secret_token")
        secret = None if secret in (None, "") else str(secret)
        if secret is not None:
            if len(secret) > 256:
                raise _ApiError(400, "Bad Request: secret token is too long")
            if not SECRET_TOKEN_RE.match(secret):
                raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = min(max(_to_int(p.get("max_connections"), 40), 1), 100)
        self._set_allowed_updates(bot, p.get("allowed_updates"))
        unchanged = (bot.webhook_url, bot.secret_token, bot.max_connections) == (
            url,
            secret,
            max_connections,
        )
        if bot.webhook_url != url:
            bot.last_error_date = None
            bot.last_error_message = None
        bot.webhook_url, bot.secret_token, bot.max_connections = (
            url,
            secret,
            max_connections,
        )
        bot.poll_gen += 1
        bot.poll_conflict = "Conflict: terminated by setWebhook request"
        self._ensure_workers(bot)
        self._cond.notify_all()
        return _Ok(True, "Webhook is already set" if unchanged else "Webhook was set")

    def _delete_webhook(self, bot: _Bot) -> _Ok:
        was_set = bool(bot.webhook_url)
        bot.webhook_url, bot.secret_token = "", None
        self._cond.notify_all()
        return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _api_deleteWebhook(self, bot: _Bot, p: dict, files: dict) -> _Ok:
        if _to_bool(p.get("drop_pending_updates")):
            self._drop_pending(bot)
        return self._delete_webhook(bot)

    def _api_getWebhookInfo(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._webhook_info(bot)

    def _api_getUpdates(self, bot: _Bot, p: dict, files: dict) -> list:
        conflict = (
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
            "webhook first"
        )
        if bot.webhook_url:
            raise _ApiError(409, conflict)
        offset = _to_int(p.get("offset"))
        limit = min(max(_to_int(p.get("limit"), 100), 1), 100)
        timeout = max(_to_int(p.get("timeout")), 0)
        self._set_allowed_updates(bot, p.get("allowed_updates"))
        bot.poll_gen += 1
        bot.poll_conflict = (
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running"
        )
        generation = bot.poll_gen
        self._cond.notify_all()  # an older long poll of this bot now ends with 409
        if offset > 0:
            bot.pending = [e for e in bot.pending if e.update_id >= offset or e.in_flight]
        elif offset < 0:
            keep = bot.pending[offset:]
            bot.pending = keep
        deadline = time.monotonic() + timeout
        while True:
            updates = [e for e in bot.pending if not e.in_flight][:limit]
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self.stopping:
                return [copy.deepcopy(e.update) for e in updates]
            self._cond.wait(remaining)
            if bot.poll_gen != generation:
                raise _ApiError(409, bot.poll_conflict)
            if bot.webhook_url:
                raise _ApiError(409, "Conflict: terminated by setWebhook request")

    # -- sending

    def _store_message(
        self,
        bot: _Bot,
        chat: _Chat,
        content: dict,
        thread_id: int | None = None,
        reply_to: dict | None = None,
        record: bool = True,
    ) -> dict:
        message_id = self._next_message_id(chat.id)
        message: dict = {"message_id": message_id}
        if thread_id:
            message["message_thread_id"] = thread_id
        message["from"] = bot.user
        message["chat"] = copy.deepcopy(chat.info)
        message["date"] = int(time.time())
        if thread_id and chat.is_forum:
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(reply_to)
        message.update(copy.deepcopy(content))
        self._messages[(chat.id, message_id)] = message
        if record:
            self._sent.append((bot.token, message))
        return copy.deepcopy(message)

    @staticmethod
    def _inline_markup(markup: dict | None) -> dict:
        if markup and "inline_keyboard" in markup:
            return {"reply_markup": copy.deepcopy(markup)}
        return {}

    def _api_sendMessage(self, bot: _Bot, p: dict, files: dict) -> dict:
        text = p.get("text")
        if text is None or text == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        chat = self._resolve_chat(p.get("chat_id"))
        plain, entities = self._format(str(text), p.get("parse_mode"), p.get("entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > TEXT_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = self._check_markup(p.get("reply_markup"))
        thread_id, reply_to = self._thread_and_reply(chat, p)
        self._rate_check(bot, chat.id, 1, _to_bool(p.get("allow_paid_broadcast")))
        content: dict = {"text": plain}
        if entities:
            content["entities"] = entities
        content.update(self._inline_markup(markup))
        return self._store_message(bot, chat, content, thread_id, reply_to)

    def _send_file(self, bot: _Bot, p: dict, files: dict, kind: str) -> dict:
        value, upload = p.get(kind), files.get(kind)
        if upload is None and (value is None or value == ""):
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        chat = self._resolve_chat(p.get("chat_id"))
        caption = self._caption(p)
        markup = self._check_markup(p.get("reply_markup"))
        thread_id, reply_to = self._thread_and_reply(chat, p)
        f = self._input_file(bot, value, upload, files, kind)
        self._rate_check(bot, chat.id, 1, _to_bool(p.get("allow_paid_broadcast")))
        content = self._media_content(bot, kind, f)
        content.update(caption)
        content.update(self._inline_markup(markup))
        return self._store_message(bot, chat, content, thread_id, reply_to)

    def _api_sendPhoto(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._send_file(bot, p, files, "photo")

    def _api_sendDocument(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._send_file(bot, p, files, "document")

    def _api_sendMediaGroup(self, bot: _Bot, p: dict, files: dict) -> list:
        media = p.get("media")
        if media is None or media == "":
            raise _ApiError(400, 'Bad Request: parameter "media" is required')
        if not isinstance(media, list):
            raise _ApiError(400, "Bad Request: expected an Array of InputMedia")
        chat = self._resolve_chat(p.get("chat_id"))
        if len(media) < MEDIA_GROUP_MIN:
            raise _ApiError(400, "Bad Request: media must include 2-10 items")
        if len(media) > MEDIA_GROUP_MAX:
            raise _ApiError(400, "Bad Request: too many messages to send as an album")
        kinds = []
        for item in media:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("photo", "video", "document", "audio"):
                raise _ApiError(400, "Bad Request: can't parse InputMedia JSON object")
            kinds.append(kind)
        for lonely in ("document", "audio"):
            if lonely in kinds and any(k != lonely for k in kinds):
                raise _ApiError(
                    400,
                    "Bad Request: can't use the media of the specified type in the album",
                )
        captions = [self._caption(item) for item in media]
        thread_id, reply_to = self._thread_and_reply(chat, p)
        inputs = [
            self._input_file(bot, item.get("media"), None, files, kind)
            for item, kind in zip(media, kinds, strict=True)
        ]
        self._rate_check(bot, chat.id, len(media), _to_bool(p.get("allow_paid_broadcast")))
        group_id = str(next(self._media_group_seq))
        messages = []
        for item, kind, f, caption in zip(media, kinds, inputs, captions, strict=True):
            content = {
                "media_group_id": group_id,
                **self._media_content(bot, kind, f),
                **caption,
            }
            if _to_bool(item.get("has_spoiler")):
                content["has_media_spoiler"] = True
            messages.append(self._store_message(bot, chat, content, thread_id, reply_to))
        return messages

    def _api_copyMessage(self, bot: _Bot, p: dict, files: dict) -> dict:
        from_chat = self._resolve_chat(p.get("from_chat_id"), param="from_chat_id")
        message_id = _to_int(p.get("message_id"))
        source = self._messages.get((from_chat.id, message_id)) if message_id > 0 else None
        if source is None and (self.strict or message_id <= 0):
            raise _ApiError(400, "Bad Request: message to copy not found")
        if source is not None and SERVICE_MESSAGE_KEYS & set(source):
            raise _ApiError(400, "Bad Request: message can't be copied")
        chat = self._resolve_chat(p.get("chat_id"))
        content = {k: copy.deepcopy(v) for k, v in (source or {}).items() if k in COPYABLE_KEYS}
        if "caption" in p and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(p))
        markup = self._check_markup(p.get("reply_markup"))
        content.update(self._inline_markup(markup))
        thread_id, reply_to = self._thread_and_reply(chat, p)
        self._rate_check(bot, chat.id, 1, _to_bool(p.get("allow_paid_broadcast")))
        message = self._store_message(bot, chat, content, thread_id, reply_to)
        return {"message_id": message["message_id"]}

    def _api_editMessageText(self, bot: _Bot, p: dict, files: dict) -> Any:
        text = p.get("text")
        if text is None or text == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._format(str(text), p.get("parse_mode"), p.get("entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > TEXT_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = self._check_markup(p.get("reply_markup"))
        message_id = _to_int(p.get("message_id"))
        if p.get("chat_id") in (None, "") and message_id == 0:
            if not p.get("inline_message_id"):
                raise _ApiError(400, "Bad Request: message identifier is not specified")
            return True
        chat = self._resolve_chat(p.get("chat_id"))
        current = self._messages.get((chat.id, message_id))
        if current is None:
            if self.strict or message_id <= 0:
                raise _ApiError(400, "Bad Request: message to edit not found")
            current = {
                "message_id": message_id,
                "from": bot.user,
                "chat": copy.deepcopy(chat.info),
                "date": int(time.time()),
                "text": "",
            }
        if (current.get("from") or {}).get("id") != bot.id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        if "text" not in current:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        new_markup = self._inline_markup(markup).get("reply_markup")
        if (
            current.get("text") == plain
            and current.get("entities") == (entities or None)
            and current.get("reply_markup") == new_markup
        ):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        edited = copy.deepcopy(current)
        edited["text"] = plain
        edited.pop("entities", None)
        edited.pop("reply_markup", None)
        if entities:
            edited["entities"] = entities
        if new_markup:
            edited["reply_markup"] = new_markup
        edited["edit_date"] = int(time.time())
        self._messages[(chat.id, message_id)] = edited
        return copy.deepcopy(edited)

    def _api_deleteMessage(self, bot: _Bot, p: dict, files: dict) -> bool:
        chat = self._resolve_chat(p.get("chat_id"))
        message_id = _to_int(p.get("message_id"))
        if self._messages.pop((chat.id, message_id), None) is None and (self.strict or message_id <= 0):
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_answerCallbackQuery(self, bot: _Bot, p: dict, files: dict) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        known = self._callbacks.get(query_id)
        invalid = "Bad Request: query is too old and response timeout expired or query ID is invalid"
        if not query_id:
            raise _ApiError(400, invalid)
        if known is not None:
            if known["answered"] or known["token"] != bot.token:
                raise _ApiError(400, invalid)
            known["answered"] = True
        elif self.strict:
            raise _ApiError(400, invalid)
        return True

    def _api_sendChatAction(self, bot: _Bot, p: dict, files: dict) -> bool:
        action = str(p.get("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        chat = self._resolve_chat(p.get("chat_id"))
        self._thread_and_reply(chat, {"message_thread_id": p.get("message_thread_id")})
        return True

    # -- files

    def _api_getFile(self, bot: _Bot, p: dict, files: dict) -> dict:
        f = self._files.get(str(p.get("file_id") or ""))
        if f is None or f.token != bot.token or f.content is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if f.file_size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.file_size,
            "file_path": f.file_path,
        }

    def _api_getUserProfilePhotos(self, bot: _Bot, p: dict, files: dict) -> dict:
        user_id = _to_int(p.get("user_id"))
        if user_id <= 0:
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        photos = self._profile_photos.get((bot.token, user_id))
        if photos is None and self.strict and user_id not in self._users:
            raise _ApiError(400, "Bad Request: user not found")
        photos = photos or []
        offset = max(_to_int(p.get("offset")), 0)
        limit = min(max(_to_int(p.get("limit"), 100), 1), 100)
        return {
            "total_count": len(photos),
            "photos": copy.deepcopy(photos[offset : offset + limit]),
        }

    # -- forum topics

    def _forum(self, p: dict) -> _Chat:
        chat = self._resolve_chat(p.get("chat_id"))
        if not chat.is_forum:
            raise _ApiError(400, "Bad Request: the chat is not a forum")
        return chat

    def _topic(self, chat: _Chat, p: dict) -> tuple[int, dict]:
        thread_id = _to_int(p.get("message_thread_id"))
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise _ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return thread_id, topic

    def _topic_service_message(self, bot: _Bot, chat: _Chat, thread_id: int, content: dict) -> None:
        self._store_message(bot, chat, content, thread_id, None, record=False)

    def _api_createForumTopic(self, bot: _Bot, p: dict, files: dict) -> dict:
        chat = self._forum(p)
        name = str(p.get("name") or "").strip()[:128]
        if not name:
            raise _ApiError(400, "Bad Request: title must be non-empty")
        icon_color = _to_int(p.get("icon_color"), FORUM_ICON_COLORS[0])
        if icon_color not in FORUM_ICON_COLORS:
            raise _ApiError(400, "Bad Request: invalid icon_color specified")
        created = {"name": name, "icon_color": icon_color}
        if p.get("icon_custom_emoji_id"):
            created["icon_custom_emoji_id"] = str(p["icon_custom_emoji_id"])
        message_id = self._next_message_id(chat.id)
        message = {
            "message_id": message_id,
            "message_thread_id": message_id,
            "from": bot.user,
            "chat": copy.deepcopy(chat.info),
            "date": int(time.time()),
            "is_topic_message": True,
            "forum_topic_created": created,
        }
        self._messages[(chat.id, message_id)] = message
        chat.topics[message_id] = {
            "message_thread_id": message_id,
            **created,
            "closed": False,
        }
        return {"message_thread_id": message_id, **created}

    def _api_editForumTopic(self, bot: _Bot, p: dict, files: dict) -> bool:
        chat = self._forum(p)
        thread_id, topic = self._topic(chat, p)
        changes = {}
        name = p.get("name")
        if name not in (None, ""):
            name = str(name).strip()[:128]
            if name != topic["name"]:
                changes["name"] = name
        if "icon_custom_emoji_id" in p and str(p["icon_custom_emoji_id"] or "") != topic.get(
            "icon_custom_emoji_id", ""
        ):
            changes["icon_custom_emoji_id"] = str(p["icon_custom_emoji_id"] or "")
        if not changes:
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.update(changes)
        self._topic_service_message(bot, chat, thread_id, {"forum_topic_edited": changes})
        return True

    def _toggle_topic(self, bot: _Bot, p: dict, closed: bool) -> bool:
        chat = self._forum(p)
        thread_id, topic = self._topic(chat, p)
        if topic["closed"] == closed:
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        key = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._topic_service_message(bot, chat, thread_id, {key: {}})
        return True

    def _api_closeForumTopic(self, bot: _Bot, p: dict, files: dict) -> bool:
        return self._toggle_topic(bot, p, True)

    def _api_reopenForumTopic(self, bot: _Bot, p: dict, files: dict) -> bool:
        return self._toggle_topic(bot, p, False)

    def _api_deleteForumTopic(self, bot: _Bot, p: dict, files: dict) -> bool:
        chat = self._forum(p)
        thread_id, _ = self._topic(chat, p)
        del chat.topics[thread_id]
        return True

    # --- delivery

    def _ensure_workers(self, bot: _Bot) -> None:
        bot.workers = [w for w in bot.workers if w.is_alive()]
        while len(bot.workers) < max(1, int(self.delivery_threads)):
            worker = threading.Thread(
                target=self._delivery_worker,
                args=(bot,),
                name=f"fake-telegram-webhook-{bot.id}-{len(bot.workers)}",
                daemon=True,
            )
            bot.workers.append(worker)
            worker.start()

    def _pick_entry(self, bot: _Bot, now: float) -> tuple[_Entry | None, float | None]:
        if not bot.webhook_url:
            return None, None
        if sum(1 for e in bot.pending if e.in_flight) >= bot.max_connections:
            return None, None
        busy_chats = set()
        next_due = None
        for entry in bot.pending:
            key = entry.chat_key
            if key is not None:
                if key in busy_chats:
                    continue
                busy_chats.add(key)
            if entry.in_flight:
                continue
            if entry.next_attempt > now:
                wait = entry.next_attempt - now
                next_due = wait if next_due is None else min(next_due, wait)
                continue
            return entry, None
        return None, next_due

    def _delivery_worker(self, bot: _Bot) -> None:
        while True:
            with self._cond:
                while True:
                    if self.stopping:
                        return
                    entry, wait = self._pick_entry(bot, time.monotonic())
                    if entry is not None:
                        break
                    self._cond.wait(min(wait, 1.0) if wait is not None else 1.0)
                entry.in_flight = True
                entry.attempts += 1
                attempt = entry.attempts
                url, secret = bot.webhook_url, bot.secret_token
                timeout = float(self.delivery_timeout)
                payload = json.dumps(entry.update, ensure_ascii=False).encode("utf-8")
            started = time.time()
            status, error, reply, reply_type = self._post_webhook(url, secret, payload, timeout)
            with self._cond:
                entry.in_flight = False
                ok = status is not None and 200 <= status < 300
                delivery = Delivery(
                    token=bot.token,
                    update_id=entry.update_id,
                    chat_id=entry.chat_key,
                    attempt=attempt,
                    url=url,
                    status=status,
                    error=error,
                    time=started,
                    duration=time.time() - started,
                    secret_token=secret,
                )
                if ok or entry.dropped:
                    if entry in bot.pending:
                        bot.pending.remove(entry)
                else:
                    bot.last_error_date = int(time.time())
                    bot.last_error_message = error
                    if attempt >= self.max_delivery_attempts:
                        delivery.gave_up = True
                        if entry in bot.pending:
                            bot.pending.remove(entry)
                    else:
                        entry.next_attempt = time.monotonic() + float(self.retry_delay)
                self._deliveries.append(delivery)
                self._cond.notify_all()
            if ok and reply and "json" in (reply_type or ""):
                self._webhook_reply(bot, reply)

    def _post_webhook(
        self, url: str, secret: str | None, payload: bytes, timeout: float
    ) -> tuple[int | None, str | None, bytes, str]:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with _WEBHOOK_OPENER.open(request, timeout=timeout) as response:
                body = response.read()
                status = response.status
                if 200 <= status < 300:
                    return status, None, body, response.headers.get("Content-Type", "")
                return (
                    status,
                    f"Wrong response from the webhook: {status} {response.reason}",
                    b"",
                    "",
                )
        except urllib.error.HTTPError as exc:
            return (
                exc.code,
                f"Wrong response from the webhook: {exc.code} {exc.reason}",
                b"",
                "",
            )
        except urllib.error.URLError as exc:
            return None, self._describe_network_error(exc.reason), b"", ""
        except (OSError, http.client.HTTPException) as exc:
            return None, self._describe_network_error(exc), b"", ""

    @staticmethod
    def _describe_network_error(error: Any) -> str:
        if isinstance(error, ConnectionRefusedError):
            return "Connection refused"
        if isinstance(error, TimeoutError):
            return "Read timeout expired"
        if isinstance(error, http.client.RemoteDisconnected):
            return "Webhook connection closed"
        if isinstance(error, ConnectionResetError):
            return "Connection reset by peer"
        return str(error) or error.__class__.__name__

    def _webhook_reply(self, bot: _Bot, reply: bytes) -> None:
        try:
            payload = json.loads(reply.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return
        method = payload.pop("method")
        lowered = method.lower()
        if lowered.startswith("get") or lowered in (
            "setwebhook",
            "deletewebhook",
            "close",
            "logout",
        ):
            return
        self._api_call(
            "POST",
            bot.token,
            method,
            _normalize_params(payload),
            {},
            source="webhook_response",
        )


# ----------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fake Telegram Bot API server (for local development and tests)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="bot token to accept (repeatable); default: any",
    )
    parser.add_argument("--username", default="demo_bot", help="username of the --token bots")
    parser.add_argument("--global-rate", type=float, default=30, help="messages per second per bot")
    parser.add_argument("--chat-rate", type=float, default=1, help="messages per second per chat")
    parser.add_argument("--chat-burst", type=int, default=3)
    parser.add_argument(
        "--group-rate",
        type=float,
        default=20,
        help="messages per --group-window per group",
    )
    parser.add_argument("--group-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--retry-delay", type=float, default=5.0, help="seconds between webhook resends")
    parser.add_argument(
        "--delivery-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the webhook",
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args(argv)
    server = FakeTelegram(
        args.host,
        args.port,
        global_rate=args.global_rate,
        chat_rate=args.chat_rate,
        chat_burst=args.chat_burst,
        group_rate=args.group_rate,
        group_window=args.group_window,
        rate_limits=not args.no_rate_limits,
        retry_delay=args.retry_delay,
        delivery_timeout=args.delivery_timeout,
        auto_register_bots=not args.token,
        verbose=args.verbose,
    )
    for token in args.token:
        server.add_bot(token, username=args.username)
    server.start()
    sys.stdout.write(f"{server.base_url}\n")
    sys.stdout.write(
        f"Fake Telegram Bot API on {server.base_url} (API: {server.base_url}/bot<token>/<method>; "
        f"bots: {', '.join(args.token) or 'any token'}). Ctrl-C stops.\n"
    )
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
