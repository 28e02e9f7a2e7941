"""Telegram updates (the JSON Telegram posts to the webhook or getUpdates returns) as normalised events.

:func:`parse_update` validates an update with python-telegram-bot's ``Update.de_json`` (no ``Bot`` needed)
and turns it into :class:`InboundEvent` objects of ``chatbot_base.tools.connector``; :func:`update_key`
reads the (update_id, chat) pair from the raw dict alone, so an update can be stored idempotently and
queued per chat before anything else looks at it.

Handled: ``message`` and ``edited_message`` (text and commands, photo, document, voice, audio, video,
video note, animation, sticker, contact, location, venue; in private chats and in groups), ``callback_query``
and ``my_chat_member`` of private chats (blocked / unblocked). Messages written by bots or on behalf of a
chat, and service messages (members joining, topics created, migrations...) give no event; any other update
raises :class:`UnsupportedEvent` naming its kind; a malformed one raises ``ValueError``. A message is kept
without a file python-telegram-bot cannot read (a field it requires is missing, as in older recordings of
real updates): its text, caption and other files go on, and the file is an ``InboundFile`` with an ``error``
and no ``file_ref``. No message of this module ever quotes the payload.
"""

import mimetypes
import re

from telegram import Animation, Audio, Document, PhotoSize, Sticker, Update, Video, VideoNote, Voice
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType, MessageType

from .connector_types import connector as _connector

InboundEvent = _connector.InboundEvent
InboundFile = _connector.InboundFile
SenderProfile = _connector.SenderProfile
Thread = _connector.Thread
UnsupportedEvent = _connector.UnsupportedEvent

GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
MESSAGE_KINDS = {"message": "message", "edited_message": "edit"}
# Where an update about a user rather than a chat (inline query, poll answer...) names that user.
_USER_KEYS = ("from", "user", "voter_chat")
# MessageType values that describe a message without being its content.
_NOT_CONTENT = frozenset(
    {"business_connection_id", "effect_id", "sender_boost_count", "sender_business_bot", "reply_to_story"}
)

# Service messages: things that happened in a chat, written by nobody; they give no event.
SERVICE_FIELDS = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "write_access_allowed",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "giveaway_created",
    "giveaway_completed",
    "successful_payment",
    "refunded_payment",
    "connected_website",
)

# Media a customer can send, in the order they are looked for: an animation also carries a ``document``,
# so it comes first. Each: (field, default extension, default mimetype).
MEDIA_FIELDS = (
    ("animation", ".mp4", "video/mp4"),
    ("sticker", ".webp", "image/webp"),
    ("voice", ".ogg", "audio/ogg"),
    ("audio", ".mp3", "audio/mpeg"),
    ("video_note", ".mp4", "video/mp4"),
    ("video", ".mp4", "video/mp4"),
    ("document", "", "application/octet-stream"),
)

PHOTO_MIMETYPE = "image/jpeg"
# python-telegram-bot's class of each media field, to tell which one it cannot read
MEDIA_CLASSES = {
    "photo": PhotoSize,
    "animation": Animation,
    "sticker": Sticker,
    "voice": Voice,
    "audio": Audio,
    "video_note": VideoNote,
    "video": Video,
    "document": Document,
}
# What python-telegram-bot raises for a payload it cannot read (OverflowError: a date past year 9999)
DE_JSON_ERRORS = (AttributeError, KeyError, TypeError, ValueError, OverflowError)

_KIND_RE = re.compile(r"^[a-z_]{1,64}$")


def update_key(data):
    """(update_id, chat_key) of a raw update, both str, for every kind of update: the id that makes storing
    it idempotent (with the bot) and the chat whose updates are processed in order ("" when the update
    belongs to no chat, e.g. a poll). Raises KeyError without update_id, ValueError when it is malformed."""
    if not isinstance(data, dict):
        raise ValueError("a Telegram update must be a JSON object")
    update_id = data["update_id"]
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise ValueError("the update_id of a Telegram update must be an integer")
    kind = _update_kind(data)
    body = data.get(kind) if kind else None
    return str(update_id), _chat_key(body) if isinstance(body, dict) else ""


