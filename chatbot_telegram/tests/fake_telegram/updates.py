"""Update builders: realistic Telegram updates (messages, callbacks, chat member changes, contacts)."""

import copy
import hashlib
import itertools
import time
from typing import Any

from .constants import DEFAULT_USER_ID

_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)


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


def incompressible_digits(length: int, hexadecimal: bool = False) -> str:
    """``length`` digits (or hexadecimal digits) that do not compress, as PostgreSQL would an index entry:
    hostile update ids and chat ids for the webhook's tests."""
    digest, text = b"noise", ""
    while len(text) < length:
        digest = hashlib.sha256(digest).digest()
        text += digest.hex() if hexadecimal else str(int.from_bytes(digest, "big"))
    return ("1" + text)[:length]  # no leading zero: a JSON number
