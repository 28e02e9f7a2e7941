"""Sending: sendMessage, files and albums, copy, edit, delete, callbacks, chat actions, and their checks."""

import copy
import json
import time
from typing import Any

from .constants import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    CHAT_ACTIONS,
    COPYABLE_KEYS,
    INLINE_BUTTON_ACTIONS,
    MEDIA_GROUP_MAX,
    MEDIA_GROUP_MIN,
    SERVICE_MESSAGE_KEYS,
    TEXT_LIMIT,
)
from .decoding import _to_bool, _to_int
from .records import _ApiError, _Bot, _Chat
from .telegram_html import HtmlParseError, parse_html
from .updates import _chat_info, _without_reply


class SendingMixin:
    """FakeTelegram's sending methods and their checks (chat, text, parse mode, markup, replies)."""

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

    # --- API methods

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
