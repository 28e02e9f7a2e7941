"""Forum topics: createForumTopic, editForumTopic, close, reopen, delete."""

import copy
import time

from .constants import FORUM_ICON_COLORS
from .decoding import _to_int
from .records import _ApiError, _Bot, _Chat


class TopicsMixin:
    """FakeTelegram's forum topics: create, edit, close, reopen, delete."""

    # --- API methods

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