def _chat_key(body):
    for container in (body, body.get("message")):
        chat = container.get("chat") if isinstance(container, dict) else None
        if isinstance(chat, dict) and chat.get("id") is not None:
            return str(chat["id"])
    # updates about a user rather than a chat (inline queries, poll answers...): the user's private chat
    for key in _USER_KEYS:
        user = body.get(key)
        if isinstance(user, dict) and user.get("id") is not None:
            return str(user["id"])
    return ""


def _update_kind(data):
    """The update's kind: its one key besides update_id (None when there is none)."""
    return next((key for key in data if key != "update_id"), None)


def _string(value, name):
    """A text field of the message, which python-telegram-bot takes as it comes: a number or a list where
    Telegram always sends a string is a malformed update (ValueError), not a crash later."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"Telegram message: the {name} must be a string")
    return value


def parse_update(data, bot_id=None, bot_username=None):
    """The InboundEvents of a raw Telegram update (a list, maybe empty).

    ``bot_id``: the bot's own id; messages it wrote and membership changes of other members are ignored.
    ``bot_username``: when given, a command addressed to another bot (``/cmd@other_bot``, in groups) is
    plain text. Raises UnsupportedEvent (naming the kind) for updates the suite does not handle and
    ValueError for malformed ones.
    """
    if not isinstance(data, dict):
        raise ValueError("a Telegram update must be a JSON object")
    if "update_id" not in data:
        raise ValueError("Telegram update without update_id")
    update_id = data["update_id"]
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise ValueError("the update_id of a Telegram update must be an integer")
    kind = _update_kind(data)
    if kind is None:
        raise ValueError("Telegram update without content")
    if kind not in (*MESSAGE_KINDS, "callback_query", "my_chat_member"):
        raise UnsupportedEvent(f"Telegram update {_safe_kind(kind)} is not handled")
    if not isinstance(data[kind], dict):
        raise ValueError(f"Telegram update {kind}: the body must be a JSON object")
    if kind == "my_chat_member":
        data = _with_ban_dates(data)
    unreadable = []
    try:
        update = Update.de_json(data, None)
    except DE_JSON_ERRORS as exc:
        readable, unreadable = _without_unreadable_media(data, kind) if kind in MESSAGE_KINDS else (data, [])
        if readable == data:
            # the exception may quote values of the payload: only its type is told
            raise ValueError(f"malformed Telegram {kind} update ({exc.__class__.__name__})") from None
        try:
            update = Update.de_json(readable, None)
        except DE_JSON_ERRORS as again:
            raise ValueError(f"malformed Telegram {kind} update ({again.__class__.__name__})") from None
    if kind in MESSAGE_KINDS:
        return _message_events(
            update.effective_message, MESSAGE_KINDS[kind], bot_id, bot_username, unreadable
        )
    if kind == "callback_query":
        return _button_events(update.callback_query)
    return _membership_events(update.my_chat_member, bot_id)


def _with_ban_dates(data):
    """Telegram always dates a ban ("kicked", until_date 0 = forever) and python-telegram-bot requires the
    date, but test fakes and relays sometimes omit it; nothing here reads it, so default it rather than
    refuse a block/unblock notice."""
    body = dict(data["my_chat_member"])
    for key in ("old_chat_member", "new_chat_member"):
        member = body.get(key)
        if isinstance(member, dict) and member.get("status") == "kicked" and "until_date" not in member:
            body[key] = {**member, "until_date": 0}
    return {**data, "my_chat_member": body}


def _without_unreadable_media(data, kind):
    """The update without the media of its message that python-telegram-bot cannot read, and the names of the
    fields left out. A photo keeps the sizes that can be read; the message it replies to loses its
    unreadable media silently (only its id is used)."""
    message, unreadable = _readable_media(data[kind])
    return {**data, kind: message}, unreadable


def _readable_media(message):
    message, unreadable = dict(message), []
    for field, media_class in MEDIA_CLASSES.items():
        if field not in message:
            continue
        value = message.pop(field)
        if field == "photo":
            value = [size for size in value if _readable(PhotoSize, size)] if isinstance(value, list) else []
            if value:
                message[field] = value
                continue
        elif _readable(media_class, value):
            message[field] = value
            continue
        unreadable.append(field)
    if isinstance(message.get("reply_to_message"), dict):
        message["reply_to_message"] = _readable_media(message["reply_to_message"])[0]
    return message, unreadable


def _readable(media_class, value):
    try:
        return isinstance(value, dict) and media_class.de_json(value, None) is not None
    except DE_JSON_ERRORS:
        return False


def _unreadable_file(field):
    """A file of the message that could not be read: nothing to download, a note for the message."""
    mimetype = next((default for name, _ext, default in MEDIA_FIELDS if name == field), PHOTO_MIMETYPE)
    return InboundFile(name=field, mimetype=mimetype, error=f"The {field} of this message could not be read.")


def _safe_kind(kind):
    # the kind is a key of the payload: quote it only when it looks like one of Telegram's
    return kind if _KIND_RE.match(kind) else "of an unknown kind"


def sender_profile(user):
    """A telegram.User as a SenderProfile."""
    return SenderProfile(
        external_id=str(user.id),
        name=" ".join(part for part in (user.first_name, user.last_name) if part),
        username=user.username or "",
        lang=user.language_code or "",
        is_bot=bool(user.is_bot),
    )


def _thread(message):
    """Where a group message lives: the group, its forum topic, the message it replies to."""
    reply = message.reply_to_message
    return Thread(
        chat_id=str(message.chat.id),
        thread_id=str(message.message_thread_id)
        if message.is_topic_message and message.message_thread_id
        else "",
        reply_to_message_id=str(reply.message_id) if reply else "",
    )


def _message_events(message, event_kind, bot_id, bot_username, unreadable=()):
    user = message.from_user
    if message.chat.type == ChatType.CHANNEL:
        raise UnsupportedEvent("Telegram messages of channels are not handled")
    # written by a bot (ourselves included), an anonymous admin or on behalf of a channel: nobody to answer
    if user is None or user.is_bot or message.sender_chat is not None:
        return []
    if bot_id and str(user.id) == str(bot_id):
        return []
    event = InboundEvent(
        kind=event_kind,
        chat_id=str(message.chat.id),
        sender=sender_profile(user),
        message_id=str(message.message_id),
    )
    if message.chat.type in GROUP_TYPES:
        event.is_group = True
        event.thread = _thread(message)
    if message.text is not None:
        event.text = _string(message.text, "text")
        _read_command(message, event, bot_username)
    elif message.contact is not None:
        _read_contact(message, event)
    elif message.venue is not None:
        venue = message.venue
        event.location = (venue.location.latitude, venue.location.longitude)
        parts = (_string(venue.title, "venue title"), _string(venue.address, "venue address"))
        event.text = "\n".join(part for part in parts if part)
    elif message.location is not None:
        event.location = (message.location.latitude, message.location.longitude)
    elif (inbound_file := _inbound_file(message)) is not None or unreadable:
        event.files = [inbound_file] if inbound_file is not None else []
        event.text = _string(message.caption, "caption") or ""
    elif any(getattr(message, name, None) for name in SERVICE_FIELDS):
        return []
    else:
        raise UnsupportedEvent(f"Telegram {_message_content(message)} messages are not handled")
    event.files += [_unreadable_file(field) for field in unreadable]
    return [event]


def _message_content(message):
    """A name for what an unhandled message carries (one of Telegram's field names, never a value)."""
    for message_type in MessageType:
        if message_type.value not in _NOT_CONTENT and getattr(message, message_type.value, None):
            return message_type.value
    return "empty"


def _read_command(message, event, bot_username):
    """``/cmd@bot args`` -> command "cmd" (lower case), command_args "args"; text keeps the whole line."""
    entity = next(
        (e for e in message.entities if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0),
        None,
    )
    if entity is None:
        return
    token = message.parse_entity(entity)
    name, _at, target = token[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lstrip("@").lower():
        return  # addressed to another bot of the group
    event.command = name.lower()
    event.command_args = message.text[len(token) :].strip()


def _read_contact(message, event):
    """A contact: the customer's own phone number when they shared themselves, else a description."""
    contact = message.contact
    phone = (contact.phone_number or "").replace(" ", "")
    # Telegram gives the number in international format, often without its "+"
    if phone and not phone.startswith("+"):
        phone = f"+{phone}"
    if contact.user_id is not None and contact.user_id == message.from_user.id:
        event.contact_phone = phone
    else:
        name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
        event.text = f"Shared contact: {name}, {phone}" if name else f"Shared contact: {phone}"


def _inbound_file(message):
    """The file of a media message as an InboundFile (not downloaded), or None."""
    if message.photo:
        photo = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return InboundFile(
            name=f"photo_{photo.file_unique_id}.jpg",
            mimetype=PHOTO_MIMETYPE,
            file_ref=photo.file_id,
            size=photo.file_size or 0,
        )
    for field, extension, default_mimetype in MEDIA_FIELDS:
        media = getattr(message, field, None)
        if media is None:
            continue
        mimetype = getattr(media, "mime_type", None) or ""
        name = getattr(media, "file_name", None) or ""
        if field == "sticker":
            if media.is_animated:
                extension, mimetype = ".tgs", "application/x-tgsticker"
            elif media.is_video:
                extension, mimetype = ".webm", "video/webm"
        if not mimetype and name:
            mimetype = mimetypes.guess_type(name)[0] or ""
        mimetype = mimetype or default_mimetype
        if not name:
            extension = extension or mimetypes.guess_extension(mimetype) or ""
            name = f"{field}_{media.file_unique_id}{extension}"
        return InboundFile(name=name, mimetype=mimetype, file_ref=media.file_id, size=media.file_size or 0)
    return None


def _button_events(query):
    """A pressed inline button; the chat is the one of the button's message (the user's own without it)."""
    if query.data is None:
        raise UnsupportedEvent("Telegram callback_query without data (games) is not handled")
    message = query.message
    event = InboundEvent(
        kind="button",
        chat_id=str(message.chat.id if message is not None else query.from_user.id),
        sender=sender_profile(query.from_user),
        message_id=str(message.message_id) if message is not None else "",
        button_data=query.data,
        callback_id=str(query.id),
    )
    if message is not None and message.chat.type in GROUP_TYPES:
        event.is_group = True
        topic = getattr(message, "is_topic_message", False) and getattr(message, "message_thread_id", None)
        event.thread = Thread(chat_id=str(message.chat.id), thread_id=str(topic) if topic else "")
    return [event]


def _membership_events(member_update, bot_id):
    """The bot's own membership in a private chat: "kicked" = the user blocked it, "member" = unblocked."""
    if member_update.chat.type != ChatType.PRIVATE:
        raise UnsupportedEvent("Telegram update my_chat_member of a group is not handled")
    member = member_update.new_chat_member
    if bot_id and str(member.user.id) != str(bot_id):
        return []
    status_kinds = {ChatMemberStatus.BANNED: "blocked", ChatMemberStatus.MEMBER: "unblocked"}
    if member.status not in status_kinds:
        raise UnsupportedEvent(
            f"Telegram update my_chat_member with status {_safe_kind(member.status)} is not handled"
        )
    return [
        InboundEvent(
            kind=status_kinds[member.status],
            chat_id=str(member_update.chat.id),
            sender=sender_profile(member_update.from_user),
        )
    ]
